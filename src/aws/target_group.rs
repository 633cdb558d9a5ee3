//! The stack's target group: ip targets on the container port, health check from the stack,
//! short deregistration delay. Found by name (moto and AWS both reject creating a second one
//! with the same name, so it is always described first).

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, Tag, TargetGroup, TargetGroupAttribute, TargetTypeEnum,
};

use super::deploy::Record;
use super::deploy::{Applying, Deploy};
use super::errors::{call_error, code};
use super::{Clients, Tags};
use crate::error::{Error, Result};
use crate::plan::desired::TargetGroupSpec;
use crate::plan::observed::ObservedTargetGroup;
use crate::plan::steps::{Step, TargetGroupUpdate};
use crate::plan::{Action, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

/// Tags of ELB resources (rules, target groups), up to 20 ARNs per call.
pub async fn tags_of(c: &Clients, arns: &[String]) -> Result<Vec<(String, Tags)>> {
    let mut out = Vec::new();
    for chunk in arns.chunks(20) {
        let res = c
            .elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| call_error(&chunk.join(", "), e))?;
        for d in res.tag_descriptions() {
            let tags = d
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            out.push((d.resource_arn().unwrap_or_default().to_string(), tags));
        }
    }
    Ok(out)
}

/// ELB tags from pairs.
pub fn elb_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The target group named `name` exactly as `DescribeTargetGroups` returns it; `None` when
/// there is none. Every lookup by name (`up`, `cutover`, `cleanup`'s archive) goes through here.
pub async fn describe_by_name(c: &Clients, name: &str) -> Result<Option<TargetGroup>> {
    match c.elb.describe_target_groups().names(name).send().await {
        Ok(out) => Ok(out.target_groups().first().cloned()),
        Err(e) if code(&e) == Some("TargetGroupNotFound") => Ok(None),
        Err(e) => Err(call_error(&format!("target group {name}"), e)),
    }
}

/// The ARN of the target group named `name` (looked up by [`describe_by_name`]); `None` when
/// there is none.
pub async fn arn_by_name(c: &Clients, name: &str) -> Result<Option<String>> {
    Ok(describe_by_name(c, name)
        .await?
        .and_then(|t| t.target_group_arn().map(str::to_string)))
}

/// Name → ARN for those of `names` that exist now (each looked up by [`describe_by_name`]).
pub async fn arns_by_name(c: &Clients, names: &[&str]) -> Result<HashMap<String, String>> {
    let mut map = HashMap::new();
    for name in names {
        if let Some(arn) = arn_by_name(c, name).await? {
            map.insert(name.to_string(), arn);
        }
    }
    Ok(map)
}

/// The load balancers the target group `name` is attached to (`adopt` follows them to the
/// listener rule); empty when the group does not exist.
pub async fn load_balancer_arns(c: &Clients, name: &str) -> Result<Vec<String>> {
    Ok(describe_by_name(c, name)
        .await?
        .map(|t| t.load_balancer_arns().to_vec())
        .unwrap_or_default())
}

/// Observe the target group `name`.
pub async fn observe(c: &Clients, name: &str) -> Result<Option<ObservedTargetGroup>> {
    let Some(tg) = describe_by_name(c, name).await? else {
        return Ok(None);
    };
    let arn = tg.target_group_arn().unwrap_or_default().to_string();
    let attrs = c
        .elb
        .describe_target_group_attributes()
        .target_group_arn(&arn)
        .send()
        .await
        .map_err(|e| call_error(&format!("target group {name}"), e))?;
    let delay = attrs
        .attributes()
        .iter()
        .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
        .and_then(|a| a.value())
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let tags = tags_of(c, std::slice::from_ref(&arn))
        .await?
        .into_iter()
        .next()
        .map(|t| t.1)
        .unwrap_or_default();
    Ok(Some(ObservedTargetGroup {
        arn,
        protocol: tg
            .protocol()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        target_type: tg
            .target_type()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        spec: TargetGroupSpec {
            name: name.to_string(),
            port: tg.port().unwrap_or_default(),
            vpc_id: tg.vpc_id().unwrap_or_default().to_string(),
            health_check_path: tg.health_check_path().unwrap_or("/").to_string(),
            interval: tg.health_check_interval_seconds().unwrap_or(30),
            timeout: tg.health_check_timeout_seconds().unwrap_or(5),
            healthy_threshold: tg.healthy_threshold_count().unwrap_or(5),
            unhealthy_threshold: tg.unhealthy_threshold_count().unwrap_or(2),
            matcher: tg
                .matcher()
                .and_then(|m| m.http_code())
                .unwrap_or("200")
                .to_string(),
            deregistration_delay: delay,
            tags: tags.clone(),
        },
        tags,
    }))
}

