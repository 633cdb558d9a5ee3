//! Listener rules: read every rule of a listener (sorted by priority — `DescribeRules` order is
//! not guaranteed, and moto returns insertion order), with tags and forward weights; create the
//! stack's rule; update its paths, forward and tags.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, PathPatternConditionConfig, Rule, RuleCondition,
    TargetGroupTuple,
};

use super::errors::call_error;
use super::target_group::{add_tags, elb_tags, tags_of};
use super::Clients;
use crate::error::{Error, Result};
use crate::plan::desired::ListenerRuleSpec;
use crate::plan::observed::{Forward, RuleInfo};
use crate::plan::steps::RuleUpdate;

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

/// Forward targets of a rule (the legacy single `targetGroupArn` or a weighted `forwardConfig`).
pub fn forwards(rule: &Rule) -> Vec<Forward> {
    rule.actions()
        .iter()
        .filter(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
        .flat_map(|a| {
            let weighted: Vec<Forward> = a
                .forward_config()
                .map(|f| {
                    f.target_groups()
                        .iter()
                        .map(|t| Forward {
                            target_group_arn: t.target_group_arn().unwrap_or_default().to_string(),
                            weight: t.weight(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            if weighted.is_empty() {
                a.target_group_arn()
                    .map(|arn| {
                        vec![Forward {
                            target_group_arn: arn.to_string(),
                            weight: None,
                        }]
                    })
                    .unwrap_or_default()
            } else {
                weighted
            }
        })
        .collect()
}

/// Sort rules by priority, the default rule last.
pub fn sort_by_priority(rules: &mut [RuleInfo]) {
    rules.sort_by_key(|r| r.priority.unwrap_or(i32::MAX));
}

/// Every rule of the listener exactly as `DescribeRules` returns it (all pages, AWS's order).
pub async fn describe_all(c: &Clients, listener_arn: &str) -> Result<Vec<Rule>> {
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
            .map_err(|e| {
                call_error(
                    "elasticloadbalancing:DescribeRules",
                    &format!("listener {listener_arn}"),
                    e,
                )
            })?;
        raw.extend(out.rules().iter().cloned());
        match out.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(raw)
}

/// Every rule of the listener with its tags, sorted by priority (default rule last).
pub async fn rules(c: &Clients, listener_arn: &str) -> Result<Vec<RuleInfo>> {
    let raw = describe_all(c, listener_arn).await?;
    let arns: Vec<String> = raw
        .iter()
        .filter_map(|r| r.rule_arn().map(str::to_string))
        .collect();
    let tags = tags_of(c, &arns).await?;
    let mut rules: Vec<RuleInfo> = raw
        .iter()
        .map(|r| {
            let arn = r.rule_arn().unwrap_or_default().to_string();
            RuleInfo {
                priority: if r.is_default() == Some(true) {
                    None
                } else {
                    r.priority().and_then(|p| p.parse().ok())
                },
                path_patterns: path_patterns(r),
                forwards: forwards(r),
                tags: tags
                    .iter()
                    .find(|(a, _)| *a == arn)
                    .map(|t| t.1.clone())
                    .unwrap_or_default(),
                arn,
            }
        })
        .collect();
    sort_by_priority(&mut rules);
    Ok(rules)
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
        .map_err(|e| call_error("elasticloadbalancing:CreateRule", &what, e))?;
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
        req.send()
            .await
            .map_err(|e| call_error("elasticloadbalancing:ModifyRule", &what, e))?;
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
        .map_err(|e| {
            call_error(
                "elasticloadbalancing:SetRulePriorities",
                &format!("{what} (to priority {priority})"),
                e,
            )
        })?;
    Ok(())
}

/// Replace a rule's actions with `action` (`ModifyRule`; conditions unchanged).
pub async fn set_actions(c: &Clients, rule_arn: &str, action: Action) -> Result<()> {
    c.elb
        .modify_rule()
        .rule_arn(rule_arn)
        .actions(action)
        .send()
        .await
        .map_err(|e| call_error("elasticloadbalancing:ModifyRule", rule_arn, e))?;
    Ok(())
}

/// Remove tags from an ELB resource (`RemoveTags`).
pub async fn remove_tags(c: &Clients, arn: &str, keys: &[String]) -> Result<()> {
    c.elb
        .remove_tags()
        .resource_arns(arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map_err(|e| call_error("elasticloadbalancing:RemoveTags", arn, e))?;
    Ok(())
}

/// Delete a listener rule (`DeleteRule`).
pub async fn delete(c: &Clients, rule_arn: &str) -> Result<()> {
    c.elb
        .delete_rule()
        .rule_arn(rule_arn)
        .send()
        .await
        .map_err(|e| call_error("elasticloadbalancing:DeleteRule", rule_arn, e))?;
    Ok(())
}
