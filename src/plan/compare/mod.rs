//! The comparison itself: [`plan`] walks the resources in apply order, lists what differs (for
//! people) and decides the step `apply` takes for each (for the machine), from the same typed
//! differences. The per-kind comparisons are in [`super::kinds`].

use super::desired::Desired;
use super::fields::{Diff, Field};
use super::observed::Observed;
use super::scaling::{plan_scaling, ScalingSteps};
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
    let (task_definition, td_changes) = super::kinds::task_definition::compare(&mut w);
    let target_group = super::kinds::target_group::compare(&mut w);
    let rule = w.rule();
    let (service, rule_step) = w.service(td_changes, rule.own, rule.step);
    let scaling = w.scaling();
    super::kinds::task_definition::credential_warnings(&mut w);
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

impl Walk<'_> {
    /// Autoscaling and the rollback alarm.
    fn scaling(&mut self) -> ScalingSteps {
        let (desired, observed) = (self.desired, self.observed);
        let s = &desired.service;
        let scaling = plan_scaling(
            desired.scaling.as_ref(),
            desired.alarm.as_ref(),
            (observed.scaling.as_ref(), observed.alarm.as_ref()),
            &observed.shared.alb.arn,
            observed.target_group.as_ref().map(|t| t.arn.as_str()),
            (&s.cluster, &s.name),
        );
        self.changes.extend(scaling.changes);
        self.warnings.extend(scaling.warnings);
        scaling.steps
    }
}