/// Create the target group; returns its ARN.
pub async fn create(c: &Clients, s: &TargetGroupSpec) -> Result<String> {
    let out = c
        .elb
        .create_target_group()
        .name(&s.name)
        .protocol(ProtocolEnum::Http)
        .port(s.port)
        .vpc_id(&s.vpc_id)
        .target_type(TargetTypeEnum::Ip)
        .health_check_enabled(true)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_port("traffic-port")
        .health_check_path(&s.health_check_path)
        .health_check_interval_seconds(s.interval)
        .health_check_timeout_seconds(s.timeout)
        .healthy_threshold_count(s.healthy_threshold)
        .unhealthy_threshold_count(s.unhealthy_threshold)
        .matcher(Matcher::builder().http_code(&s.matcher).build())
        .set_tags(Some(elb_tags(&s.tags)))
        .send()
        .await
        .map_err(|e| call_error(&format!("target group {}", s.name), e))?;
    let arn = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .ok_or_else(|| Error::failed("CreateTargetGroup returned no target group"))?
        .to_string();
    set_delay(c, &arn, s).await?;
    Ok(arn)
}

async fn set_delay(c: &Clients, arn: &str, s: &TargetGroupSpec) -> Result<()> {
    c.elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value(s.deregistration_delay.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(|e| call_error(&format!("target group {}", s.name), e))?;
    Ok(())
}

/// Apply an update: only the calls for the fields that changed.
pub async fn update(
    c: &Clients,
    arn: &str,
    s: &TargetGroupSpec,
    update: &TargetGroupUpdate,
) -> Result<()> {
    if update.health_check {
        c.elb
            .modify_target_group()
            .target_group_arn(arn)
            .health_check_path(&s.health_check_path)
            .health_check_interval_seconds(s.interval)
            .health_check_timeout_seconds(s.timeout)
            .healthy_threshold_count(s.healthy_threshold)
            .unhealthy_threshold_count(s.unhealthy_threshold)
            .matcher(Matcher::builder().http_code(&s.matcher).build())
            .send()
            .await
            .map_err(|e| call_error(&format!("target group {}", s.name), e))?;
    }
    if update.deregistration_delay {
        set_delay(c, arn, s).await?;
    }
    if update.tags {
        add_tags(c, arn, &s.tags, &format!("target group {}", s.name)).await?;
    }
    Ok(())
}

/// Add (or overwrite) tags on an ELB resource.
pub async fn add_tags(c: &Clients, arn: &str, tags: &[(String, String)], what: &str) -> Result<()> {
    c.elb
        .add_tags()
        .resource_arns(arn)
        .set_tags(Some(elb_tags(tags)))
        .send()
        .await
        .map_err(|e| call_error(what, e))?;
    Ok(())
}

pub use crate::model::health::{HealthCount, TargetHealth};

/// Count the healthy targets of a target group (`DescribeTargetHealth`).
pub async fn health_count(c: &Clients, arn: &str) -> Result<HealthCount> {
    Ok(HealthCount::of(&health(c, arn).await?))
}

/// Health of every target in the group.
pub async fn health(c: &Clients, arn: &str) -> Result<Vec<TargetHealth>> {
    let out = c
        .elb
        .describe_target_health()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| call_error(&format!("target group {arn}"), e))?;
    Ok(out
        .target_health_descriptions()
        .iter()
        .map(|d| TargetHealth {
            id: d
                .target()
                .and_then(|t| t.id())
                .unwrap_or_default()
                .to_string(),
            port: d.target().and_then(|t| t.port()),
            state: d
                .target_health()
                .and_then(|h| h.state())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: d
                .target_health()
                .and_then(|h| h.description())
                .map(str::to_string),
        })
        .collect())
}

/// Delete the target group `arn` (`cleanup`; no rule may name it any more). Already gone counts
/// as done.
pub async fn delete(c: &Clients, arn: &str, name: &str) -> Result<()> {
    match c
        .elb
        .delete_target_group()
        .target_group_arn(arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some("TargetGroupNotFound") => Ok(()),
        Err(e) => Err(call_error(&format!("target group {name}"), e)),
    }
}

/// Carry out the plan's step for the target group (create, update or keep); its ARN.
pub async fn apply(
    c: &Clients,
    tg: &TargetGroupSpec,
    step: &Step<String, TargetGroupUpdate>,
    rec: &mut Record,
) -> Result<String> {
    Ok(match step {
        Step::Create => {
            let arn = create(c, tg).await?;
            rec.add(Kind::TargetGroup, Action::Create, &tg.name, &arn);
            arn
        }
        Step::Update(arn, update) => {
            self::update(c, arn, tg, update).await?;
            rec.add(Kind::TargetGroup, Action::Update, &tg.name, arn);
            arn.clone()
        }
        Step::Keep(arn) => arn.clone(),
    })
}

impl Deploy for crate::plan::kinds::target_group::TargetGroup {
    async fn observe(c: &Clients, stack: &Stack, _: &Observed) -> Result<Self::Observed> {
        observe(c, &stack.names.target_group).await
    }

    async fn apply(run: &mut Applying<'_>, d: &Desired, steps: &Steps) -> Result<()> {
        run.tg_arn = apply(run.c, &d.target_group, &steps.target_group, &mut run.rec).await?;
        Ok(())
    }
}
