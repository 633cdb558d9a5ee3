//! What a progressive cutover starts from, read from AWS before anything changes: the
//! progressive record to resume (checked against `--to`), the `--to` stack's own route for the
//! MCP probe, and the first step's routing and calls (for `--dry-run`).

use super::bake::now_secs;
use super::rollout::RolloutSpec;
use crate::aws::Clients;
use crate::cutover::apply::step::{self, production_rule, Step};
use crate::cutover::decide::progress::{Progress, PROGRESS_TAG};
use crate::error::{Error, Result};
use crate::probe::endpoint::parse_url;
use crate::stack::Stack;

/// The progressive cutover recorded on the production rule, checked against `--to`.
pub async fn recorded(aws: &Clients, from: &Stack, to: &Stack, region: &str) -> Result<Progress> {
    let (_, rule) = production_rule(aws, from, region).await?;
    let value = rule.tag(PROGRESS_TAG).ok_or_else(|| {
        Error::refused(format!(
            "nothing to resume: {} carries no progressive cutover record (tag {PROGRESS_TAG}); it completed, was rolled back, or never began; start one with `mcpctl cutover --steps ...`",
            rule.label()
        ))
    })?;
    let p = Progress::decode(value).map_err(|e| Error::refused(e.0))?;
    if p.to != to.names.target_group {
        return Err(Error::bad_input(format!(
            "the recorded progressive cutover moves traffic to target group {}, not {} (stack {}): pass --to with the stack whose target group is {}",
            p.to, to.names.target_group, to.name, p.to
        )));
    }
    Ok(p)
}

/// The `--to` stack's own route on the load balancer: the production host name (the ALB's DNS
/// name, or the certificate's domain over HTTPS) with the `--to` stack's MCP path, which its own
/// listener rule sends to its target group alone. The probe then judges the stack receiving the
/// traffic, not the one being retired: on the production path a step's requests land on both
/// stacks, and the old stateful replicas answer "Session not found" to a session made on
/// another replica — the bug the migration moves away from.
pub async fn to_stack_url(aws: &Clients, to: &Stack) -> Result<reqwest::Url> {
    let endpoint = crate::probe::alb::endpoint(aws, to).await.map_err(|e| {
        Error::refused(format!(
            "cannot find stack {}'s own route on the load balancer to probe it ({e:#}); deploy it with `mcpctl up --stack {}`, or pass --probe-url URL (or --no-probe)",
            to.name, to.name
        ))
    })?;
    if endpoint.routed_to != [to.names.target_group.clone()] {
        return Err(Error::refused(format!(
            "the rule for {} sends traffic to {}, not to target group {} of stack {} alone, so a probe there would not judge stack {}; pass --probe-url URL (or --no-probe)",
            endpoint.mcp_url,
            if endpoint.routed_to.is_empty() { "nothing".to_string() } else { endpoint.routed_to.join(", ") },
            to.names.target_group,
            to.name,
            to.name
        )));
    }
    parse_url(&endpoint.mcp_url).map_err(|e| {
        Error::bad_input(format!(
            "stack {}'s URL {} cannot be probed ({e}); pass --probe-url or --no-probe",
            to.name, endpoint.mcp_url
        ))
    })
}

/// The first step of `spec` (the resumed one with `--resume`), prepared and not applied: its
/// routing before/after and its exact calls, with the progressive record it would write.
pub async fn first_step(
    aws: &Clients,
    spec: &RolloutSpec,
    from: &Stack,
    to: &Stack,
    region: &str,
) -> Result<Step> {
    let first = spec.resume.as_ref().map_or(0, |p| p.step);
    let progress = Progress {
        to: to.names.target_group.clone(),
        steps: spec.steps.clone(),
        step: first,
        since: now_secs(),
        bake: spec.bake.as_secs(),
    };
    step::prepare(
        aws,
        from,
        to,
        region,
        spec.steps[first],
        spec.force,
        Some(progress.encode()),
    )
    .await
}
