//! The ELBv2 reads and writes behind `cutover`, `rollback` and `cleanup`'s rule hand-over: list
//! a listener's rules with their actions and tags, find target groups by name, count healthy
//! targets, and change one rule's actions or tags. The only file in `traffic/` that calls AWS.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::{Action, Rule, Tag, TargetHealthStateEnum};
use serde::Serialize;

use super::forward::{Forward, ForwardError};
use crate::aws::errors::{call_error, code};
use crate::aws::Clients;
use crate::error::Result;

/// A listener rule as the routing commands see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleView {
    /// The rule's ARN.
    pub arn: String,
    /// Its priority; `None` for the listener's default rule.
    pub priority: Option<i32>,
    /// The values of its `path-pattern` condition(s).
    pub path_patterns: Vec<String>,
    /// Its actions exactly as AWS returned them.
    #[serde(skip)]
    pub actions: Vec<Action>,
    /// Its tags.
    pub tags: HashMap<String, String>,
}

impl RuleView {
    /// The rule's single forward action, or why it is not one.
    pub fn forward(&self) -> std::result::Result<Forward, ForwardError> {
        Forward::from_rule_actions(&self.actions)
    }

    /// True when the rule's path patterns are exactly `paths` (in any order).
    pub fn serves(&self, paths: &[String]) -> bool {
        let mut a = self.path_patterns.clone();
        let mut b = paths.to_vec();
        a.sort();
        b.sort();
        !a.is_empty() && a == b
    }

    /// Text naming the rule for messages: `rule 100 (/ossserver/*)`.
    pub fn label(&self) -> String {
        match self.priority {
            Some(p) => format!("rule {p} ({})", self.path_patterns.join(", ")),
            None => "the listener's default rule".to_string(),
        }
    }
}

/// Every rule of a listener (default rule last), sorted by priority, with actions and tags.
pub async fn listener_rules(c: &Clients, listener_arn: &str) -> Result<Vec<RuleView>> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = c
            .elb
            .describe_rules()
            .listener_arn(listener_arn)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| call_error("elasticloadbalancing:DescribeRules", listener_arn, e))?;
        rules.extend(out.rules().iter().cloned());
        match out.next_marker() {
            Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
            _ => break,
        }
    }
    let arns: Vec<String> = rules
        .iter()
        .filter_map(|r| r.rule_arn().map(str::to_string))
        .collect();
    let tags = tags_of(c, &arns).await?;
    let mut views: Vec<RuleView> = rules
        .into_iter()
        .map(|r| {
            let arn = r.rule_arn().unwrap_or_default().to_string();
            let priority = if r.is_default() == Some(true) {
                None
            } else {
                r.priority().and_then(|p| p.parse().ok())
            };
            let path_patterns = r
                .conditions()
                .iter()
                .filter(|c| c.field() == Some("path-pattern"))
                .flat_map(|c| {
                    let from_config = c
                        .path_pattern_config()
                        .map(|p| p.values().to_vec())
                        .unwrap_or_default();
                    if from_config.is_empty() {
                        c.values().to_vec()
                    } else {
                        from_config
                    }
                })
                .collect();
            RuleView {
                tags: tags.get(&arn).cloned().unwrap_or_default(),
                arn,
                priority,
                path_patterns,
                actions: r.actions().to_vec(),
            }
        })
        .collect();
    views.sort_by_key(|r| r.priority.unwrap_or(i32::MAX));
    Ok(views)
}

/// Tags of up to any number of ELB resources (asked 20 at a time, the API's limit).
pub async fn tags_of(
    c: &Clients,
    arns: &[String],
) -> Result<HashMap<String, HashMap<String, String>>> {
    let mut all = HashMap::new();
    for chunk in arns.chunks(20) {
        let out = c
            .elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| call_error("elasticloadbalancing:DescribeTags", &chunk.join(", "), e))?;
        for d in out.tag_descriptions() {
            let map = d
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect();
            all.insert(d.resource_arn().unwrap_or_default().to_string(), map);
        }
    }
    Ok(all)
}

/// A target group found by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroupView {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The load balancers whose rules use it.
    pub load_balancer_arns: Vec<String>,
}

/// The target group with this name, or `None` when there is none.
pub async fn target_group(c: &Clients, name: &str) -> Result<Option<TargetGroupView>> {
    match c.elb.describe_target_groups().names(name).send().await {
        Ok(out) => Ok(out.target_groups().first().map(|t| TargetGroupView {
            name: t.target_group_name().unwrap_or(name).to_string(),
            arn: t.target_group_arn().unwrap_or_default().to_string(),
            load_balancer_arns: t.load_balancer_arns().to_vec(),
        })),
        Err(e) if code(&e) == Some("TargetGroupNotFound") => Ok(None),
        Err(e) => Err(call_error(
            "elasticloadbalancing:DescribeTargetGroups",
            &format!("target group {name}"),
            e,
        )),
    }
}

