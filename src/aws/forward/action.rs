//! A forward action in the SDK's `Action` and in the API's JSON field names: read from
//! `DescribeRules`, written back in `ModifyRule` spelled exactly as it was read, and shown by
//! `--dry-run` and the archive.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, TargetGroupStickinessConfig, TargetGroupTuple,
};

use super::{
    target_group_name, Forward, ForwardError, Spelling, Stickiness, WeightedGroup, MAX_WEIGHT,
};

impl Forward {
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

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg/0123456789abcdef";
    const NEW: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/fedcba9876543210";

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
        let fixed = crate::aws::listener_rule::action_from_sdk(&fixed);
        let err = Forward::from_rule_actions(std::slice::from_ref(&fixed)).unwrap_err();
        assert!(err.to_string().contains("`fixed-response`"), "{err}");
        let err = Forward::from_rule_actions(&[fixed.clone(), fixed]).unwrap_err();
        assert!(err.to_string().contains("2 actions"), "{err}");
        assert!(Forward::from_rule_actions(&[]).is_err());
    }
}
