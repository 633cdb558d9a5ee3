//! A listener rule's forward action as a typed value: the target groups it sends traffic to,
//! with their weights, and how the action was spelled, so it can be written back exactly.

use std::fmt;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, TargetGroupStickinessConfig, TargetGroupTuple,
};
use serde::Serialize;

/// The largest weight ALB accepts for one target group of a forward action.
pub const MAX_WEIGHT: u16 = 999;
/// The most target groups ALB accepts in one forward action.
pub const MAX_GROUPS: usize = 5;

/// One target group of a forward action and its weight (0–999).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeightedGroup {
    /// The target group's ARN.
    pub arn: String,
    /// Its weight; traffic is shared in proportion to the weights.
    pub weight: u16,
}

impl WeightedGroup {
    /// A group with a weight.
    pub fn new(arn: impl Into<String>, weight: u16) -> Self {
        WeightedGroup {
            arn: arn.into(),
            weight,
        }
    }

    /// The target group's name, read from its ARN (`…:targetgroup/NAME/ID`).
    pub fn name(&self) -> &str {
        target_group_name(&self.arn)
    }
}

pub use crate::aws::target_group::name_from_arn as target_group_name;

/// Target group stickiness of a forward action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stickiness {
    /// The action does not say (only possible without a forward config).
    Unset,
    /// Stickiness is off.
    Off,
    /// Stickiness is on for this many seconds (`None` when AWS gave no duration).
    On(Option<u32>),
}

/// How the forward action names its target groups. ALB accepts all three and returns what it
/// was given (or both), so rollback writes back the same spelling it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spelling {
    /// Only `TargetGroupArn` (one group, as `aws elbv2 create-rule --actions Type=forward,TargetGroupArn=…`).
    TargetGroupArn,
    /// Only `ForwardConfig` (a weighted forward).
    ForwardConfig,
    /// `TargetGroupArn` and a `ForwardConfig` naming the same single group.
    Both,
}

/// A forward action: where a listener rule sends its traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forward {
    /// The target groups and their weights, in the order the action lists them.
    pub groups: Vec<WeightedGroup>,
    /// Target group stickiness.
    pub stickiness: Stickiness,
    /// The action's `Order`, when it has one.
    pub order: Option<i32>,
    /// How the action spells its target groups.
    pub spelling: Spelling,
}

/// Why a value is not a valid forward action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    /// No target group at all.
    #[error("a forward action needs at least one target group")]
    NoGroups,
    /// More than ALB allows.
    #[error("a forward action can send traffic to at most {MAX_GROUPS} target groups, not {0}")]
    TooManyGroups(usize),
    /// A weight outside 0–999.
    #[error("target group {name} has weight {weight}; ALB weights are whole numbers from 0 to {MAX_WEIGHT}")]
    WeightOutOfRange {
        /// The group's name.
        name: String,
        /// The weight given.
        weight: i64,
    },
    /// Every weight is 0: the rule would send its requests nowhere.
    #[error("every target group has weight 0, so the rule would send its requests nowhere")]
    AllWeightsZero,
    /// The same group twice.
    #[error("target group {0} appears twice in one forward action")]
    DuplicateGroup(String),
    /// `TargetGroupArn` spelling with several groups.
    #[error(
        "a forward action that names its group with TargetGroupArn has exactly one group, not {0}"
    )]
    SpellingNeedsOneGroup(usize),
    /// The rule's actions are not a single forward.
    #[error("{0}")]
    NotAForward(String),
}

impl Forward {
    /// A forward to one target group, spelled as `TargetGroupArn` (what `up` creates).
    pub fn single(arn: impl Into<String>) -> Self {
        Forward {
            groups: vec![WeightedGroup::new(arn, 1)],
            stickiness: Stickiness::Unset,
            order: None,
            spelling: Spelling::TargetGroupArn,
        }
    }

    /// A weighted forward spelled as `ForwardConfig` with stickiness off.
    pub fn weighted(groups: Vec<WeightedGroup>) -> Self {
        Forward {
            groups,
            stickiness: Stickiness::Off,
            order: None,
            spelling: Spelling::ForwardConfig,
        }
    }

