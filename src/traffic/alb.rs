//! The ELBv2 reads and writes behind `cutover`, `rollback` and `cleanup`'s rule hand-over: list
//! a listener's rules with their actions and tags, find target groups by name, count healthy
//! targets, and change one rule's actions or tags ([`RuleChange`]: the call described, then
//! made). The only file in `traffic/` that uses AWS, always through [`crate::aws`].

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::Action;
use serde::Serialize;

use super::forward::{Forward, ForwardError};
use crate::aws::{listener_rule, Clients};
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
    let rules = crate::aws::listener_rule::describe_all(c, listener_arn).await?;
    let arns: Vec<String> = rules
        .iter()
        .filter_map(|r| r.rule_arn().map(str::to_string))
        .collect();
    let tags = tags_of(c, &arns).await?;
    let mut views: Vec<RuleView> = rules
        .iter()
        .map(|r| {
            let arn = r.rule_arn().unwrap_or_default().to_string();
            RuleView {
                tags: tags.get(&arn).cloned().unwrap_or_default(),
                priority: if r.is_default() == Some(true) {
                    None
                } else {
                    r.priority().and_then(|p| p.parse().ok())
                },
                path_patterns: crate::aws::listener_rule::path_patterns(r),
                actions: r.actions().to_vec(),
                arn,
            }
        })
        .collect();
    views.sort_by_key(|r| r.priority.unwrap_or(i32::MAX));
    Ok(views)
}

/// Tags of any number of ELB resources, by ARN.
pub async fn tags_of(
    c: &Clients,
    arns: &[String],
) -> Result<HashMap<String, HashMap<String, String>>> {
    Ok(crate::aws::target_group::tags_of(c, arns)
        .await?
        .into_iter()
        .map(|(arn, tags)| (arn, tags.into_iter().collect()))
        .collect())
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
    Ok(crate::aws::target_group::describe_by_name(c, name)
        .await?
        .map(|t| TargetGroupView {
            name: t.target_group_name().unwrap_or(name).to_string(),
            arn: t.target_group_arn().unwrap_or_default().to_string(),
            load_balancer_arns: t.load_balancer_arns().to_vec(),
        }))
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

/// The rules of every listener of the ALB (empty when the ALB does not exist), each listener's
/// sorted by priority.
pub async fn all_rules(c: &Clients, lb: &crate::stack::LoadBalancerRef) -> Result<Vec<RuleView>> {
    let Some(alb) = crate::aws::load_balancer::find(c, lb).await? else {
        return Ok(Vec::new());
    };
    let mut all = Vec::new();
    for l in crate::aws::load_balancer::listeners(c, &alb.arn).await? {
        all.extend(listener_rules(c, &l.arn).await?);
    }
    Ok(all)
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
            RuleChange::SetForward { rule_arn, forward } => {
                listener_rule::set_actions(c, rule_arn, forward.to_action()).await
            }
            RuleChange::AddTags { rule_arn, tags } => {
                crate::aws::target_group::add_tags(
                    c,
                    rule_arn,
                    tags,
                    &format!("listener rule {rule_arn}"),
                )
                .await
            }
            RuleChange::RemoveTags { rule_arn, keys } => {
                listener_rule::remove_tags(c, rule_arn, keys).await
            }
            RuleChange::Delete { rule_arn } => listener_rule::delete(c, rule_arn).await,
        }
    }
}
