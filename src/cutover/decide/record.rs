//! The routing a cutover replaced, recorded on the production rule's tags so that `rollback`
//! works from any machine.
//!
//! ELB tags allow 128-character keys, 256-character values (letters, digits, spaces and
//! `_ . : / = + - @`) and 50 tags per resource, and target group ARNs are ~100 characters, so the
//! record names target groups by **name** (at most 32 characters, unique per account and region)
//! in one compact value:
//!
//! ```text
//! v1 form=arn tg:opensearch-mcp-tg=1
//! v1 form=config order=1 stick=off tg:opensearch-mcp-tg=90 tg:opensearch-mcp-tg-stateless=10
//! ```
//!
//! Five groups of 32-character names with stickiness and an order still fit in 256 characters.
//! Names also make rollback work after `cleanup` and `up` recreated a target group under a new ARN.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::forward::{
    Forward, ForwardError, Spelling, Stickiness, WeightedGroup, MAX_WEIGHT,
};

// Both keys start with `mcpctl:cutover`, the prefix by which `up` leaves a rule's routing to
// `cutover` (see `crate::model::rule::CUTOVER_TAG_PREFIX`).

/// Tag holding the routing before the current cutover (present while a cutover is in effect).
pub const REPLACED_TAG: &str = "mcpctl:cutover-replaced";
/// Tag holding the routing the last rollback restored (so a second rollback knows it is done).
pub const RESTORED_TAG: &str = "mcpctl:cutover-restored";
/// Tag holding the routing the last cutover step set, written after its `ModifyRule`, so that
/// `cutover` and `rollback` notice a change they did not make ([`super::drift`]).
pub const APPLIED_TAG: &str = "mcpctl:cutover-applied";
/// The longest tag value ELB accepts.
pub const MAX_TAG_VALUE: usize = 256;

const VERSION: &str = "v1";

/// A recorded forward action, with target groups by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Target group names and weights, in action order.
    pub groups: Vec<(String, u16)>,
    /// Stickiness.
    pub stickiness: Stickiness,
    /// The action's `Order`.
    pub order: Option<i32>,
    /// How the action spelled its groups.
    pub spelling: Spelling,
}

