//! What `cleanup` does with each listener rule before it deletes a stack's target group — a pure
//! decision from the rules as observed:
//!
//! * a rule the stack owns that forwards only to the stack's group is deleted;
//! * a rule the stack owns that now forwards to another stack (after a full cutover) is kept and
//!   handed over: its `mcpctl:stack` tag names the stack that now gets its traffic, so
//!   `/ossserver/*` keeps working after the old stack is gone;
//! * a rule of another stack that lists the group with weight 0 loses that entry (ALB refuses to
//!   delete a target group a rule still names);
//! * any rule still sending requests (weight > 0) to the group stops the cleanup, unless forced.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::forward::{target_group_name, Forward, Spelling};
use crate::model::ListenerRule;
use crate::stack::STACK_TAG;

/// What happens to one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "fate")]
pub enum RuleFate {
    /// Delete the rule (it belongs to the stack and serves only the stack).
    Delete,
    /// Keep the rule for the stack that now receives its traffic.
    HandOver {
        /// The stack named in the new `mcpctl:stack` tag.
        to_stack: String,
        /// The rule's new routing when the stack's group must leave it (weight 0 or forced).
        forward: Option<Forward>,
    },
    /// Another stack's rule: remove the stack's group from its forward action.
    DropGroup {
        /// The routing without the stack's group.
        forward: Forward,
    },
}

/// One rule and its fate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePlan {
    /// The rule's ARN.
    pub rule_arn: String,
    /// `rule 100 (/ossserver/*)`.
    pub label: String,
    /// What cleanup does with it.
    pub fate: RuleFate,
}

/// Why cleanup cannot go ahead.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Blockers {
    /// Rules still sending requests to the group (overridden by `--force`).
    pub live: Vec<String>,
    /// Problems `--force` does not override.
    pub hard: Vec<String>,
}

impl Blockers {
    /// True when nothing stands in the way.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.live.is_empty() && self.hard.is_empty()
    }
}

/// The routing without one target group; `None` when nothing would be left. When only
/// weight-0 groups remain they get weight 1, so the rule still sends its requests somewhere.
pub fn without_group(forward: &Forward, arn: &str) -> Option<Forward> {
    let mut f = forward.clone();
    f.groups.retain(|g| g.arn != arn);
    if f.groups.is_empty() {
        return None;
    }
    if f.groups.iter().all(|g| g.weight == 0) {
        for g in &mut f.groups {
            g.weight = 1;
        }
    }
    if f.groups.len() > 1 && f.spelling != Spelling::ForwardConfig {
        f.spelling = Spelling::ForwardConfig;
    }
    Some(f)
}

