//! The shared ALB and its listener: found by name or ARN, never created or deleted — except the
//! listener, which `up` creates (HTTP, or HTTPS with the stack's certificate; fixed 404
//! response) when the port has none, as `05` did, and for HTTPS an HTTP:80 redirect listener.
//! [`find_listener`] and [`all_rules`] are what `cutover`, `rollback` and `cleanup` start from.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum,
};

use super::deploy::Record;
use super::deploy::{Applying, Deploy};
use super::errors::{call_error, code};
use super::listener_rule::{self, ListenerRule};
use super::Clients;
use crate::error::{Error, Result};
use crate::model::AlbListener;
use crate::plan::endpoint::ListenerSpec;
use crate::plan::observed::{Alb, Listener};
use crate::plan::steps::{ListenerStep, RedirectListener};
use crate::plan::{self, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;
use crate::stack::{ListenerProtocol, LoadBalancerRef, TLS_POLICY};

/// Find the ALB. `Ok(None)` when it does not exist.
pub async fn find(c: &Clients, lb: &LoadBalancerRef) -> Result<Option<Alb>> {
    let req = c.elb.describe_load_balancers();
    let req = match lb {
        LoadBalancerRef::Name(n) => req.names(n),
        LoadBalancerRef::Arn(a) => req.load_balancer_arns(a),
    };
    let out = match req.send().await {
        Ok(o) => o,
        Err(e)
            if matches!(
                code(&e),
                Some("LoadBalancerNotFound") | Some("ValidationError")
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(call_error(&format!("load balancer {lb}"), e)),
    };
    Ok(out.load_balancers().first().map(|l| Alb {
        arn: l.load_balancer_arn().unwrap_or_default().to_string(),
        name: l.load_balancer_name().unwrap_or_default().to_string(),
        dns_name: l.dns_name().unwrap_or_default().to_string(),
        vpc_id: l.vpc_id().unwrap_or_default().to_string(),
        subnets: l
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_string))
            .collect(),
        security_groups: l.security_groups().to_vec(),
    }))
}

/// The ALB or a clear error saying how to give it.
pub async fn require(c: &Clients, lb: &LoadBalancerRef) -> Result<Alb> {
    find(c, lb).await?.ok_or_else(|| {
        Error::bad_input(format!(
            "load balancer {lb} was not found in region {}; check `load_balancer.name`/`arn` in the stack and --region/--profile",
            c.region
        ))
    })
}

/// The listener on `port`, if any.
pub async fn listener(c: &Clients, alb_arn: &str, port: u16) -> Result<Option<Listener>> {
    Ok(listeners(c, alb_arn)
        .await?
        .into_iter()
        .find(|l| l.port == port))
}

/// Every listener of the ALB (cleanup looks for rules naming a target group on all of them).
pub async fn listeners(c: &Clients, alb_arn: &str) -> Result<Vec<Listener>> {
    let out = c
        .elb
        .describe_listeners()
        .load_balancer_arn(alb_arn)
        .send()
        .await
        .map_err(|e| call_error(&format!("load balancer {alb_arn}"), e))?;
    Ok(out
        .listeners()
        .iter()
        .map(|l| Listener {
            arn: l.listener_arn().unwrap_or_default().to_string(),
            // AWS answers a port in 1..=65535; anything else matches no stack's port.
            port: l
                .port()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or_default(),
            protocol: l
                .protocol()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            certificates: l
                .certificates()
                .iter()
                .filter_map(|c| c.certificate_arn().map(str::to_string))
                .collect(),
        })
        .collect())
}

/// The listener on `port` ([`listener`]); when it is HTTPS and its default certificate is not
/// `certificate`, the other certificates it serves are read too, so the plan can tell whether
/// the stack's certificate is among them.
pub async fn listener_serving(
    c: &Clients,
    alb_arn: &str,
    port: u16,
    certificate: Option<&str>,
) -> Result<Option<Listener>> {
    let mut found = listener(c, alb_arn, port).await?;
    if let (Some(l), Some(want)) = (found.as_mut(), certificate) {
        if l.protocol.eq_ignore_ascii_case("HTTPS") && !l.certificates.iter().any(|a| a == want) {
            for arn in listener_certificates(c, &l.arn).await? {
                if !l.certificates.contains(&arn) {
                    l.certificates.push(arn);
                }
            }
        }
    }
    Ok(found)
}

/// Every certificate an HTTPS listener serves (`DescribeListenerCertificates`: the default
/// one and those added for SNI), at most a few pages.
pub async fn listener_certificates(c: &Clients, listener_arn: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..10 {
        let page = c
            .elb
            .describe_listener_certificates()
            .listener_arn(listener_arn)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| call_error(&format!("listener {listener_arn}"), e))?;
        out.extend(
            page.certificates()
                .iter()
                .filter_map(|c| c.certificate_arn().map(str::to_string)),
        );
        match page.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

/// Create the stack's listener: HTTP, or HTTPS with its ACM certificate and [`TLS_POLICY`]; the
/// default action is a fixed 404 response (only the stacks' rules route anything).
pub async fn create_listener(c: &Clients, alb_arn: &str, spec: &ListenerSpec) -> Result<Listener> {
    let action = Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code("404")
                .content_type("text/plain")
                .message_body("Not Found")
                .build(),
        )
        .build();
    let mut req = c
        .elb
        .create_listener()
        .load_balancer_arn(alb_arn)
        .port(i32::from(spec.port))
        .default_actions(action);
    req = match (spec.protocol, &spec.certificate_arn) {
        (ListenerProtocol::Https, Some(cert)) => req
            .protocol(ProtocolEnum::Https)
            .ssl_policy(TLS_POLICY)
            .certificates(Certificate::builder().certificate_arn(cert).build()),
        (ListenerProtocol::Https, None) => {
            return Err(Error::bad_input(format!(
                "an HTTPS listener on port {} needs `load_balancer.certificate_arn`",
                spec.port
            )))
        }
        (ListenerProtocol::Http, _) => req.protocol(ProtocolEnum::Http),
    };
    let out = req
        .send()
        .await
        .map_err(|e| call_error(&format!("{} listener on {alb_arn}", spec.label()), e))?;
    created(out.listeners().first(), spec.port, spec.protocol.as_str())
}