    /// Check ALB's limits: 1–5 distinct groups, weights 0–999, not all zero, spelling fits.
    pub fn validate(&self) -> Result<(), ForwardError> {
        if self.groups.is_empty() {
            return Err(ForwardError::NoGroups);
        }
        if self.groups.len() > MAX_GROUPS {
            return Err(ForwardError::TooManyGroups(self.groups.len()));
        }
        for (i, g) in self.groups.iter().enumerate() {
            if g.weight > MAX_WEIGHT {
                return Err(ForwardError::WeightOutOfRange {
                    name: g.name().to_string(),
                    weight: g.weight.into(),
                });
            }
            if self.groups[..i].iter().any(|o| o.arn == g.arn) {
                return Err(ForwardError::DuplicateGroup(g.name().to_string()));
            }
        }
        if self.groups.len() > 1 && self.groups.iter().all(|g| g.weight == 0) {
            return Err(ForwardError::AllWeightsZero);
        }
        if self.spelling != Spelling::ForwardConfig && self.groups.len() != 1 {
            return Err(ForwardError::SpellingNeedsOneGroup(self.groups.len()));
        }
        Ok(())
    }

    /// The weight this action gives to a target group (0 when it does not list it).
    pub fn weight_of(&self, arn: &str) -> u16 {
        self.groups
            .iter()
            .find(|g| g.arn == arn)
            .map(|g| g.weight)
            .unwrap_or(0)
    }

    /// True when the action lists this target group (with any weight).
    pub fn mentions(&self, arn: &str) -> bool {
        self.groups.iter().any(|g| g.arn == arn)
    }

    /// The share of requests (0.0–100.0 percent) this action sends to a target group.
    pub fn percent_of(&self, arn: &str) -> f64 {
        let total: u32 = self.groups.iter().map(|g| u32::from(g.weight)).sum();
        if total == 0 {
            return 0.0;
        }
        f64::from(self.weight_of(arn)) * 100.0 / f64::from(total)
    }

    /// True when the action sends some requests (weight > 0) to this target group.
    pub fn sends_traffic_to(&self, arn: &str) -> bool {
        self.percent_of(arn) > 0.0
    }