/// Why a recorded routing tag could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the routing recorded in tag {REPLACED_TAG} (`{value}`) cannot be read: {reason}; restore the rule by hand (aws elbv2 modify-rule) and remove the tag")]
pub struct RecordError {
    /// The tag value.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Encode a forward action as a tag value (at most 256 characters, tag-safe characters only).
pub fn encode(forward: &Forward) -> String {
    let mut parts = vec![VERSION.to_string()];
    parts.push(
        match forward.spelling {
            Spelling::TargetGroupArn => "form=arn",
            Spelling::ForwardConfig => "form=config",
            Spelling::Both => "form=both",
        }
        .to_string(),
    );
    if let Some(o) = forward.order {
        parts.push(format!("order={o}"));
    }
    match forward.stickiness {
        Stickiness::Unset => {}
        Stickiness::Off => parts.push("stick=off".into()),
        Stickiness::On(None) => parts.push("stick=on".into()),
        Stickiness::On(Some(d)) => parts.push(format!("stick={d}")),
    }
    for g in &forward.groups {
        parts.push(format!("tg:{}={}", g.name(), g.weight));
    }
    parts.join(" ")
}

/// Decode a tag value written by [`encode`].
pub fn decode(value: &str) -> Result<Recorded, RecordError> {
    let err = |reason: String| RecordError {
        value: value.to_string(),
        reason,
    };
    let mut words = value.split_whitespace();
    if words.next() != Some(VERSION) {
        return Err(err(format!("it does not start with `{VERSION}`")));
    }
    let mut rec = Recorded {
        groups: Vec::new(),
        stickiness: Stickiness::Unset,
        order: None,
        spelling: Spelling::ForwardConfig,
    };
    let mut saw_form = false;
    for word in words {
        let (key, val) = word
            .split_once('=')
            .ok_or_else(|| err(format!("`{word}` is not KEY=VALUE")))?;
        match key {
            "form" => {
                saw_form = true;
                rec.spelling = match val {
                    "arn" => Spelling::TargetGroupArn,
                    "config" => Spelling::ForwardConfig,
                    "both" => Spelling::Both,
                    _ => return Err(err(format!("unknown form `{val}`"))),
                }
            }
            "order" => {
                rec.order = Some(
                    val.parse()
                        .map_err(|_| err(format!("order `{val}` is not a number")))?,
                )
            }
            "stick" => {
                rec.stickiness = match val {
                    "off" => Stickiness::Off,
                    "on" => Stickiness::On(None),
                    d => Stickiness::On(Some(d.parse().map_err(|_| {
                        err(format!("stickiness `{d}` is not off, on or seconds"))
                    })?)),
                }
            }
            _ => {
                let name = key
                    .strip_prefix("tg:")
                    .filter(|n| valid_target_group_name(n))
                    .ok_or_else(|| err(format!("unknown field `{key}`")))?;
                let weight: u16 = val
                    .parse()
                    .ok()
                    .filter(|w| *w <= MAX_WEIGHT)
                    .ok_or_else(|| err(format!("weight `{val}` of {name} is not 0–999")))?;
                rec.groups.push((name.to_string(), weight));
            }
        }
    }
    if !saw_form {
        return Err(err("it has no form=".into()));
    }
    if rec.groups.is_empty() {
        return Err(err("it names no target group".into()));
    }
    Ok(rec)
}

/// True for names ALB accepts for target groups: 1–32 letters, digits and hyphens, no hyphen
/// at either end.
pub fn valid_target_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Recorded {
    /// The target group names the record refers to.
    pub fn names(&self) -> Vec<&str> {
        self.groups.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Turn names back into ARNs. `Err` lists the names that have no target group now.
    pub fn resolve(&self, arns: &HashMap<String, String>) -> Result<Forward, Vec<String>> {
        let missing: Vec<String> = self
            .groups
            .iter()
            .filter(|(n, _)| !arns.contains_key(n))
            .map(|(n, _)| n.clone())
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(Forward {
            groups: self
                .groups
                .iter()
                .map(|(n, w)| WeightedGroup::new(arns[n].clone(), *w))
                .collect(),
            stickiness: self.stickiness,
            order: self.order,
            spelling: self.spelling,
        })
    }
}

/// Check that a forward action can be recorded in one tag value.
pub fn encodable(forward: &Forward) -> Result<String, ForwardError> {
    forward.validate()?;
    let value = encode(forward);
    if value.len() > MAX_TAG_VALUE {
        return Err(ForwardError::NotAForward(format!(
            "the routing `{value}` is longer than the {MAX_TAG_VALUE} characters an ELB tag value holds"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg/0123456789abcdef";
    const NEW: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/fedcba9876543210";

    fn arns() -> HashMap<String, String> {
        HashMap::from([
            ("opensearch-mcp-tg".to_string(), OLD.to_string()),
            ("opensearch-mcp-tg-stateless".to_string(), NEW.to_string()),
        ])
    }

    #[test]
    fn a_single_forward_is_short() {
        let f = Forward::single(OLD);
        assert_eq!(encode(&f), "v1 form=arn tg:opensearch-mcp-tg=1");
        let back = decode(&encode(&f)).unwrap().resolve(&arns()).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn a_weighted_forward_round_trips_exactly() {
        let mut f = Forward::weighted(vec![
            WeightedGroup::new(OLD, 90),
            WeightedGroup::new(NEW, 10),
        ]);
        f.order = Some(1);
        f.stickiness = Stickiness::On(Some(3600));
        let text = encode(&f);
        assert_eq!(
            text,
            "v1 form=config order=1 stick=3600 tg:opensearch-mcp-tg=90 tg:opensearch-mcp-tg-stateless=10"
        );
        assert_eq!(decode(&text).unwrap().resolve(&arns()).unwrap(), f);
        for s in [Stickiness::Off, Stickiness::On(None), Stickiness::Unset] {
            f.stickiness = s;
            assert_eq!(decode(&encode(&f)).unwrap().resolve(&arns()).unwrap(), f);
        }
        f.spelling = Spelling::Both;
        f.groups.truncate(1);
        assert_eq!(decode(&encode(&f)).unwrap().resolve(&arns()).unwrap(), f);
    }

    #[test]
    fn the_largest_forward_fits_one_tag_value_with_tag_safe_characters() {
        let name = |i: usize| format!("{}{i}", "n".repeat(31));
        let groups: Vec<_> = (0..5)
            .map(|i| {
                WeightedGroup::new(
                    format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{}/0123456789abcdef", name(i)),
                    999,
                )
            })
            .collect();
        let mut f = Forward::weighted(groups);
        f.order = Some(50000);
        f.stickiness = Stickiness::On(Some(604800));
        let value = encodable(&f).unwrap();
        assert!(value.len() <= MAX_TAG_VALUE, "{} chars", value.len());
        assert!(value
            .chars()
            .all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c)));
        assert!(REPLACED_TAG.len() <= 128 && RESTORED_TAG.len() <= 128);
        let map: HashMap<_, _> = f
            .groups
            .iter()
            .map(|g| (g.name().to_string(), g.arn.clone()))
            .collect();
        assert_eq!(decode(&value).unwrap().resolve(&map).unwrap(), f);
    }

    #[test]
    fn missing_groups_are_named() {
        let rec = decode("v1 form=arn tg:opensearch-mcp-tg=1").unwrap();
        let only_new = HashMap::from([("opensearch-mcp-tg-stateless".to_string(), NEW.into())]);
        assert_eq!(
            rec.resolve(&only_new),
            Err(vec!["opensearch-mcp-tg".to_string()])
        );
        assert_eq!(rec.names(), vec!["opensearch-mcp-tg"]);
    }

    #[test]
    fn damaged_records_are_rejected_with_the_reason() {
        for (value, reason) in [
            ("", "does not start with `v1`"),
            ("v2 form=arn tg:a=1", "does not start"),
            ("v1 tg:a=1", "no form="),
            ("v1 form=arn", "names no target group"),
            ("v1 form=odd tg:a=1", "unknown form"),
            ("v1 form=arn tg:a=1000", "not 0–999"),
            ("v1 form=arn tg:-a=1", "unknown field"),
            ("v1 form=arn nonsense", "not KEY=VALUE"),
            ("v1 form=arn stick=maybe tg:a=1", "stickiness"),
            ("v1 form=arn order=x tg:a=1", "order"),
        ] {
            let e = decode(value).unwrap_err();
            assert!(e.reason.contains(reason), "{value}: {}", e.reason);
            assert!(e.to_string().contains("modify-rule"));
        }
    }

    #[test]
    fn up_recognises_the_record_tags_and_leaves_the_routing_alone() {
        use crate::model::rule::CUTOVER_TAG_PREFIX;
        assert!(REPLACED_TAG.starts_with(CUTOVER_TAG_PREFIX));
        assert!(RESTORED_TAG.starts_with(CUTOVER_TAG_PREFIX));
        assert!(APPLIED_TAG.starts_with(CUTOVER_TAG_PREFIX));
    }

    #[test]
    fn target_group_names_follow_alb_rules() {
        assert!(valid_target_group_name("opensearch-mcp-tg"));
        assert!(!valid_target_group_name(""));
        assert!(!valid_target_group_name("-x"));
        assert!(!valid_target_group_name("x-"));
        assert!(!valid_target_group_name("a_b"));
        assert!(!valid_target_group_name(&"a".repeat(33)));
    }
}