/// Create an HTTP listener that answers every request with a 301 to the HTTPS listener
/// (same host, path and query), so `http://` links keep working without serving plain HTTP.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#redirect-actions>
pub async fn create_redirect_listener(c: &Clients, r: &RedirectListener) -> Result<Listener> {
    let action = Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(
            RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port(r.to_port.to_string())
                .host("#{host}")
                .path("/#{path}")
                .query("#{query}")
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build(),
        )
        .build();
    let out = c
        .elb
        .create_listener()
        .load_balancer_arn(&r.alb_arn)
        .protocol(ProtocolEnum::Http)
        .port(i32::from(r.port))
        .default_actions(action)
        .send()
        .await
        .map_err(|e| {
            call_error(
                &format!("HTTP:{} redirect listener on {}", r.port, r.alb_arn),
                e,
            )
        })?;
    created(out.listeners().first(), r.port, "HTTP")
}

fn created(
    l: Option<&aws_sdk_elasticloadbalancingv2::types::Listener>,
    port: u16,
    protocol: &str,
) -> Result<Listener> {
    let arn = l
        .and_then(|l| l.listener_arn())
        .ok_or_else(|| Error::failed("CreateListener returned no listener"))?;
    Ok(Listener {
        arn: arn.to_string(),
        port,
        protocol: protocol.to_string(),
        certificates: l
            .map(|l| {
                l.certificates()
                    .iter()
                    .filter_map(|c| c.certificate_arn().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Check that the cluster exists and is ACTIVE; returns its ARN.
pub async fn cluster(c: &Clients, name: &str) -> Result<Option<String>> {
    let out = c
        .ecs
        .describe_clusters()
        .clusters(name)
        .send()
        .await
        .map_err(|e| call_error(&format!("cluster {name}"), e))?;
    Ok(out
        .clusters()
        .iter()
        .find(|cl| cl.status() == Some("ACTIVE"))
        .and_then(|cl| cl.cluster_arn().map(str::to_string)))
}

/// Find the ALB (by name or ARN) and its listener on `port`. `Ok(None)` when either is missing;
/// the caller says what that means for its command.
pub async fn find_listener(
    c: &Clients,
    lb: &LoadBalancerRef,
    port: u16,
) -> Result<Option<AlbListener>> {
    let Some(alb) = find(c, lb).await? else {
        return Ok(None);
    };
    Ok(listener(c, &alb.arn, port).await?.map(|l| AlbListener {
        load_balancer: alb.name.clone(),
        load_balancer_arn: alb.arn.clone(),
        arn: l.arn,
        port,
    }))
}

/// The rules of every listener of the ALB (empty when the ALB does not exist), each listener's
/// sorted by priority.
pub async fn all_rules(c: &Clients, lb: &LoadBalancerRef) -> Result<Vec<ListenerRule>> {
    let Some(alb) = find(c, lb).await? else {
        return Ok(Vec::new());
    };
    let mut all = Vec::new();
    for l in listeners(c, &alb.arn).await? {
        all.extend(listener_rule::rules(c, &l.arn).await?);
    }
    Ok(all)
}

/// Carry out the plan's step for the stack's listener (create it, or keep it); its ARN.
pub async fn apply_listener(c: &Clients, step: &ListenerStep, rec: &mut Record) -> Result<String> {
    Ok(match step {
        ListenerStep::Keep { arn } => arn.clone(),
        ListenerStep::Create { alb_arn, listener } => {
            let l = create_listener(c, alb_arn, listener).await?;
            rec.add(
                Kind::Listener,
                plan::Action::Create,
                &listener.label(),
                &l.arn,
            );
            l.arn
        }
    })
}

/// Create the HTTP-to-HTTPS redirect listener, when the plan says so.
pub async fn apply_redirect(
    c: &Clients,
    redirect: Option<&RedirectListener>,
    rec: &mut Record,
) -> Result<()> {
    if let Some(redirect) = redirect {
        let l = create_redirect_listener(c, redirect).await?;
        rec.add(
            Kind::RedirectListener,
            plan::Action::Create,
            &format!("HTTP:{}", redirect.port),
            &l.arn,
        );
    }
    Ok(())
}

/// Observed with the shared resources (the listener on the stack's port, and port 80's).
impl Deploy for crate::plan::endpoint::Listeners {
    async fn observe(_: &Clients, _: &Stack, _: &Observed) -> Result<()> {
        Ok(())
    }

    async fn apply(run: &mut Applying<'_>, _: &Desired, steps: &Steps) -> Result<()> {
        let (own, redirect) = (&steps.listener.own, steps.listener.redirect.as_ref());
        run.listener_arn = apply_listener(run.c, own, &mut run.rec).await?;
        apply_redirect(run.c, redirect, &mut run.rec).await
    }
}
