//! The stack's listener rule: what the stack wants ([`ListenerRuleSpec`]: its paths, preferred
//! priority and target group), the fields it can differ in ([`RuleField`]), the comparison
//! (found by its paths and compared, or to create at a free priority) and the step
//! ([`RuleStep`], [`RuleUpdate`]). The rule model itself is `crate::model::ListenerRule`;
//! priorities and the attachment while `cutover` routes it are [`crate::plan::rules`]. Reading
//! and changing it in AWS is `aws::listener_rule`.

use serde::Serialize;

use crate::plan::compare::{change, Walk};
use crate::plan::fields::{field_enum, Diff, Value};
use crate::plan::kinds::{Inputs, Resource};
use crate::plan::observed::ListenerRule;
use crate::plan::rules::{attach, choose_priority, rule_change, Attach};
use crate::plan::steps::Step;
use crate::plan::{Action, Kind, Steps};
use crate::stack::stack_tag;

/// The stack's listener rule as the plan found or chose it.
pub(in crate::plan) struct OwnRule<'a> {
    /// The stack's rule, when it exists.
    pub own: Option<&'a ListenerRule>,
    /// The priority it has or will get.
    pub priority: Option<i32>,
    /// What `apply` does with it (before the service's target group is attached).
    pub step: RuleStep,
}

impl<'a> Walk<'a> {
    /// The stack's listener rule: found (and compared) or to create at a free priority.
    pub(in crate::plan) fn rule(&mut self) -> OwnRule<'a> {
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

/// The stack's listener rule (observed with the shared resources: every rule on the listener).
pub struct Rule;

impl Resource for Rule {
    type Spec = ListenerRuleSpec;
    type Observed = ();
    type Step = RuleStep;

    fn desired(from: &Inputs<'_>) -> ListenerRuleSpec {
        let (stack, tags) = (from.stack, from.stack.resource_tags());
        ListenerRuleSpec {
            listener_port: stack.load_balancer.listener_port,
            path_patterns: stack.rule_path_patterns(),
            preferred_priority: stack.routing.priority,
            target_group: stack.names.target_group.clone(),
            tags,
        }
    }

    fn compare(w: &mut Walk<'_>) -> RuleStep {
        let rule = w.rule();
        w.own_rule = rule.own;
        w.rule_priority = rule.priority;
        rule.step
    }

    /// Once the service's step is known: a service that changes needs its target group on the
    /// stack's rule, which `cutover` may have left at weight 0 or off ([`attach`]).
    fn settle(w: &mut Walk<'_>, steps: &mut Steps) {
        if matches!(steps.service, Step::Keep(_)) {
            return;
        }
        let (desired, observed) = (w.desired, w.observed);
        let tg_arn = observed.target_group.as_ref().map(|t| t.arn.as_str());
        let tg_name = &desired.target_group.name;
        let rules = &observed.shared.rules;
        match attach(&steps.rule, w.own_rule, rules, tg_arn, tg_name) {
            Attach::Attached => {}
            Attach::Plan { step, note } => {
                steps.rule = step;
                if let Some(c) = w.changes.iter_mut().find(|c| c.kind == Kind::ListenerRule) {
                    c.action = Action::Update;
                    c.note = Some(note);
                }
            }
            Attach::Refuse(problem) => w.problems.push(problem),
        }
    }

    fn only_tags(step: &RuleStep) -> bool {
        match step {
            RuleStep::Create { .. } => false,
            RuleStep::Update { update, .. } => !update.modify(),
            RuleStep::Keep { .. } => true,
            // Joining the production rule at weight 0 changes its actions.
            RuleStep::Attach { .. } => false,
        }
    }
}

/// The listener rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerRuleSpec {
    /// Listener port.
    pub listener_port: u16,
    /// Path patterns, in stack order.
    pub path_patterns: Vec<String>,
    /// Preferred priority.
    pub preferred_priority: Option<i32>,
    /// The target group it forwards to (by name; the ARN is known at apply time).
    pub target_group: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

field_enum! {
    /// What the stack's listener rule can differ in.
    RuleField {
        /// Path patterns (sorted).
        PathPatterns => "path_patterns",
        /// The forward action (left out while `cutover` manages the rule).
        Forward => "forward",
        /// The rule's priority (`SetRulePriorities`), when the stack's is free.
        Priority => "priority",
    }
    tag Tag
}

/// The stack's listener rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleStep {
    /// Create it at `priority`.
    Create {
        /// The free priority chosen.
        priority: i32,
    },
    /// Update the rule `arn`.
    Update {
        /// Its ARN.
        arn: String,
        /// What to change.
        update: RuleUpdate,
    },
    /// The rule `arn` is as wanted.
    Keep {
        /// Its ARN.
        arn: String,
    },
    /// The rule `arn`'s routing is managed by `cutover` and does not name the stack's target
    /// group: add the group at weight 0 to `forward` (no request moves), so that ECS can attach
    /// the service to it.
    Attach {
        /// Its ARN.
        arn: String,
        /// Its routing now.
        forward: crate::model::Forward,
    },
}

/// The calls that update the stack's listener rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleUpdate {
    /// `ModifyRule` with the path condition.
    pub conditions: bool,
    /// The same `ModifyRule` also sets the forward action.
    pub forward: bool,
    /// `AddTags`.
    pub tags: bool,
    /// `SetRulePriorities` to this priority.
    pub priority: Option<i32>,
}

impl From<Vec<Diff<RuleField>>> for RuleUpdate {
    fn from(diffs: Vec<Diff<RuleField>>) -> Self {
        let mut u = Self::default();
        for d in diffs {
            match d.field {
                RuleField::PathPatterns => u.conditions = true,
                RuleField::Forward => u.forward = true,
                RuleField::Tag(_) => u.tags = true,
                RuleField::Priority => u.priority = d.to.as_ref().and_then(Value::int),
            }
        }
        u
    }
}

impl RuleUpdate {
    /// True when a `ModifyRule` is needed (a new forward is sent with the conditions).
    pub fn modify(&self) -> bool {
        self.conditions || self.forward
    }
}
