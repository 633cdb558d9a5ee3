//! The promise `adopt` makes about the file it writes: `up` with it only adds mcpctl's tags.
//! Decided on the plan's typed steps (pure); explained with the plan's field differences.

use crate::plan::steps::{ListenerStep, RuleStep, Step, TaskDefinitionStep};
use crate::plan::{Action, Plan};

/// What `up` would do beyond tagging, one line each; empty when it only tags.
pub fn beyond_tags(plan: &Plan) -> Vec<String> {
    let s = &plan.steps;
    let mut untouched_kinds = Vec::new();
    let listener = matches!(s.listener, ListenerStep::Keep { .. }) && s.redirect.is_none();
    let repository = match &s.repository {
        Step::Create => false,
        Step::Update(_, u) => u.only_tags(),
        Step::Keep(_) => true,
    };
    let log_group = match &s.log_group {
        Step::Create => false,
        Step::Update(_, u) => u.only_tags(),
        Step::Keep(_) => true,
    };
    let task_role = match &s.task_role {
        None | Some(Step::Keep(_)) => true,
        Some(Step::Update(_, u)) => u.only_tags(),
        Some(Step::Create) => false,
    };
    let task_definition = matches!(s.task_definition, TaskDefinitionStep::Keep { .. });
    let target_group = match &s.target_group {
        Step::Create => false,
        Step::Update(_, u) => u.only_tags(),
        Step::Keep(_) => true,
    };
    let rule = match &s.rule {
        RuleStep::Create { .. } => false,
        RuleStep::Update { update, .. } => !update.modify(),
        RuleStep::Keep { .. } => true,
        // Joining the production rule at weight 0 changes its actions.
        RuleStep::Attach { .. } => false,
    };
    let service = match &s.service {
        Step::Create => false,
        Step::Update(_, u) => !u.deploys(),
        Step::Keep(_) => true,
    };
    let sc = &s.scaling;
    let scaling = sc.target.is_none()
        && sc.put_policies.is_empty()
        && sc.delete_policies.is_empty()
        && sc.alarm.is_none();
    untouched_kinds.extend([
        scaling,
        listener,
        repository,
        log_group,
        task_role,
        task_definition,
        target_group,
        rule,
        service,
    ]);
    if untouched_kinds.iter().all(|ok| *ok) && plan.problems.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = plan.problems.clone();
    for c in &plan.changes {
        match c.action {
            Action::Unchanged => {}
            Action::Delete => out.push(format!("{} `{}` would be deleted", c.kind.label(), c.name)),
            Action::Create => out.push(format!("{} `{}` would be created", c.kind.label(), c.name)),
            Action::Update => out.extend(
                c.fields
                    .iter()
                    .filter(|f| !f.field.starts_with("tag "))
                    .map(|f| {
                        format!(
                            "{} `{}`: {} is `{}`, the file gives `{}`",
                            c.kind.label(),
                            c.name,
                            f.field,
                            f.from,
                            f.to
                        )
                    }),
            ),
        }
    }
    if out.is_empty() {
        out.push("the plan changes more than tags".to_string());
    }
    out
}