/// Decide every rule's fate. `owners` maps target group ARNs to the stack that owns them (from
/// their `mcpctl:stack` tags or the stack files); `force` lets cleanup go on while rules still
/// send requests to `target_group` (those rules are deleted or lose the group).
pub fn plan_rules(
    stack: &str,
    paths: &[String],
    target_group: Option<&str>,
    rules: &[ListenerRule],
    owners: &HashMap<String, String>,
    force: bool,
) -> (Vec<RulePlan>, Blockers) {
    let mut plans = Vec::new();
    let mut blockers = Blockers::default();
    for rule in rules {
        let forward = rule.forward().ok();
        let mentions = match (target_group, &forward) {
            (Some(tg), Some(f)) => f.mentions(tg),
            _ => false,
        };
        let live = match (target_group, &forward) {
            (Some(tg), Some(f)) => f.sends_traffic_to(tg),
            _ => false,
        };
        let label = rule.label();
        let owned = rule.belongs_to(stack, paths);
        if !owned && !mentions {
            continue;
        }
        if rule.priority.is_none() {
            blockers.hard.push(format!(
                "{label} forwards to the stack's target group; point the listener's default action elsewhere first (aws elbv2 modify-listener)"
            ));
            continue;
        }
        if live {
            let pct = forward
                .as_ref()
                .zip(target_group)
                .map(|(f, tg)| f.percent_of(tg))
                .unwrap_or(0.0);
            let line =
                format!("{label} sends {pct:.0}% of its requests to the stack's target group");
            if force {
                tracing::warn!("{line} (--force)");
            } else {
                blockers.live.push(line);
            }
        }
        let rest = match (&forward, target_group) {
            (Some(f), Some(tg)) => without_group(f, tg),
            (Some(f), None) => Some(f.clone()),
            (None, _) => None,
        };
        let fate = match (owned, rest) {
            (true, None) => RuleFate::Delete,
            (true, Some(rest)) => {
                let heaviest = rest
                    .groups
                    .iter()
                    .max_by_key(|g| g.weight)
                    .map(|g| g.arn.clone())
                    .unwrap_or_default();
                match owners.get(&heaviest) {
                    Some(to) if to != stack => RuleFate::HandOver {
                        to_stack: to.clone(),
                        forward: mentions.then_some(rest),
                    },
                    Some(_) => RuleFate::Delete,
                    None => {
                        blockers.hard.push(format!(
                            "{label} belongs to stack {stack} but forwards to target group {}, and no stack owns that group (no {STACK_TAG} tag, no stack file names it); tag the group with {STACK_TAG}=NAME so the rule can be handed over",
                            target_group_name(&heaviest)
                        ));
                        continue;
                    }
                }
            }
            (false, Some(rest)) => RuleFate::DropGroup { forward: rest },
            (false, None) => {
                let whose = match rule.tag(STACK_TAG) {
                    Some(owner) => format!("belongs to stack {owner}"),
                    None => format!("is not a rule of stack {stack}"),
                };
                blockers.hard.push(format!(
                    "{label} {whose} but forwards only to this stack's target group; point it at another target group or delete it first (aws elbv2 modify-rule / delete-rule)"
                ));
                continue;
            }
        };
        plans.push(RulePlan {
            rule_arn: rule.arn.clone(),
            label,
            fate,
        });
    }
    (plans, blockers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::forward::WeightedGroup;

    const OLD: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/opensearch-mcp-tg/01";
    const NEW: &str =
        "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/opensearch-mcp-tg-stateless/02";

    fn rule(priority: i32, path: &str, owner: Option<&str>, f: Forward) -> ListenerRule {
        ListenerRule {
            arn: format!("arn:rule/{priority}"),
            priority: Some(priority),
            path_patterns: vec![path.to_string()],
            actions: vec![crate::model::RuleAction::forward(f)],
            tags: owner
                .map(|o| vec![(STACK_TAG.to_string(), o.to_string())])
                .unwrap_or_default(),
        }
    }

    fn owners() -> HashMap<String, String> {
        HashMap::from([
            (OLD.to_string(), "stateful".to_string()),
            (NEW.to_string(), "stateless".to_string()),
        ])
    }

    fn paths() -> Vec<String> {
        vec!["/ossserver/*".to_string()]
    }

    fn split(a: u16, b: u16) -> Forward {
        Forward::weighted(vec![WeightedGroup::new(OLD, a), WeightedGroup::new(NEW, b)])
    }

    #[test]
    fn a_live_stack_is_refused_unless_forced() {
        let rules = vec![rule(
            100,
            "/ossserver/*",
            Some("stateful"),
            Forward::single(OLD),
        )];
        let (plans, b) = plan_rules("stateful", &paths(), Some(OLD), &rules, &owners(), false);
        assert_eq!(b.live.len(), 1, "{b:?}");
        assert!(b.live[0].contains("100%"), "{b:?}");
        assert_eq!(plans[0].fate, RuleFate::Delete);
        let (_, b) = plan_rules("stateful", &paths(), Some(OLD), &rules, &owners(), true);
        assert!(b.is_empty());
    }

    #[test]
    fn a_canary_still_counts_as_live() {
        let rules = vec![rule(100, "/ossserver/*", Some("stateful"), split(90, 10))];
        let (plans, b) = plan_rules("stateful", &paths(), Some(OLD), &rules, &owners(), false);
        assert_eq!(b.live.len(), 1);
        // Forced: the rule keeps serving, handed over without the old group.
        assert_eq!(
            plans[0].fate,
            RuleFate::HandOver {
                to_stack: "stateless".into(),
                forward: Some(Forward::weighted(vec![WeightedGroup::new(NEW, 10)]))
            }
        );
    }

    #[test]
    fn after_full_cutover_the_production_rule_is_handed_over() {
        let rules = vec![
            rule(100, "/ossserver/*", Some("stateful"), Forward::single(NEW)),
            rule(
                110,
                "/ossserver-stateless/*",
                Some("stateless"),
                Forward::single(NEW),
            ),
        ];
        let (plans, b) = plan_rules("stateful", &paths(), Some(OLD), &rules, &owners(), false);
        assert!(b.is_empty(), "{b:?}");
        assert_eq!(
            plans.len(),
            1,
            "the stateless rule is not touched: {plans:?}"
        );
        assert_eq!(
            plans[0].fate,
            RuleFate::HandOver {
                to_stack: "stateless".into(),
                forward: None
            }
        );
    }

    #[test]
    fn untagged_rules_of_the_old_scripts_are_recognised_by_path() {
        let rules = vec![rule(1, "/ossserver/*", None, Forward::single(NEW))];
        let (plans, _) = plan_rules("stateful", &paths(), Some(OLD), &rules, &owners(), false);
        assert!(matches!(plans[0].fate, RuleFate::HandOver { .. }));
    }

    #[test]
    fn a_zero_weight_entry_is_removed_from_other_rules() {
        let rules = vec![rule(110, "/x/*", Some("stateless"), split(0, 5))];
        let (plans, b) = plan_rules("stateful", &paths(), Some(OLD), &rules, &owners(), false);
        assert!(b.is_empty());
        assert_eq!(
            plans[0].fate,
            RuleFate::DropGroup {
                forward: Forward::weighted(vec![WeightedGroup::new(NEW, 5)])
            }
        );
    }

    #[test]
    fn what_force_cannot_fix_is_reported() {
        let other = rule(120, "/y/*", Some("stateless"), Forward::single(OLD));
        let (_, b) = plan_rules("stateful", &paths(), Some(OLD), &[other], &owners(), true);
        assert_eq!(b.hard.len(), 1, "{b:?}");
        let unknown = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/mystery/03";
        let r = rule(
            100,
            "/ossserver/*",
            Some("stateful"),
            Forward::single(unknown),
        );
        let (_, b) = plan_rules("stateful", &paths(), Some(OLD), &[r], &owners(), false);
        assert!(b.hard[0].contains("mystery"), "{b:?}");
    }

    #[test]
    fn rules_of_other_stacks_that_do_not_name_the_group_are_left_alone() {
        let rules = vec![rule(
            110,
            "/ossserver-stateless/*",
            Some("stateless"),
            Forward::single(NEW),
        )];
        let (plans, b) = plan_rules("stateful", &paths(), Some(OLD), &rules, &owners(), false);
        assert!(plans.is_empty() && b.is_empty());
    }

    #[test]
    fn without_group_keeps_something_routable() {
        assert_eq!(without_group(&Forward::single(OLD), OLD), None);
        let f = without_group(&split(5, 0), OLD).unwrap();
        assert_eq!(f.groups, vec![WeightedGroup::new(NEW, 1)]);
        assert_eq!(f.validate(), Ok(()));
    }
}
