//! A listener rule's forward action as a typed value: the target groups it sends traffic to,
//! with their weights, and how the action was spelled, so it can be written back exactly.
//! The one model of a forward action: `up`'s plan, `cutover`, `rollback`, `cleanup`, `verify`
//! and `status` all read it. Plain data with ALB's limits checked in [`Forward::validate`];
//! the SDK `Action` and API-JSON spellings are at the AWS edge (`aws::forward::action`).

use std::fmt;

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

/// The name in a target group ARN (`arn:aws:elasticloadbalancing:…:targetgroup/NAME/ID`);
/// the whole string when it is not such an ARN.
pub fn target_group_name(arn: &str) -> &str {
    arn.split_once(":targetgroup/")
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or(arn)
}

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

    /// This routing with one more target group at `weight` (spelled as a `ForwardConfig`, which
    /// several groups need); `self` when it already lists the group.
    pub fn with_group(&self, arn: &str, weight: u16) -> Result<Forward, ForwardError> {
        if self.mentions(arn) {
            return Ok(self.clone());
        }
        let mut f = self.clone();
        f.groups.push(WeightedGroup::new(arn, weight));
        if f.spelling != Spelling::ForwardConfig {
            f.spelling = Spelling::ForwardConfig;
            if f.stickiness == Stickiness::Unset {
                // AWS fills in "off" for a ForwardConfig without stickiness.
                f.stickiness = Stickiness::Off;
            }
        }
        f.validate()?;
        Ok(f)
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

    const OLD: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg/0123456789abcdef";
    const NEW: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/fedcba9876543210";

    #[test]
    fn name_comes_from_the_arn() {
        assert_eq!(target_group_name(OLD), "opensearch-mcp-tg");
        assert_eq!(target_group_name(NEW), "opensearch-mcp-tg-stateless");
        assert_eq!(target_group_name("plain"), "plain");
    }

    #[test]
    fn a_group_added_at_weight_0_moves_no_traffic() {
        let f = Forward::single(OLD).with_group(NEW, 0).unwrap();
        assert_eq!(
            f.groups,
            vec![WeightedGroup::new(OLD, 1), WeightedGroup::new(NEW, 0)]
        );
        assert_eq!(f.spelling, Spelling::ForwardConfig);
        assert_eq!(f.stickiness, Stickiness::Off);
        assert_eq!(f.percent_of(OLD), 100.0);
        assert_eq!(f.with_group(NEW, 0).unwrap(), f, "already listed");
        let g = |i: usize| format!("arn:x:targetgroup/g{i}/id");
        let five = Forward::weighted((0..5).map(|i| WeightedGroup::new(g(i), 1)).collect());
        assert_eq!(
            five.with_group(&g(9), 0),
            Err(ForwardError::TooManyGroups(6))
        );
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
}
