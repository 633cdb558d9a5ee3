//! Listener rule decisions: which rule is the stack's own, which priority a new one gets, and
//! how the stack's target group gets a rule forwarding to it ([`attach`]).

use super::compare::change;
use super::desired::ListenerRuleSpec;
use super::fields::{diff, Diff, Field, Value};
use super::kinds::listener_rule::RuleField;
use super::observed::ListenerRule;
use super::steps::{RuleStep, RuleUpdate};
use super::{Change, Kind};
use crate::model::forward::{Forward, MAX_GROUPS};
use crate::stack::stack_tag;

/// The preferred priority if free, else the next free one above it (as `05-*.sh` did); without
/// a preference, the next one above the highest in use.
pub fn choose_priority(preferred: Option<i32>, used: &[i32]) -> i32 {
    let start = preferred.unwrap_or_else(|| used.iter().copied().max().map_or(1, |m| m + 1));
    (start..=50000)
        .find(|p| !used.contains(p))
        .or_else(|| (1..start).rev().find(|p| !used.contains(p)))
        .unwrap_or(start)
}

/// How the stack's target group gets a listener rule forwarding to it.
pub(crate) enum Attach {
    /// A rule forwards to it (weight 0 counts), or the rule step makes one.
    Attached,
    /// Add it at weight 0 to the stack's own rule, whose routing cutover manages.
    Plan { step: RuleStep, note: String },
    /// No rule can be made to forward to it: the problem, with the fix.
    Refuse(String),
}

/// The invariant behind every service `up` creates or updates: its target group is named by a
/// listener rule's forward action. ECS refuses `CreateService` otherwise ("The target group …
/// does not have an associated load balancer",
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html>, `loadBalancers`:
/// the target group must be associated with a load balancer), and moto does not check it. A
/// group at weight 0 is associated, gets no request and keeps its targets health-checked
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html>:
/// weights 0–999). After a full cutover and `cleanup`, the production rule serves another stack
/// and `up` of the archived stack recreates the group: it is added there at weight 0.
pub(crate) fn attach(
    rule_step: &RuleStep,
    own: Option<&ListenerRule>,
    rules: &[ListenerRule],
    tg_arn: Option<&str>,
    tg_name: &str,
) -> Attach {
    let forwarded = match rule_step {
        RuleStep::Create { .. } | RuleStep::Attach { .. } => true,
        RuleStep::Update { update, .. } if update.forward => true,
        RuleStep::Update { .. } | RuleStep::Keep { .. } => tg_arn.is_some_and(|arn| {
            rules
                .iter()
                .any(|r| r.forwards().iter().any(|f: &Forward| f.mentions(arn)))
        }),
    };
    if forwarded {
        return Attach::Attached;
    }
    let why = format!(
        "target group `{tg_name}` would have no listener rule forwarding to it, and AWS refuses CreateService/UpdateService with \"The target group … does not have an associated load balancer\""
    );
    let Some(rule) = own else {
        return Attach::Refuse(format!(
            "{why}; give the stack `routing.path_patterns` no other rule serves"
        ));
    };
    let label = rule.label();
    match rule.forward() {
        Ok(f) if f.groups.len() < MAX_GROUPS && matches!(rule_step, RuleStep::Keep { .. }) => {
            let step = RuleStep::Attach {
                arn: rule.arn.clone(),
                forward: f.clone(),
            };
            Attach::Plan {
                step,
                note: format!(
                    "{label}: routing managed by cutover ({f}); adds target group {tg_name} at weight 0 — no request moves — so that ECS can attach the service"
                ),
            }
        }
        Ok(f) if f.groups.len() >= MAX_GROUPS => Attach::Refuse(format!(
            "{why}; {label} already forwards to {MAX_GROUPS} target groups (ALB's limit): remove one with `mcpctl cleanup` of its stack or `aws elbv2 modify-rule`, then run `up` again"
        )),
        Ok(_) => Attach::Refuse(why),
        Err(e) => Attach::Refuse(format!(
            "{why}; {label} serves the stack's paths but {e}: make it a forward action (aws elbv2 modify-rule) or give the stack other `routing.path_patterns`"
        )),
    }
}

