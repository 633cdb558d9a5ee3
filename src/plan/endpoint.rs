//! The listeners a stack is served on, planned purely: the stack's listener (HTTP, or HTTPS with
//! its ACM certificate and [`TLS_POLICY`]), and for HTTPS an HTTP:80 listener that redirects to
//! it when the ALB has none on port 80. Also the names clients use (the stack's
//! `domain_names`, else the certificate's) and the URL the OAuth metadata names.

use serde::Serialize;

use super::compare::Walk;
use super::kinds::{Inputs, Resource};
use super::observed::Listener;
use super::steps::{ListenerStep, RedirectListener};
use super::{Action, Change, Desired, Kind, Observed};
use crate::stack::{ListenerProtocol, Stack, TLS_POLICY};

/// The port an HTTP-to-HTTPS redirect listener takes.
pub const HTTP_PORT: u16 = 80;

/// The stack's listener as wanted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerSpec {
    /// Port.
    pub port: u16,
    /// HTTP or HTTPS.
    pub protocol: ListenerProtocol,
    /// The ACM certificate (HTTPS).
    pub certificate_arn: Option<String>,
}

impl ListenerSpec {
    /// From the stack.
    pub fn of(stack: &Stack) -> ListenerSpec {
        ListenerSpec {
            port: stack.load_balancer.listener_port,
            protocol: stack.load_balancer.listener_protocol,
            certificate_arn: stack.load_balancer.certificate_arn.clone(),
        }
    }

    /// `HTTPS:443`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.protocol, self.port)
    }

    /// True when an HTTP:80 listener should redirect to this one.
    pub fn wants_redirect(&self) -> bool {
        self.protocol == ListenerProtocol::Https && self.port != HTTP_PORT
    }
}

/// An ACM certificate as observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Certificate {
    /// ARN.
    pub arn: String,
    /// `ISSUED`, `PENDING_VALIDATION`, `EXPIRED`, ...
    pub status: String,
    /// Its domain name and subject alternative names, lowercase, in ACM's order.
    pub domain_names: Vec<String>,
}

