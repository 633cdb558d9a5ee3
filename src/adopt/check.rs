//! The promise `adopt` makes about the file it writes: `up` with it only adds mcpctl's tags.
//! Decided on the plan's typed steps (pure, [`crate::plan::Steps::only_tags`]); explained with
//! the plan's field differences.

use crate::plan::{Action, Plan};

/// What `up` would do beyond tagging, one line each; empty when it only tags.
pub fn beyond_tags(plan: &Plan) -> Vec<String> {
    if plan.steps.only_tags() && plan.problems.is_empty() {
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
