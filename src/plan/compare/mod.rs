//! The comparison itself: [`plan`] walks the resources in apply order, lists what differs (for
//! people) and decides the step `apply` takes for each (for the machine), from the same typed
//! differences. The per-kind comparisons are in [`super::kinds`], in the order of the one list.

use super::fields::{Diff, Field};
use super::observed::ListenerRule;
use super::{Action, Change, Desired, Kind, Observed, Plan, Steps};
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

/// The plan: pure comparison of `desired` with `observed`, kind by kind in the order of the
/// one list (`plan::resources!`).
pub fn plan(desired: &Desired, observed: &Observed) -> Plan {
    let mut w = Walk {
        desired,
        observed,
        stack: desired.stack.as_str(),
        changes: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
        new_task_definition: false,
        own_rule: None,
        rule_priority: None,
    };
    let steps = Steps::decide(&mut w);
    Plan {
        stack: w.stack.to_string(),
        changes: w.changes,
        problems: w.problems,
        warnings: w.warnings,
        rule_priority: w.rule_priority,
        rule_arn: w.own_rule.map(|r| r.arn.clone()),
        steps,
    }
}

/// The comparison under way: what is wanted and what exists, what has been found so far
/// (changes in order, problems, warnings), and what one kind decided that a later one reads.
/// Each kind adds its part and returns its step ([`super::kinds::Resource::compare`]).
pub struct Walk<'a> {
    /// What the stack wants.
    pub desired: &'a Desired,
    /// What exists.
    pub observed: &'a Observed,
    /// The stack's name.
    pub stack: &'a str,
    /// The changes so far, in order.
    pub changes: Vec<Change>,
    /// Problems that stop `up`.
    pub problems: Vec<String>,
    /// Things worth knowing.
    pub warnings: Vec<String>,
    /// True when a new task definition revision is registered (the service deploys it).
    pub new_task_definition: bool,
    /// The stack's listener rule, when it exists.
    pub own_rule: Option<&'a ListenerRule>,
    /// The priority the rule has or will get.
    pub rule_priority: Option<i32>,
}