    /// Read a rule's actions: they must be exactly one forward action.
    pub fn from_rule_actions(actions: &[Action]) -> Result<Forward, ForwardError> {
        match actions {
            [one] => Forward::from_action(one),
            [] => Err(ForwardError::NotAForward("the rule has no action".into())),
            many => Err(ForwardError::NotAForward(format!(
                "the rule has {} actions ({}); mcpctl only moves rules whose single action is a forward",
                many.len(),
                many.iter()
                    .map(|a| a.r#type().map(|t| t.as_str()).unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Read one SDK action as a forward.
    pub fn from_action(action: &Action) -> Result<Forward, ForwardError> {
        if action.r#type() != Some(&ActionTypeEnum::Forward) {
            return Err(ForwardError::NotAForward(format!(
                "the rule's action is `{}`, not `forward`; mcpctl only moves forward actions",
                action.r#type().map(|t| t.as_str()).unwrap_or("?")
            )));
        }
        let arn_field = action.target_group_arn().filter(|a| !a.is_empty());
        let config = action.forward_config();
        let (groups, stickiness, spelling) = match (arn_field, config) {
            (Some(arn), None) => (
                vec![WeightedGroup::new(arn, 1)],
                Stickiness::Unset,
                Spelling::TargetGroupArn,
            ),
            (arn, Some(cfg)) => {
                let mut groups = Vec::new();
                for t in cfg.target_groups() {
                    let g_arn = t.target_group_arn().unwrap_or_default().to_string();
                    let weight = t.weight().unwrap_or(1);
                    let weight = u16::try_from(weight)
                        .ok()
                        .filter(|w| *w <= MAX_WEIGHT)
                        .ok_or_else(|| ForwardError::WeightOutOfRange {
                            name: target_group_name(&g_arn).to_string(),
                            weight: weight.into(),
                        })?;
                    groups.push(WeightedGroup::new(g_arn, weight));
                }
                let stickiness = match cfg.target_group_stickiness_config() {
                    None => Stickiness::Unset,
                    Some(s) if s.enabled() == Some(true) => {
                        Stickiness::On(s.duration_seconds().and_then(|d| u32::try_from(d).ok()))
                    }
                    Some(_) => Stickiness::Off,
                };
                let spelling = if arn.is_some() {
                    Spelling::Both
                } else {
                    Spelling::ForwardConfig
                };
                (groups, stickiness, spelling)
            }
            (None, None) => {
                return Err(ForwardError::NotAForward(
                    "the forward action names no target group".into(),
                ))
            }
        };
        let forward = Forward {
            groups,
            stickiness,
            order: action.order(),
            spelling,
        };
        forward.validate()?;
        Ok(forward)
    }

    /// This forward as the SDK action to send in `ModifyRule`, spelled as it was read.
    pub fn to_action(&self) -> Action {
        let mut b = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .set_order(self.order);
        if matches!(self.spelling, Spelling::TargetGroupArn | Spelling::Both) {
            if let Some(g) = self.groups.first() {
                b = b.target_group_arn(g.arn.clone());
            }
        }
        if matches!(self.spelling, Spelling::ForwardConfig | Spelling::Both) {
            let mut cfg = ForwardActionConfig::builder();
            for g in &self.groups {
                cfg = cfg.target_groups(
                    TargetGroupTuple::builder()
                        .target_group_arn(g.arn.clone())
                        .weight(i32::from(g.weight))
                        .build(),
                );
            }
            let stick = match self.stickiness {
                Stickiness::Unset => None,
                Stickiness::Off => Some(TargetGroupStickinessConfig::builder().enabled(false)),
                Stickiness::On(d) => Some(
                    TargetGroupStickinessConfig::builder()
                        .enabled(true)
                        .set_duration_seconds(d.and_then(|d| i32::try_from(d).ok())),
                ),
            };
            if let Some(s) = stick {
                cfg = cfg.target_group_stickiness_config(s.build());
            }
            b = b.forward_config(cfg.build());
        }
        b.build()
    }

    /// The action as JSON in the API's own field names (for `--dry-run` and archives).
    pub fn to_api_json(&self) -> serde_json::Value {
        let mut action = serde_json::Map::new();
        action.insert("Type".into(), "forward".into());
        if let Some(o) = self.order {
            action.insert("Order".into(), o.into());
        }
        if matches!(self.spelling, Spelling::TargetGroupArn | Spelling::Both) {
            if let Some(g) = self.groups.first() {
                action.insert("TargetGroupArn".into(), g.arn.clone().into());
            }
        }
        if matches!(self.spelling, Spelling::ForwardConfig | Spelling::Both) {
            let groups: Vec<serde_json::Value> = self
                .groups
                .iter()
                .map(|g| serde_json::json!({"TargetGroupArn": g.arn, "Weight": g.weight}))
                .collect();
            let mut cfg = serde_json::Map::new();
            cfg.insert("TargetGroups".into(), groups.into());
            match self.stickiness {
                Stickiness::Unset => {}
                Stickiness::Off => {
                    cfg.insert(
                        "TargetGroupStickinessConfig".into(),
                        serde_json::json!({"Enabled": false}),
                    );
                }
                Stickiness::On(d) => {
                    let mut s = serde_json::json!({"Enabled": true});
                    if let Some(d) = d {
                        s["DurationSeconds"] = d.into();
                    }
                    cfg.insert("TargetGroupStickinessConfig".into(), s);
                }
            }
            action.insert("ForwardConfig".into(), cfg.into());
        }
        serde_json::Value::Object(action)
    }
}

/// Shows the routing as people read it: `opensearch-mcp-tg 90% + opensearch-mcp-tg-stateless 10%`.
impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.groups.iter().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            let pct = self.percent_of(&g.arn);
            if pct.fract().abs() < 1e-9 {
                write!(f, "{} {}%", g.name(), pct as u32)?;
            } else {
                write!(f, "{} {:.1}%", g.name(), pct)?;
            }
            if self.groups.len() > 1 {
                write!(f, " (weight {})", g.weight)?;
            }
        }
        if let Stickiness::On(d) = self.stickiness {
            match d {
                Some(d) => write!(f, ", sticky {d}s")?,
                None => f.write_str(", sticky")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const OLD: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg/0123456789abcdef";
    pub(crate) const NEW: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/fedcba9876543210";

    #[test]
    fn name_comes_from_the_arn() {
        assert_eq!(target_group_name(OLD), "opensearch-mcp-tg");
        assert_eq!(target_group_name(NEW), "opensearch-mcp-tg-stateless");
        assert_eq!(target_group_name("plain"), "plain");
    }

    #[test]
    fn a_plain_forward_round_trips_with_its_spelling() {
        let action = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(OLD)
            .build();
        let f = Forward::from_action(&action).unwrap();
        assert_eq!(f, Forward::single(OLD));
        assert_eq!(f.to_action(), action);
        assert_eq!(f.percent_of(OLD), 100.0);
        assert_eq!(f.to_string(), "opensearch-mcp-tg 100%");
    }

    #[test]
    fn a_weighted_forward_round_trips_with_stickiness_and_order() {
        let action = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .order(2)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(OLD)
                            .weight(90)
                            .build(),
                    )
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(NEW)
                            .weight(10)
                            .build(),
                    )
                    .target_group_stickiness_config(
                        TargetGroupStickinessConfig::builder()
                            .enabled(true)
                            .duration_seconds(300)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let f = Forward::from_action(&action).unwrap();
        assert_eq!(f.spelling, Spelling::ForwardConfig);
        assert_eq!(f.stickiness, Stickiness::On(Some(300)));
        assert_eq!(f.order, Some(2));
        assert_eq!(f.to_action(), action);
        assert_eq!(f.weight_of(NEW), 10);
        assert!(f.sends_traffic_to(NEW));
        assert_eq!(
            f.to_string(),
            "opensearch-mcp-tg 90% (weight 90) + opensearch-mcp-tg-stateless 10% (weight 10), sticky 300s"
        );
        assert_eq!(
            serde_json::to_value(f.stickiness).unwrap(),
            serde_json::json!({"on": 300})
        );
        let json = f.to_api_json();
        assert_eq!(json["ForwardConfig"]["TargetGroups"][1]["Weight"], 10);
        assert_eq!(json["Order"], 2);
        assert!(json.get("TargetGroupArn").is_none());
    }

    #[test]
    fn aws_normalised_single_forward_keeps_both_fields() {
        // What real ALB returns for a rule created with only TargetGroupArn.
        let action = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(OLD)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(OLD)
                            .weight(1)
                            .build(),
                    )
                    .target_group_stickiness_config(
                        TargetGroupStickinessConfig::builder()
                            .enabled(false)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let f = Forward::from_action(&action).unwrap();
        assert_eq!(f.spelling, Spelling::Both);
        assert_eq!(f.stickiness, Stickiness::Off);
        assert_eq!(f.to_action(), action);
    }

    #[test]
    fn missing_weight_means_one() {
        let action = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn(OLD).build())
                    .build(),
            )
            .build();
        let f = Forward::from_action(&action).unwrap();
        assert_eq!(f.groups, vec![WeightedGroup::new(OLD, 1)]);
        assert_eq!(f.stickiness, Stickiness::Unset);
    }

    #[test]
    fn validation_enforces_alb_limits() {
        let g = |i: usize, w: u16| WeightedGroup::new(format!("arn:x:targetgroup/g{i}/id"), w);
        assert_eq!(
            Forward::weighted(vec![]).validate(),
            Err(ForwardError::NoGroups)
        );
        let six: Vec<_> = (0..6).map(|i| g(i, 1)).collect();
        assert_eq!(
            Forward::weighted(six).validate(),
            Err(ForwardError::TooManyGroups(6))
        );
        let five: Vec<_> = (0..5).map(|i| g(i, 999)).collect();
        assert_eq!(Forward::weighted(five).validate(), Ok(()));
        assert!(matches!(
            Forward::weighted(vec![g(0, 1000)]).validate(),
            Err(ForwardError::WeightOutOfRange { weight: 1000, .. })
        ));
        assert_eq!(
            Forward::weighted(vec![g(0, 0), g(1, 0)]).validate(),
            Err(ForwardError::AllWeightsZero)
        );
        assert_eq!(
            Forward::weighted(vec![g(0, 1), g(0, 2)]).validate(),
            Err(ForwardError::DuplicateGroup("g0".into()))
        );
        let mut two = Forward::weighted(vec![g(0, 1), g(1, 1)]);
        two.spelling = Spelling::TargetGroupArn;
        assert_eq!(two.validate(), Err(ForwardError::SpellingNeedsOneGroup(2)));
    }

    #[test]
    fn weights_from_aws_outside_the_range_are_rejected_not_wrapped() {
        let action = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(OLD)
                            .weight(-1)
                            .build(),
                    )
                    .build(),
            )
            .build();
        assert!(matches!(
            Forward::from_action(&action),
            Err(ForwardError::WeightOutOfRange { weight: -1, .. })
        ));
    }

    #[test]
    fn non_forward_rules_are_explained() {
        let fixed = Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .build();
        let err = Forward::from_rule_actions(std::slice::from_ref(&fixed)).unwrap_err();
        assert!(err.to_string().contains("`fixed-response`"), "{err}");
        let err = Forward::from_rule_actions(&[fixed.clone(), fixed]).unwrap_err();
        assert!(err.to_string().contains("2 actions"), "{err}");
        assert!(Forward::from_rule_actions(&[]).is_err());
    }
}
