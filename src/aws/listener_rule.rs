//! Listener rules at the AWS edge: the model's rule ([`ListenerRule`], in `crate::model::rule`)
//! read from the SDK's ([`from_sdk`]) for a whole listener (sorted by priority — `DescribeRules` order is not guaranteed, and
//! moto returns insertion order); `up`'s create and update of the stack's rule; and the
//! changes `cutover`, `rollback` and `cleanup` make to a rule ([`RuleChange`]: the call
//! described, then made).

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, PathPatternConditionConfig, Rule, RuleCondition,
    TargetGroupTuple,
};
use serde_json::json;

use super::calls::Call;
use super::deploy::Record;
use super::deploy::{Applying, Deploy};
use super::errors::call_error;
use super::forward::Forward;
use super::target_group::{add_tags, elb_tags, tags_of};
use super::{Clients, Tags};
use crate::error::{Error, Result};
use crate::plan::desired::ListenerRuleSpec;
use crate::plan::steps::{RuleStep, RuleUpdate};
use crate::plan::{self, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

pub use crate::model::rule::{sort_by_priority, tag_value, CUTOVER_TAG_PREFIX};
pub use crate::model::{ListenerRule, RuleAction};

/// A rule read from `DescribeRules`, with its tags, in the model's terms.
pub fn from_sdk(rule: &Rule, tags: Tags) -> ListenerRule {
    ListenerRule {
        arn: rule.rule_arn().unwrap_or_default().to_string(),
        priority: if rule.is_default() == Some(true) {
            None
        } else {
            rule.priority().and_then(|p| p.parse().ok())
        },
        path_patterns: path_patterns(rule),
        actions: rule.actions().iter().map(action_from_sdk).collect(),
        tags,
    }
}

/// One SDK action in the model's terms: a forward read as [`Forward`] (or why it is not one
/// ALB accepts), any other action kept in full as text so that a change to it is seen.
pub fn action_from_sdk(action: &Action) -> RuleAction {
    let forward = action.r#type() == Some(&ActionTypeEnum::Forward);
    RuleAction {
        kind: action.r#type().map(|t| t.as_str().to_string()),
        order: action.order(),
        forward: forward.then(|| Forward::from_action(action)),
        detail: if forward {
            String::new()
        } else {
            format!("{action:?}")
        },
    }
}

/// Paths of a rule's path-pattern condition (both the legacy `values` and `pathPatternConfig`).
pub fn path_patterns(rule: &Rule) -> Vec<String> {
    rule.conditions()
        .iter()
        .filter(|c| c.field() == Some("path-pattern"))
        .flat_map(|c| {
            let mut v: Vec<String> = c
                .path_pattern_config()
                .map(|p| p.values().to_vec())
                .unwrap_or_default();
            if v.is_empty() {
                v = c.values().to_vec();
            }
            v
        })
        .collect()
}

/// Every rule of the listener exactly as `DescribeRules` returns it (all pages, AWS's order).
async fn describe_all(c: &Clients, listener_arn: &str) -> Result<Vec<Rule>> {
    let mut raw = Vec::new();
    let mut marker = None;
    loop {
        let out = c
            .elb
            .describe_rules()
            .listener_arn(listener_arn)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| call_error(&format!("listener {listener_arn}"), e))?;
        raw.extend(out.rules().iter().cloned());
        match out.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(raw)
}

/// Every rule of the listener with its tags, sorted by priority (default rule last).
pub async fn rules(c: &Clients, listener_arn: &str) -> Result<Vec<ListenerRule>> {
    let raw = describe_all(c, listener_arn).await?;
    let arns: Vec<String> = raw
        .iter()
        .filter_map(|r| r.rule_arn().map(str::to_string))
        .collect();
    let mut tags = tags_of(c, &arns).await?;
    let mut rules: Vec<ListenerRule> = raw
        .iter()
        .map(|r| {
            let arn = r.rule_arn().unwrap_or_default();
            let t = tags
                .iter_mut()
                .find(|(a, _)| a == arn)
                .map(|t| std::mem::take(&mut t.1))
                .unwrap_or_default();
            from_sdk(r, t)
        })
        .collect();
    sort_by_priority(&mut rules);
    Ok(rules)
}

/// One rule of a listener, read again (`DescribeRules` by ARN, and its tags); `None` when it
/// was deleted.
pub async fn rule(c: &Clients, rule_arn: &str) -> Result<Option<ListenerRule>> {
    let out = match c.elb.describe_rules().rule_arns(rule_arn).send().await {
        Ok(out) => out,
        Err(e) if super::errors::code(&e) == Some("RuleNotFound") => return Ok(None),
        Err(e) => return Err(call_error(&format!("listener rule {rule_arn}"), e)),
    };
    let Some(raw) = out.rules().first() else {
        return Ok(None);
    };
    let tags = tags_of(c, &[rule_arn.to_string()])
        .await?
        .into_iter()
        .next()
        .map(|t| t.1)
        .unwrap_or_default();
    Ok(Some(from_sdk(raw, tags)))
}

fn condition(spec: &ListenerRuleSpec) -> RuleCondition {
    RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(
            PathPatternConditionConfig::builder()
                .set_values(Some(spec.path_patterns.clone()))
                .build(),
        )
        .build()
}

/// A forward action to one target group.
pub fn forward_to(tg_arn: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(
            ForwardActionConfig::builder()
                .target_groups(
                    TargetGroupTuple::builder()
                        .target_group_arn(tg_arn)
                        .weight(1)
                        .build(),
                )
                .build(),
        )
        .build()
}

/// Create the stack's rule at `priority`; returns its ARN.
pub async fn create(
    c: &Clients,
    listener_arn: &str,
    spec: &ListenerRuleSpec,
    priority: i32,
    tg_arn: &str,
) -> Result<String> {
    let what = format!(
        "listener rule {} (priority {priority})",
        spec.path_patterns.join(",")
    );
    let out = c
        .elb
        .create_rule()
        .listener_arn(listener_arn)
        .priority(priority)
        .conditions(condition(spec))
        .actions(forward_to(tg_arn))
        .set_tags(Some(elb_tags(&spec.tags)))
        .send()
        .await
        .map_err(|e| call_error(&what, e))?;
    out.rules()
        .first()
        .and_then(|r| r.rule_arn())
        .map(str::to_string)
        .ok_or_else(|| Error::failed("CreateRule returned no rule"))
}

/// Update the stack's rule: paths and forward (one call), tags (another), only if they changed.
pub async fn update(
    c: &Clients,
    rule_arn: &str,
    spec: &ListenerRuleSpec,
    tg_arn: &str,
    update: &RuleUpdate,
) -> Result<()> {
    let what = format!("listener rule {}", spec.path_patterns.join(","));
    if update.modify() {
        let mut req = c
            .elb
            .modify_rule()
            .rule_arn(rule_arn)
            .conditions(condition(spec));
        if update.forward {
            req = req.actions(forward_to(tg_arn));
        }
        req.send().await.map_err(|e| call_error(&what, e))?;
    }
    if let Some(priority) = update.priority {
        set_priority(c, rule_arn, priority, &what).await?;
    }
    if update.tags {
        add_tags(c, rule_arn, &spec.tags, &what).await?;
    }
    Ok(())
}

/// Move a rule to `priority` (`SetRulePriorities`; the plan checked that it is free).
pub async fn set_priority(c: &Clients, rule_arn: &str, priority: i32, what: &str) -> Result<()> {
    let pair = aws_sdk_elasticloadbalancingv2::types::RulePriorityPair::builder()
        .rule_arn(rule_arn)
        .priority(priority)
        .build();
    c.elb
        .set_rule_priorities()
        .rule_priorities(pair)
        .send()
        .await
        .map_err(|e| call_error(&format!("{what} (to priority {priority})"), e))?;
    Ok(())
}

/// Replace a rule's actions with `action` (`ModifyRule`; conditions unchanged).
async fn set_actions(c: &Clients, rule_arn: &str, action: Action) -> Result<()> {
    c.elb
        .modify_rule()
        .rule_arn(rule_arn)
        .actions(action)
        .send()
        .await
        .map_err(|e| call_error(rule_arn, e))?;
    Ok(())
}

/// Remove tags from an ELB resource (`RemoveTags`).
async fn remove_tags(c: &Clients, arn: &str, keys: &[String]) -> Result<()> {
    c.elb
        .remove_tags()
        .resource_arns(arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map_err(|e| call_error(arn, e))?;
    Ok(())
}

/// Delete a listener rule (`DeleteRule`).
async fn delete(c: &Clients, rule_arn: &str) -> Result<()> {
    c.elb
        .delete_rule()
        .rule_arn(rule_arn)
        .send()
        .await
        .map_err(|e| call_error(rule_arn, e))?;
    Ok(())
}

/// One change to a listener rule by `cutover`, `rollback` or `cleanup`, described before it is
/// made ([`RuleChange::planned`]) and then made ([`RuleChange::apply`]).
#[derive(Debug, Clone, PartialEq)]
pub enum RuleChange {
    /// `ModifyRule` with one forward action (conditions unchanged).
    SetForward {
        /// The rule.
        rule_arn: String,
        /// The new routing.
        forward: Forward,
    },
    /// `AddTags` on the rule.
    AddTags {
        /// The rule.
        rule_arn: String,
        /// Tags to add or overwrite.
        tags: Tags,
    },
    /// `RemoveTags` from the rule.
    RemoveTags {
        /// The rule.
        rule_arn: String,
        /// Keys to remove.
        keys: Vec<String>,
    },
    /// `DeleteRule`.
    Delete {
        /// The rule.
        rule_arn: String,
    },
}

impl RuleChange {
    /// The exact call this change makes.
    pub fn planned(&self) -> Call {
        match self {
            RuleChange::SetForward { rule_arn, forward } => Call::planned(
                "elasticloadbalancing:ModifyRule",
                json!({"RuleArn": rule_arn, "Actions": [forward.to_api_json()]}),
            ),
            RuleChange::AddTags { rule_arn, tags } => Call::planned(
                "elasticloadbalancing:AddTags",
                json!({"ResourceArns": [rule_arn], "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()}),
            ),
            RuleChange::RemoveTags { rule_arn, keys } => Call::planned(
                "elasticloadbalancing:RemoveTags",
                json!({"ResourceArns": [rule_arn], "TagKeys": keys}),
            ),
            RuleChange::Delete { rule_arn } => Call::planned(
                "elasticloadbalancing:DeleteRule",
                json!({"RuleArn": rule_arn}),
            ),
        }
    }

    /// Make the call.
    pub async fn apply(&self, c: &Clients) -> Result<()> {
        match self {
            RuleChange::SetForward { rule_arn, forward } => {
                set_actions(c, rule_arn, forward.to_action()).await
            }
            RuleChange::AddTags { rule_arn, tags } => {
                add_tags(c, rule_arn, tags, &format!("listener rule {rule_arn}")).await
            }
            RuleChange::RemoveTags { rule_arn, keys } => remove_tags(c, rule_arn, keys).await,
            RuleChange::Delete { rule_arn } => delete(c, rule_arn).await,
        }
    }
}

/// Carry out the plan's step for the stack's listener rule on `listener_arn`, forwarding to
/// the target group `tg_arn` (named `tg_name`).
pub async fn apply(
    c: &Clients,
    rule: &ListenerRuleSpec,
    step: &RuleStep,
    (listener_arn, tg_arn, tg_name): (&str, &str, &str),
    rec: &mut Record,
) -> Result<()> {
    let rule_name = rule.path_patterns.join(",");
    match step {
        RuleStep::Create { priority } => {
            let arn = create(c, listener_arn, rule, *priority, tg_arn).await?;
            rec.add(
                Kind::ListenerRule,
                plan::Action::Create,
                &format!("{rule_name} (priority {priority})"),
                &arn,
            );
        }
        RuleStep::Update { arn, update } => {
            self::update(c, arn, rule, tg_arn, update).await?;
            rec.add(Kind::ListenerRule, plan::Action::Update, &rule_name, arn);
        }
        RuleStep::Attach { arn, forward } => {
            let forward = forward.with_group(tg_arn, 0).map_err(|e| {
                Error::refused(format!(
                    "cannot add target group {tg_name} to listener rule {rule_name}: {e}"
                ))
            })?;
            RuleChange::SetForward {
                rule_arn: arn.clone(),
                forward,
            }
            .apply(c)
            .await?;
            rec.add(Kind::ListenerRule, plan::Action::Update, &rule_name, arn);
        }
        RuleStep::Keep { .. } => {}
    }
    Ok(())
}

/// Observed with the shared resources (every rule on the listener).
impl Deploy for crate::plan::kinds::listener_rule::Rule {
    async fn observe(_: &Clients, _: &Stack, _: &Observed) -> Result<()> {
        Ok(())
    }

    /// On the listener, forwarding to the target group, both applied before it.
    async fn apply(run: &mut Applying<'_>, d: &Desired, steps: &Steps) -> Result<()> {
        let arns = (run.listener_arn.as_str(), run.tg_arn.as_str());
        let to = (arns.0, arns.1, d.target_group.name.as_str());
        apply(run.c, &d.rule, &steps.rule, to, &mut run.rec).await
    }
}