/// The names clients use: the stack's `domain_names`, else the certificate's names without
/// wildcards (`*.example.com` names no host a client sends).
pub fn client_domains(stack: &Stack, certificate: Option<&Certificate>) -> Vec<String> {
    if !stack.load_balancer.domain_names.is_empty() {
        return stack.load_balancer.domain_names.clone();
    }
    certificate
        .map(|c| {
            c.domain_names
                .iter()
                .filter(|n| !n.contains('*'))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The preflight problem of an HTTPS stack whose certificate names only wildcards
/// (`*.example.com`) and that names no `domain_names`: clients would be pointed at the ALB's DNS
/// name, which the certificate does not cover (their TLS check fails), and the server's
/// `MCP_ALLOWED_HOSTS` and OAuth resource URL would name it too. `None` otherwise.
pub fn wildcard_only(stack: &Stack, certificate: Option<&Certificate>) -> Option<String> {
    let c = certificate?;
    let wildcard_only =
        !c.domain_names.is_empty() && c.domain_names.iter().all(|n| n.contains('*'));
    if stack.load_balancer.listener_protocol != ListenerProtocol::Https
        || !stack.load_balancer.domain_names.is_empty()
        || !wildcard_only
    {
        return None;
    }
    let example = c.domain_names[0].replacen('*', "mcp", 1);
    Some(format!(
        "ACM certificate {} names only wildcard names ({}), so clients would be sent to the load balancer's DNS name, which the certificate does not cover; set `load_balancer.domain_names: [{example}]` in stack {} to the name clients use (one the wildcard covers, with a DNS record for the ALB)",
        c.arn,
        c.domain_names.join(", "),
        stack.name
    ))
}

/// `scheme://host[:port]` for clients: the first of `domains`, else `dns_name`.
pub fn origin(listener: &ListenerSpec, domains: &[String], dns_name: &str) -> String {
    let host = domains.first().map(String::as_str).unwrap_or(dns_name);
    let scheme = listener.protocol.scheme();
    if listener.port == listener.protocol.default_port() {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}:{}", listener.port)
    }
}

/// An existing HTTPS listener that does not serve the stack's certificate: clients of the
/// stack's names would get another certificate. mcpctl does not change a listener it did not
/// create, so it says how to add the certificate (`AddListenerCertificates`) or which to name.
fn foreign_certificate(want: &ListenerSpec, l: &Listener, alb: &str) -> Option<String> {
    let cert = want.certificate_arn.as_ref()?;
    if want.protocol != ListenerProtocol::Https
        || !l.protocol.eq_ignore_ascii_case("HTTPS")
        || l.certificates.contains(cert)
    {
        return None;
    }
    Some(format!(
        "the HTTPS:{} listener of {alb} already exists and serves {}, not the stack's certificate {cert}; add it to the listener (`aws elbv2 add-listener-certificates --listener-arn {} --certificates CertificateArn={cert}`), or set `load_balancer.certificate_arn` to one it serves",
        l.port,
        if l.certificates.is_empty() {
            "no certificate".to_string()
        } else {
            l.certificates.join(", ")
        },
        l.arn
    ))
}

/// A new HTTPS listener's port must be open in the ALB's security groups, which mcpctl neither reads
/// nor changes (that would take the EC2 API and its permissions): the check to run, with the
/// groups and the port filled in.
fn security_group_check(want: &ListenerSpec, groups: &[String]) -> Option<String> {
    if groups.is_empty() || want.protocol != ListenerProtocol::Https {
        return None;
    }
    Some(format!(
        "the new {} listener needs inbound TCP {} in the load balancer's security groups ({}); check with `aws ec2 describe-security-groups --group-ids {} --query 'SecurityGroups[].IpPermissions[?ToPort==`{}`]'` and add a rule if it is missing",
        want.label(),
        want.port,
        groups.join(", "),
        groups.join(" "),
        want.port
    ))
}

/// What the plan does about the listeners.
pub(super) struct ListenerPlan {
    /// The listener row, then the redirect row (HTTPS only).
    pub changes: Vec<Change>,
    /// The stack's listener.
    pub step: ListenerStep,
    /// The redirect listener to create, if any.
    pub redirect: Option<RedirectListener>,
    /// What stops `up`.
    pub problems: Vec<String>,
    /// What to check by hand.
    pub warnings: Vec<String>,
}

fn row(kind: Kind, name: String, exists: bool, note: Option<String>) -> Change {
    Change {
        kind,
        name,
        action: if exists {
            Action::Unchanged
        } else {
            Action::Create
        },
        fields: Vec::new(),
        adopt: false,
        note,
    }
}

/// Plan the listeners (pure).
pub(super) fn plan_listeners(desired: &Desired, observed: &Observed) -> ListenerPlan {
    let want = &desired.listener;
    let shared = &observed.shared;
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut changes = Vec::new();
    let step = match &shared.listener {
        Some(l) => {
            if !l.protocol.eq_ignore_ascii_case(want.protocol.as_str()) {
                problems.push(format!(
                    "the listener on port {} of {} is {}, and the stack asks for {}; set `load_balancer.listener_protocol: {}` or give another `listener_port`",
                    want.port, shared.alb.name, l.protocol, want.protocol, l.protocol
                ));
            }
            if let Some(p) = foreign_certificate(want, l, &shared.alb.name) {
                problems.push(p);
            }
            changes.push(row(Kind::Listener, want.label(), true, None));
            ListenerStep::Keep { arn: l.arn.clone() }
        }
        None => {
            let note = match (&want.protocol, &want.certificate_arn) {
                (ListenerProtocol::Https, Some(arn)) => {
                    match &shared.certificate {
                        None => problems.push(format!(
                            "ACM certificate {arn} was not found in this region; request or import it in ACM in the ALB's region, or fix `load_balancer.certificate_arn`"
                        )),
                        Some(c) if c.status != "ISSUED" => problems.push(format!(
                            "ACM certificate {arn} is {}, not ISSUED; an HTTPS listener needs an issued certificate (complete its DNS validation, then run again)",
                            c.status
                        )),
                        Some(_) => {}
                    }
                    format!("certificate {arn}, TLS policy {TLS_POLICY}, default action: fixed 404 response")
                }
                _ => "default action: fixed 404 response".to_string(),
            };
            changes.push(row(Kind::Listener, want.label(), false, Some(note)));
            warnings.extend(security_group_check(want, &shared.alb.security_groups));
            ListenerStep::Create {
                alb_arn: shared.alb.arn.clone(),
                listener: want.clone(),
            }
        }
    };
    let mut redirect = None;
    if want.wants_redirect() {
        let exists = shared.http_listener.is_some();
        let note = if exists {
            Some("the ALB already listens on port 80; left as it is".to_string())
        } else {
            Some(format!(
                "redirects every request to HTTPS:{} (301)",
                want.port
            ))
        };
        changes.push(row(
            Kind::RedirectListener,
            format!("HTTP:{HTTP_PORT}"),
            exists,
            note,
        ));
        if !exists {
            redirect = Some(RedirectListener {
                alb_arn: shared.alb.arn.clone(),
                port: HTTP_PORT,
                to_port: want.port,
            });
        }
    }
    ListenerPlan {
        changes,
        step,
        redirect,
        problems,
        warnings,
    }
}

/// The stack's listener and, for HTTPS, the HTTP:80 redirect to it, as a resource kind
/// (observed with the shared resources: [`crate::plan::observed::Shared`]).
pub struct Listeners;

/// What `apply` does about the listeners.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerSteps {
    /// The stack's listener.
    pub own: ListenerStep,
    /// The HTTP-to-HTTPS redirect listener to create, if any.
    pub redirect: Option<RedirectListener>,
}

impl Resource for Listeners {
    type Spec = ListenerSpec;
    type Observed = ();
    type Step = ListenerSteps;

    fn desired(from: &Inputs<'_>) -> ListenerSpec {
        ListenerSpec::of(from.stack)
    }

    fn compare(w: &mut Walk<'_>) -> ListenerSteps {
        let listeners = plan_listeners(w.desired, w.observed);
        w.changes.extend(listeners.changes);
        w.problems.extend(listeners.problems);
        w.warnings.extend(listeners.warnings);
        ListenerSteps {
            own: listeners.step,
            redirect: listeners.redirect,
        }
    }

    fn only_tags(step: &ListenerSteps) -> bool {
        matches!(step.own, ListenerStep::Keep { .. }) && step.redirect.is_none()
    }
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
