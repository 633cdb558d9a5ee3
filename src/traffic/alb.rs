//! The ELBv2 reads and writes behind `cutover`, `rollback` and `cleanup`'s rule hand-over: list
//! a listener's rules with their actions and tags, find target groups by name, count healthy
//! targets, and change one rule's actions or tags. The only file in `traffic/` that calls AWS.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::{Action, Rule, Tag, TargetHealthStateEnum};
use aws_sdk_elasticloadbalancingv2::Client;
use serde::Serialize;

use super::forward::{Forward, ForwardError};
use crate::error::{Error, Result};

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

fn elb_error(action: &str, resource: &str, e: impl std::fmt::Display) -> Error {
    Error::failed(format!(
        "elasticloadbalancing:{action} on {resource} failed: {e}; check the credentials, --region and that the resource exists"
    ))
}

fn sdk_message<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    aws_smithy_types::error::display::DisplayErrorContext(e).to_string()
}

fn error_code<E, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> Option<&str>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    match e {
        aws_smithy_runtime_api::client::result::SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

/// Every rule of a listener (default rule last), sorted by priority, with actions and tags.
pub async fn listener_rules(elb: &Client, listener_arn: &str) -> Result<Vec<RuleView>> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = elb
            .describe_rules()
            .listener_arn(listener_arn)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| elb_error("DescribeRules", listener_arn, sdk_message(&e)))?;
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
    let tags = tags_of(elb, &arns).await?;
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
    elb: &Client,
    arns: &[String],
) -> Result<HashMap<String, HashMap<String, String>>> {
    let mut all = HashMap::new();
    for chunk in arns.chunks(20) {
        let out = elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| elb_error("DescribeTags", &chunk.join(", "), sdk_message(&e)))?;
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
pub async fn target_group(elb: &Client, name: &str) -> Result<Option<TargetGroupView>> {
    match elb.describe_target_groups().names(name).send().await {
        Ok(out) => Ok(out.target_groups().first().map(|t| TargetGroupView {
            name: t.target_group_name().unwrap_or(name).to_string(),
            arn: t.target_group_arn().unwrap_or_default().to_string(),
            load_balancer_arns: t.load_balancer_arns().to_vec(),
        })),
        Err(e) if error_code(&e) == Some("TargetGroupNotFound") => Ok(None),
        Err(e) => Err(elb_error(
            "DescribeTargetGroups",
            &format!("target group {name}"),
            sdk_message(&e),
        )),
    }
}

/// Name → ARN for those of `names` that exist now.
pub async fn target_group_arns(elb: &Client, names: &[&str]) -> Result<HashMap<String, String>> {
    let mut map = HashMap::new();
    for name in names {
        if let Some(tg) = target_group(elb, name).await? {
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
pub async fn health(elb: &Client, target_group_arn: &str) -> Result<Health> {
    let out = elb
        .describe_target_health()
        .target_group_arn(target_group_arn)
        .send()
        .await
        .map_err(|e| elb_error("DescribeTargetHealth", target_group_arn, sdk_message(&e)))?;
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
pub async fn set_forward(elb: &Client, rule_arn: &str, forward: &Forward) -> Result<()> {
    elb.modify_rule()
        .rule_arn(rule_arn)
        .actions(forward.to_action())
        .send()
        .await
        .map_err(|e| elb_error("ModifyRule", rule_arn, sdk_message(&e)))?;
    Ok(())
}

/// Add or overwrite tags on an ELB resource (`AddTags`).
pub async fn add_tags(elb: &Client, arn: &str, tags: &[(String, String)]) -> Result<()> {
    let tags: Vec<Tag> = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    elb.add_tags()
        .resource_arns(arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| elb_error("AddTags", arn, sdk_message(&e)))?;
    Ok(())
}

/// Remove tags from an ELB resource (`RemoveTags`).
pub async fn remove_tags(elb: &Client, arn: &str, keys: &[String]) -> Result<()> {
    elb.remove_tags()
        .resource_arns(arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map_err(|e| elb_error("RemoveTags", arn, sdk_message(&e)))?;
    Ok(())
}

/// Delete a listener rule (`DeleteRule`).
pub async fn delete_rule(elb: &Client, rule_arn: &str) -> Result<()> {
    elb.delete_rule()
        .rule_arn(rule_arn)
        .send()
        .await
        .map_err(|e| elb_error("DeleteRule", rule_arn, sdk_message(&e)))?;
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
    elb: &Client,
    lb: &crate::stack::LoadBalancerRef,
    port: u16,
) -> Result<Option<ListenerView>> {
    use crate::stack::LoadBalancerRef;
    let req = elb.describe_load_balancers();
    let req = match lb {
        LoadBalancerRef::Name(n) => req.names(n),
        LoadBalancerRef::Arn(a) => req.load_balancer_arns(a),
    };
    let out = match req.send().await {
        Ok(o) => o,
        Err(e) if error_code(&e) == Some("LoadBalancerNotFound") => return Ok(None),
        Err(e) => {
            return Err(elb_error(
                "DescribeLoadBalancers",
                &format!("load balancer {lb}"),
                sdk_message(&e),
            ))
        }
    };
    let Some(alb) = out.load_balancers().first() else {
        return Ok(None);
    };
    let alb_arn = alb.load_balancer_arn().unwrap_or_default().to_string();
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(&alb_arn)
        .send()
        .await
        .map_err(|e| elb_error("DescribeListeners", &alb_arn, sdk_message(&e)))?;
    Ok(listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(i32::from(port)))
        .map(|l| ListenerView {
            load_balancer: alb.load_balancer_name().unwrap_or_default().to_string(),
            load_balancer_arn: alb_arn.clone(),
            arn: l.listener_arn().unwrap_or_default().to_string(),
            port,
        }))
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
    pub async fn apply(&self, elb: &Client) -> Result<()> {
        match self {
            RuleChange::SetForward { rule_arn, forward } => {
                set_forward(elb, rule_arn, forward).await
            }
            RuleChange::AddTags { rule_arn, tags } => add_tags(elb, rule_arn, tags).await,
            RuleChange::RemoveTags { rule_arn, keys } => remove_tags(elb, rule_arn, keys).await,
            RuleChange::Delete { rule_arn } => delete_rule(elb, rule_arn).await,
        }
    }
}

/// An ELBv2 client from aws-config's default chain, honouring `--profile` and the region.
pub async fn connect(profile: Option<&str>, region: &str) -> Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()));
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    Client::new(&loader.load().await)
}
