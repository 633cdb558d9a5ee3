//! The plan as text for people.

use super::{Action, Plan};

/// Render a plan: one line per resource, changed fields indented under it.
pub fn render_text(plan: &Plan) -> String {
    let mut out = format!("Plan for stack `{}`:\n", plan.stack);
    for c in &plan.changes {
        let mark = match c.action {
            Action::Create => "+ create   ",
            Action::Update => "~ update   ",
            Action::Unchanged => "  unchanged",
            Action::Delete => "- delete   ",
        };
        let adopt = if c.adopt && c.action != Action::Create {
            " (adopt: made by hand, no mcpctl tag)"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {mark} {:<16} {}{adopt}",
            c.kind.label(),
            c.name
        ));
        if let Some(n) = &c.note {
            out.push_str(&format!("  [{n}]"));
        }
        out.push('\n');
        for f in &c.fields {
            out.push_str(&format!("        {}: {} -> {}\n", f.field, f.from, f.to));
        }
    }
    for w in &plan.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for p in &plan.problems {
        out.push_str(&format!("problem: {p}\n"));
    }
    let n = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .count();
    if plan.is_noop() {
        out.push_str("No changes.\n");
    } else {
        out.push_str(&format!("{n} resource(s) to create or update.\n"));
    }
    out
}
