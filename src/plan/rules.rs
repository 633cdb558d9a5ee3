//! Listener rule decisions: which rule is the stack's own, and which priority a new one gets.

use super::desired::ListenerRuleSpec;
use super::observed::ListenerRule;

/// The preferred priority if free, else the next free one above it (as `05-*.sh` did); without
/// a preference, the next one above the highest in use.
pub fn choose_priority(preferred: Option<i32>, used: &[i32]) -> i32 {
    let start = preferred.unwrap_or_else(|| used.iter().copied().max().map_or(1, |m| m + 1));
    (start..=50000)
        .find(|p| !used.contains(p))
        .or_else(|| (1..start).rev().find(|p| !used.contains(p)))
        .unwrap_or(start)
}

fn same_paths(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// The stack's own rule among `rules` (sorted by priority): the rule with exactly the stack's
/// path patterns; failing that (the patterns were edited), a rule tagged for the stack that
/// forwards only to the stack's target group. A re-run finds it instead of adding another.
pub fn find_own_rule<'a>(
    rules: &'a [ListenerRule],
    want: &ListenerRuleSpec,
    tg_arn: Option<&str>,
    stack: &str,
) -> Option<&'a ListenerRule> {
    rules
        .iter()
        .filter(|r| r.priority.is_some())
        .find(|r| same_paths(&r.path_patterns, &want.path_patterns))
        .or_else(|| {
            rules.iter().filter(|r| r.priority.is_some()).find(|r| {
                crate::stack::tagged_for(&r.tags, stack)
                    && !r.routed_by_cutover()
                    && tg_arn.is_some()
                    && forwards_only_to(r, tg_arn)
            })
        })
}

/// True when the rule's only forward target is `tg_arn` (one forward action, one group).
fn forwards_only_to(rule: &ListenerRule, tg_arn: Option<&str>) -> bool {
    match rule.forwards().as_slice() {
        [f] => match f.groups.as_slice() {
            [g] => Some(g.arn.as_str()) == tg_arn,
            _ => false,
        },
        _ => false,
    }
}
