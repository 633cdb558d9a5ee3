//! The comparison itself: [`plan`] walks the resources in apply order, lists what differs (for
//! people) and decides the step `apply` takes for each (for the machine), from the same typed
//! differences. The per-kind comparisons are in [`kinds`] and [`service`].

mod kinds;
mod service;

use super::desired::Desired;
use super::fields::{Diff, Field};
use super::observed::Observed;
use super::steps::Steps;
use super::{Action, Change, Kind, Plan};
use crate::stack::stack_tag;

/// One resource's [`Change`] from its field differences (`adopt`: it exists untagged).
pub(in crate::plan) fn change<F: Field>(
    kind: Kind,
    name: &str,
    exists: bool,
    fields: &[Diff<F>],
    adopt: bool,
) -> Change {
    let action = match (exists, fields.is_empty()) {
        (false, _) => Action::Create,
        (true, true) => Action::Unchanged,
        (true, false) => Action::Update,
    };
    Change {
        kind,
        name: name.to_string(),
        action,
        fields: if exists {
            fields.iter().map(Diff::shown).collect()
        } else {
            Vec::new()
        },
        adopt,
        note: None,
    }
}

pub(in crate::plan) fn owner_problem(
    kind: Kind,
    name: &str,
    tags: &[(String, String)],
    stack: &str,
    key: &str,
) -> Option<String> {
    match stack_tag(tags) {
        Some(other) if other != stack => Some(format!(
            "{} `{name}` belongs to stack `{other}` (tag mcpctl:stack={other}); give stack `{stack}` its own `names.{key}`",
            kind.label()
        )),
        _ => None,
    }
}

/// True for an ECS service ARN in the short format (`service/NAME`, from before the long
/// `service/CLUSTER/NAME` format).
pub fn is_short_service_arn(arn: &str) -> bool {
    arn.split_once(":service/")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains('/'))
}

/// A service with a short ARN cannot be tagged ("If you try to tag a service with a short ARN,
/// you receive an InvalidParameterException",
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TagResource.html>), and
/// mcpctl marks what it manages with tags: when the plan would tag it, stop before any call.
fn short_arn_problem(
    name: &str,
    arn: &str,
    want: &[(String, String)],
    have: &[(String, String)],
) -> Option<String> {
    if !is_short_service_arn(arn) || want.iter().all(|t| have.contains(t)) {
        return None;
    }
    Some(format!(
        "ECS service `{name}` has a short ARN ({arn}), from before ECS's long ARN format, and ECS refuses to tag such a service (TagResource: InvalidParameterException), while mcpctl marks what it manages with tags; opt the account in with `aws ecs put-account-setting --name serviceLongArnFormat --value enabled` and recreate the service, or deploy the stack beside it under another `names.service`; nothing was tagged"
    ))
}

/// Words in an env name that suggest a credential.
const CREDENTIAL_WORDS: [&str; 4] = ["PASSWORD", "SECRET", "TOKEN", "KEY"];

/// The plan: pure comparison of `desired` with `observed`, resource by resource in apply order.
pub fn plan(desired: &Desired, observed: &Observed) -> Plan {
    let mut w = Walk {
        desired,
        observed,
        stack: desired.stack.as_str(),
        changes: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    // Listeners (the stack's, and for HTTPS the HTTP:80 redirect).
    let listeners = super::endpoint::plan_listeners(desired, observed);
    w.changes.extend(listeners.changes);
    w.problems.extend(listeners.problems);
    w.warnings.extend(listeners.warnings);
    let repository = super::kinds::repository::compare(&mut w);
    let log_group = super::kinds::log_group::compare(&mut w);
    let task_role = super::kinds::task_role::compare(&mut w);
    let (task_definition, td_changes) = w.task_definition();
    let target_group = super::kinds::target_group::compare(&mut w);
    let rule = w.rule();
    let (service, rule_step) = w.service(td_changes, rule.own, rule.step);
    let scaling = w.scaling();
    w.credential_warnings();
    Plan {
        stack: w.stack.to_string(),
        changes: w.changes,
        problems: w.problems,
        warnings: w.warnings,
        rule_priority: rule.priority,
        rule_arn: rule.own.map(|r| r.arn.clone()),
        steps: Steps {
            listener: listeners.step,
            redirect: listeners.redirect,
            repository,
            log_group,
            task_role,
            task_definition,
            target_group,
            rule: rule_step,
            service,
            scaling,
        },
    }
}

/// The comparison under way: what is wanted and what exists, and what has been found so far
/// (changes in apply order, problems, warnings). Each resource kind adds its part and returns
/// the step `apply` takes for it ([`kinds`]).
pub(in crate::plan) struct Walk<'a> {
    /// What the stack wants.
    pub desired: &'a Desired,
    /// What exists.
    pub observed: &'a Observed,
    /// The stack's name.
    pub stack: &'a str,
    /// The changes so far, in apply order.
    pub changes: Vec<Change>,
    /// Problems that stop `up`.
    pub problems: Vec<String>,
    /// Things worth knowing.
    pub warnings: Vec<String>,
}