/// Name → ARN for those of `names` that exist now.
pub async fn target_group_arns(c: &Clients, names: &[&str]) -> Result<HashMap<String, String>> {
    let mut map = HashMap::new();
    for name in names {
        if let Some(tg) = target_group(c, name).await? {
            map.insert(name.to_string(), tg.arn);
        }
    }
    Ok(map)
}

/// Target health of a group: how many targets are registered and how many are healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Targets in state `healthy`.
    pub healthy: usize,
    /// All registered targets.
    pub total: usize,
}

/// Count the healthy targets of a target group (`DescribeTargetHealth`).
pub async fn health(c: &Clients, target_group_arn: &str) -> Result<Health> {
    let out = c
        .elb
        .describe_target_health()
        .target_group_arn(target_group_arn)
        .send()
        .await
        .map_err(|e| {
            call_error(
                "elasticloadbalancing:DescribeTargetHealth",
                target_group_arn,
                e,
            )
        })?;
    let descs = out.target_health_descriptions();
    Ok(Health {
        healthy: descs
            .iter()
            .filter(|d| {
                d.target_health().and_then(|h| h.state()) == Some(&TargetHealthStateEnum::Healthy)
            })
            .count(),
        total: descs.len(),
    })
}

/// Replace a rule's actions with one forward action (`ModifyRule`; conditions unchanged).
pub async fn set_forward(c: &Clients, rule_arn: &str, forward: &Forward) -> Result<()> {
    c.elb
        .modify_rule()
        .rule_arn(rule_arn)
        .actions(forward.to_action())
        .send()
        .await
        .map_err(|e| call_error("elasticloadbalancing:ModifyRule", rule_arn, e))?;
    Ok(())
}

/// Add or overwrite tags on an ELB resource (`AddTags`).
pub async fn add_tags(c: &Clients, arn: &str, tags: &[(String, String)]) -> Result<()> {
    let tags: Vec<Tag> = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    c.elb
        .add_tags()
        .resource_arns(arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| call_error("elasticloadbalancing:AddTags", arn, e))?;
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
pub async fn delete_rule(c: &Clients, rule_arn: &str) -> Result<()> {
    c.elb
        .delete_rule()
        .rule_arn(rule_arn)
        .send()
        .await
        .map_err(|e| call_error("elasticloadbalancing:DeleteRule", rule_arn, e))?;
    Ok(())
}

/// The shared ALB's listener that the stacks' rules live on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerView {
    /// The ALB's name.
    pub load_balancer: String,
    /// The ALB's ARN.
    pub load_balancer_arn: String,
    /// The listener's ARN.
    pub arn: String,
    /// The listener's port.
    pub port: u16,
}

/// Find the ALB (by name or ARN) and its listener on `port`. `Ok(None)` when either is missing;
/// the caller says what that means for its command.
pub async fn find_listener(
    c: &Clients,
    lb: &crate::stack::LoadBalancerRef,
    port: u16,
) -> Result<Option<ListenerView>> {
    let Some(alb) = crate::aws::load_balancer::find(c, lb).await? else {
        return Ok(None);
    };
    Ok(
        crate::aws::load_balancer::listener(c, &alb.arn, i32::from(port))
            .await?
            .map(|l| ListenerView {
                load_balancer: alb.name.clone(),
                load_balancer_arn: alb.arn.clone(),
                arn: l.arn,
                port,
            }),
    )
}

/// One change to a listener rule, described before it is made and then made.
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
        tags: Vec<(String, String)>,
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
    pub fn planned(&self) -> super::call::PlannedCall {
        use super::call::PlannedCall;
        use serde_json::json;
        match self {
            RuleChange::SetForward { rule_arn, forward } => PlannedCall::new(
                "elasticloadbalancing:ModifyRule",
                json!({"RuleArn": rule_arn, "Actions": [forward.to_api_json()]}),
            ),
            RuleChange::AddTags { rule_arn, tags } => PlannedCall::new(
                "elasticloadbalancing:AddTags",
                json!({"ResourceArns": [rule_arn], "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()}),
            ),
            RuleChange::RemoveTags { rule_arn, keys } => PlannedCall::new(
                "elasticloadbalancing:RemoveTags",
                json!({"ResourceArns": [rule_arn], "TagKeys": keys}),
            ),
            RuleChange::Delete { rule_arn } => PlannedCall::new(
                "elasticloadbalancing:DeleteRule",
                json!({"RuleArn": rule_arn}),
            ),
        }
    }

    /// Make the call.
    pub async fn apply(&self, c: &Clients) -> Result<()> {
        match self {
            RuleChange::SetForward { rule_arn, forward } => set_forward(c, rule_arn, forward).await,
            RuleChange::AddTags { rule_arn, tags } => add_tags(c, rule_arn, tags).await,
            RuleChange::RemoveTags { rule_arn, keys } => remove_tags(c, rule_arn, keys).await,
            RuleChange::Delete { rule_arn } => delete_rule(c, rule_arn).await,
        }
    }
}
