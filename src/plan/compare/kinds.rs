//! One comparison per resource kind, in apply order: each adds its [`Change`] (and any
//! problems) to the [`Walk`] and returns the step `apply` takes.

use super::super::fields::{diff, RuleField, TaskDefinitionField};
use super::super::observed::ListenerRule;
use super::super::rules::{choose_priority, rule_change};
use super::super::steps::{RuleStep, TaskDefinitionStep};
use super::super::{Action, Kind};
use super::{change, Walk};
use crate::stack::stack_tag;

/// The stack's listener rule as the plan found or chose it.
pub(super) struct OwnRule<'a> {
    /// The stack's rule, when it exists.
    pub own: Option<&'a ListenerRule>,
    /// The priority it has or will get.
    pub priority: Option<i32>,
    /// What `apply` does with it (before the service's target group is attached).
    pub step: RuleStep,
}

impl<'a> Walk<'a> {
    /// The task definition; also whether a new revision is registered.
    pub(super) fn task_definition(&mut self) -> (TaskDefinitionStep, bool) {
        let t = &self.desired.task_definition;
        let o = self.observed.task_definition.as_ref();
        let td_fields = o.map(|o| {
            let mut have = o.spec.fields();
            if t.image.is_none() {
                have.retain(|(k, _)| *k != TaskDefinitionField::Image);
            }
            diff(&t.fields(), &have)
        });
        let td_name = match o {
            Some(o) => format!("{}:{}", t.family, o.revision),
            None => t.family.clone(),
        };
        let mut td = change(
            Kind::TaskDefinition,
            &td_name,
            o.is_some(),
            &td_fields.unwrap_or_default(),
            false,
        );
        if t.image.is_none() {
            td.note = Some(
                "image: built from server/ and pushed by `up`; a new digest registers a new revision"
                    .into(),
            );
        }
        if td.action != Action::Unchanged {
            // The number is AWS's to give: deregistered and inactive revisions count too, so the
            // latest active one plus one is only a guess.
            let note = match o {
                Some(o) => format!(
                    "registers a new revision of {} (the latest active is :{})",
                    t.family, o.revision
                ),
                None => format!("registers a new revision of {}", t.family),
            };
            td.note = Some(match td.note.take() {
                Some(n) => format!("{note}; {n}"),
                None => note,
            });
        }
        let td_changes = td.action != Action::Unchanged;
        let step = match o {
            Some(o) if !td_changes => TaskDefinitionStep::Keep { arn: o.arn.clone() },
            _ => TaskDefinitionStep::Register { first: o.is_none() },
        };
        self.changes.push(td);
        (step, td_changes)
    }

    /// The stack's listener rule: found (and compared) or to create at a free priority.
    pub(super) fn rule(&mut self) -> OwnRule<'a> {
        let (stack, observed) = (self.stack, self.observed);
        let want = &self.desired.rule;
        let tg_arn = observed.target_group.as_ref().map(|t| t.arn.as_str());
        let own = crate::model::rule::own_rule(
            &observed.shared.rules,
            &want.path_patterns,
            tg_arn,
            stack,
        );
        let rule_name = want.path_patterns.join(",");
        // A rule with the stack's paths that another stack owns is that stack's: taking it over
        // (ModifyRule, retag) would move its traffic with no record to roll back to. A rule that
        // cutover routes (handed over by cleanup) is left to cutover/rollback, as below.
        if let Some(rule) = own.filter(|r| !r.routed_by_cutover()) {
            if let Some(other) = stack_tag(&rule.tags).filter(|o| *o != stack) {
                self.problems.push(format!(
                    "listener rule {} (priority {}) belongs to stack `{other}` (tag mcpctl:stack={other}); a path serves one stack: give stack `{stack}` its own `routing.path_patterns`, or move traffic with `mcpctl cutover --from {other} --to {stack}`",
                    rule.path_patterns.join(","),
                    rule.priority.map_or("default".to_string(), |p| p.to_string())
                ));
            }
        }
        let (rule_change, priority, step) = match own {
            Some(rule) => {
                let (c, s) = rule_change(want, rule, tg_arn, &rule_name, &observed.shared.rules);
                let priority = match &s {
                    RuleStep::Update { update, .. } => update.priority.or(rule.priority),
                    _ => rule.priority,
                };
                (c, priority, s)
            }
            None => {
                let used: Vec<i32> = observed
                    .shared
                    .rules
                    .iter()
                    .filter_map(|r| r.priority)
                    .collect();
                let p = choose_priority(want.preferred_priority, &used);
                let mut c = change::<RuleField>(Kind::ListenerRule, &rule_name, false, &[], false);
                c.note = Some(match want.preferred_priority {
                    Some(pref) if pref == p => {
                        format!("priority {p}, forward to {}", want.target_group)
                    }
                    Some(pref) => format!(
                        "priority {p} ({pref} is taken), forward to {}",
                        want.target_group
                    ),
                    None => format!("priority {p} (next free), forward to {}", want.target_group),
                });
                (c, Some(p), RuleStep::Create { priority: p })
            }
        };
        self.changes.push(rule_change);
        OwnRule {
            own,
            priority,
            step,
        }
    }
}