/// The change and step for the stack's own existing rule: paths, forward (unless cutover
/// routes it), priority (moved only when free) and tags.
pub fn rule_change(
    want: &ListenerRuleSpec,
    rule: &ListenerRule,
    tg_arn: Option<&str>,
    name: &str,
    all_rules: &[ListenerRule],
) -> (Change, RuleStep) {
    let mut want_paths = want.path_patterns.clone();
    want_paths.sort();
    let mut have_paths = rule.path_patterns.clone();
    have_paths.sort();
    let mut desired_fields = vec![(RuleField::PathPatterns, Value::Text(want_paths.join(",")))];
    let mut observed_fields = vec![(RuleField::PathPatterns, Value::Text(have_paths.join(",")))];
    let forward_text = |arn: &str| {
        if Some(arn) == tg_arn {
            want.target_group.clone()
        } else {
            arn.to_string()
        }
    };
    // A rule handed over to another stack by cleanup, or routed by cutover, keeps its actions
    // and that stack's tag.
    let handed_over = rule.routed_by_cutover();
    if !handed_over {
        desired_fields.push((RuleField::Forward, Value::from(&want.target_group)));
        let groups: Vec<_> = rule.forwards().into_iter().flat_map(|f| f.groups).collect();
        let have = match groups.as_slice() {
            [one] => forward_text(&one.arn),
            many => many
                .iter()
                .map(|g| format!("{}={}", forward_text(&g.arn), g.weight))
                .collect::<Vec<_>>()
                .join(","),
        };
        observed_fields.push((RuleField::Forward, Value::Text(have)));
    }
    // `routing.priority` edited: move the rule (`SetRulePriorities`) when that priority is free
    // on the listener (ALB priorities are unique per listener:
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetRulePriorities.html),
    // else keep it and say why. A rule routed by cutover keeps its priority.
    let priority_note = match (want.preferred_priority, rule.priority) {
        (Some(wanted), Some(have)) if wanted != have => {
            let holder = all_rules
                .iter()
                .find(|r| r.arn != rule.arn && r.priority == Some(wanted));
            match (handed_over, holder) {
                (true, _) => Some(format!(
                    "keeps priority {have}, not the stack's {wanted}: cutover manages this rule"
                )),
                (false, Some(h)) => Some(format!(
                    "keeps priority {have}, not the stack's {wanted}: another rule ({}) has {wanted}; free it or pick another `routing.priority`",
                    h.path_patterns.join(",")
                )),
                (false, None) => {
                    desired_fields.push((RuleField::Priority, Value::Int(wanted)));
                    observed_fields.push((RuleField::Priority, Value::Int(have)));
                    None
                }
            }
        }
        _ => None,
    };
    desired_fields.extend(super::fields::tag_fields(&want.tags, RuleField::Tag));
    observed_fields.extend(super::fields::tag_fields(&rule.tags, RuleField::Tag));
    let fields: Vec<Diff<RuleField>> = diff(&desired_fields, &observed_fields)
        .into_iter()
        .filter(|f| !(handed_over && f.field.is_tag()))
        .collect();
    let adopt = stack_tag(&rule.tags).is_none();
    let mut c = change(Kind::ListenerRule, name, true, &fields, adopt);
    c.note = Some(match (rule.priority, handed_over) {
        (Some(p), true) => format!("priority {p}; routing managed by cutover, left as it is"),
        (Some(p), false) => format!("priority {p}"),
        (None, _) => "default rule".to_string(),
    });
    if let (Some(n), Some(note)) = (priority_note, c.note.as_mut()) {
        note.push_str("; ");
        note.push_str(&n);
    }
    let arn = rule.arn.clone();
    let step = if fields.is_empty() {
        RuleStep::Keep { arn }
    } else {
        RuleStep::Update {
            arn,
            update: RuleUpdate::from(fields),
        }
    };
    (c, step)
}
