//! The pure "before → after" of a cutover and the decision of a rollback: no AWS calls here.

use serde::Serialize;

use super::record::{self, RecordError, Recorded, REPLACED_TAG, RESTORED_TAG};
use crate::model::forward::{Forward, ForwardError, Spelling, Stickiness, WeightedGroup};
use crate::model::rule::tag_value;

/// The share of production traffic to send to the new stack: a whole percentage, 1–100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Percent(u8);

impl Percent {
    /// All of the traffic.
    pub const ALL: Percent = Percent(100);

    /// A percentage from 1 to 100.
    pub fn new(value: u8) -> Option<Percent> {
        (1..=100).contains(&value).then_some(Percent(value))
    }

    /// The number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl std::str::FromStr for Percent {
    type Err = String;

    /// Parses `--weight N`; the message says what to write instead.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim().trim_end_matches('%');
        trimmed
            .parse::<u64>()
            .ok()
            .and_then(|n| u8::try_from(n).ok())
            .and_then(Percent::new)
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a share of traffic: write a whole percentage from 1 to 100 \
                     (e.g. --weight 10 for a canary, leave it out for all traffic)"
                )
            })
    }
}

/// What a cutover changes on the production rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CutoverChange {
    /// The routing now.
    pub before: Forward,
    /// The routing after the cutover.
    pub after: Forward,
    /// Target groups the current routing sends to that the new routing drops (not `from`/`to`).
    pub dropped: Vec<String>,
    /// True when `after` equals `before` (nothing to change).
    pub unchanged: bool,
}

/// Compute the routing for sending `percent` of the rule's traffic to `to`, the rest to `from`.
///
/// The result forwards to exactly `from` (100 − N) and `to` (N). At 100 `from` stays in the
/// action at weight 0: it gets no request, but its target group stays attached to the load
/// balancer, so its targets keep being health-checked (not `unused`, `Target.NotInUse`) and
/// a rollback or an `up` of the `--from` stack finds them healthy. ALB accepts weights from 0 to
/// 999 as long as one is above 0
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#forward-actions>,
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html>).
/// Only when `from` has no target group (`from_arn` empty) does the result forward to `to`
/// alone. The current action's stickiness and order are kept; a single-group result keeps the
/// current spelling when that was a single-group spelling, so a plain rule stays plain.
pub fn cutover(
    current: &Forward,
    from_arn: &str,
    to_arn: &str,
    percent: Percent,
) -> Result<CutoverChange, ForwardError> {
    let n = u16::from(percent.get());
    let groups = if n == 100 && (from_arn.is_empty() || from_arn == to_arn) {
        vec![WeightedGroup::new(to_arn, 1)]
    } else {
        vec![
            WeightedGroup::new(from_arn, 100 - n),
            WeightedGroup::new(to_arn, n),
        ]
    };
    let spelling = if groups.len() == 1 && current.spelling != Spelling::ForwardConfig {
        current.spelling
    } else {
        Spelling::ForwardConfig
    };
    let stickiness = match (spelling, current.stickiness) {
        // A ForwardConfig always carries stickiness; AWS fills in "off".
        (Spelling::ForwardConfig | Spelling::Both, Stickiness::Unset) => Stickiness::Off,
        (_, s) => s,
    };
    let after = Forward {
        groups,
        stickiness,
        order: current.order,
        spelling,
    };
    after.validate()?;
    let dropped = current
        .groups
        .iter()
        .filter(|g| g.arn != from_arn && g.arn != to_arn && g.weight > 0)
        .map(|g| g.name().to_string())
        .collect();
    Ok(CutoverChange {
        unchanged: record::encode(&after) == record::encode(current),
        before: current.clone(),
        after,
        dropped,
    })
}

/// What a cutover does with the rule's record of the replaced routing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "record")]
pub enum RecordUpdate {
    /// A cutover is already in effect: keep the routing recorded before the first step
    /// (a canary at 10 then 100 still rolls back to the original).
    Keep {
        /// The recorded value.
        value: String,
    },
    /// Record the current routing (tag [`REPLACED_TAG`]) and drop the last rollback's
    /// [`RESTORED_TAG`] if there is one.
    Write {
        /// The value to write.
        value: String,
        /// True when [`RESTORED_TAG`] must be removed.
        remove_restored: bool,
    },
}

/// Decide what a cutover records, from the rule's current routing and tags.
pub fn record_for_cutover(
    current: &Forward,
    tags: &[(String, String)],
) -> Result<RecordUpdate, ForwardError> {
    let now = record::encodable(current)?;
    match tag_value(tags, REPLACED_TAG) {
        Some(value) if value != now => Ok(RecordUpdate::Keep {
            value: value.to_string(),
        }),
        _ => Ok(RecordUpdate::Write {
            value: now,
            remove_restored: tag_value(tags, RESTORED_TAG).is_some(),
        }),
    }
}

/// What `rollback` should do with a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "decision")]
pub enum RollbackDecision {
    /// No cutover was ever recorded on the rule.
    NothingRecorded,
    /// The recorded routing is already in place (a second rollback); `fix_tags` is true when
    /// the tags still say a cutover is in effect (a rollback interrupted after its ModifyRule).
    AlreadyRestored {
        /// Move the record from [`REPLACED_TAG`] to [`RESTORED_TAG`].
        fix_tags: bool,
    },
    /// Restore this recorded routing.
    Restore {
        /// The recorded routing, by target group name.
        recorded: Recorded,
        /// The raw tag value.
        value: String,
    },
}

/// Decide a rollback from the rule's current routing and tags. `forced` is true when the live
/// routing is not what mcpctl left there ([`super::drift`]) and the user passed
/// `rollback --force`: then the routing the last rollback restored is put back again.
pub fn rollback_decision(
    current: &Forward,
    tags: &[(String, String)],
    forced: bool,
) -> Result<RollbackDecision, RecordError> {
    match tag_value(tags, REPLACED_TAG) {
        Some(value) => {
            let recorded = record::decode(value)?;
            if record::encode(current) == value {
                Ok(RollbackDecision::AlreadyRestored { fix_tags: true })
            } else {
                Ok(RollbackDecision::Restore {
                    recorded,
                    value: value.to_string(),
                })
            }
        }
        None => match tag_value(tags, RESTORED_TAG) {
            Some(value) if forced && record::encode(current) != value => {
                Ok(RollbackDecision::Restore {
                    recorded: record::decode(value)?,
                    value: value.to_string(),
                })
            }
            Some(_) => Ok(RollbackDecision::AlreadyRestored { fix_tags: false }),
            None => Ok(RollbackDecision::NothingRecorded),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg/0123456789abcdef";
    const NEW: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/fedcba9876543210";
    const OTHER: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/experiment/00";

    fn pct(n: u8) -> Percent {
        Percent::new(n).unwrap()
    }

    #[test]
    fn percent_accepts_1_to_100_and_explains_the_rest() {
        assert_eq!("10".parse::<Percent>().unwrap().get(), 10);
        assert_eq!("50%".parse::<Percent>().unwrap().get(), 50);
        assert_eq!("100".parse::<Percent>(), Ok(Percent::ALL));
        for bad in [
            "0",
            "101",
            "1000",
            "-5",
            "ten",
            "",
            "2.5",
            "99999999999999999999",
        ] {
            let e = bad.parse::<Percent>().unwrap_err();
            assert!(e.contains("whole percentage from 1 to 100"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_canary_splits_between_from_and_to() {
        let c = cutover(&Forward::single(OLD), OLD, NEW, pct(10)).unwrap();
        assert_eq!(
            c.after.groups,
            vec![WeightedGroup::new(OLD, 90), WeightedGroup::new(NEW, 10)]
        );
        assert_eq!(c.after.spelling, Spelling::ForwardConfig);
        assert_eq!(c.after.stickiness, Stickiness::Off);
        assert!(!c.unchanged);
        assert!(c.dropped.is_empty());
        assert_eq!(c.after.percent_of(NEW), 10.0);
    }

    #[test]
    fn full_cutover_keeps_the_from_group_at_weight_0() {
        let c = cutover(&Forward::single(OLD), OLD, NEW, Percent::ALL).unwrap();
        assert_eq!(
            c.after.groups,
            vec![WeightedGroup::new(OLD, 0), WeightedGroup::new(NEW, 100)]
        );
        assert_eq!(c.after.spelling, Spelling::ForwardConfig);
        assert_eq!(c.after.validate(), Ok(()));
        assert!(c.after.mentions(OLD) && !c.after.sends_traffic_to(OLD));
        assert_eq!(c.after.percent_of(NEW), 100.0);
        // From a canary the same.
        let canary = cutover(&Forward::single(OLD), OLD, NEW, pct(50))
            .unwrap()
            .after;
        let full = cutover(&canary, OLD, NEW, Percent::ALL).unwrap();
        assert_eq!(full.after, c.after);
        // Without a --from target group (it was deleted) only the new group is left, in the
        // old spelling.
        let alone = cutover(&Forward::single(OLD), "", NEW, Percent::ALL).unwrap();
        assert_eq!(alone.after, Forward::single(NEW));
    }

    #[test]
    fn stickiness_and_order_are_kept() {
        let mut cur = Forward::weighted(vec![WeightedGroup::new(OLD, 1)]);
        cur.stickiness = Stickiness::On(Some(60));
        cur.order = Some(3);
        let c = cutover(&cur, OLD, NEW, pct(25)).unwrap();
        assert_eq!(c.after.stickiness, Stickiness::On(Some(60)));
        assert_eq!(c.after.order, Some(3));
    }

    #[test]
    fn the_same_cutover_twice_is_unchanged() {
        let first = cutover(&Forward::single(OLD), OLD, NEW, pct(10)).unwrap();
        let again = cutover(&first.after, OLD, NEW, pct(10)).unwrap();
        assert!(again.unchanged);
        let full = cutover(&Forward::single(OLD), OLD, NEW, Percent::ALL).unwrap();
        assert!(
            cutover(&full.after, OLD, NEW, Percent::ALL)
                .unwrap()
                .unchanged
        );
    }

    #[test]
    fn other_groups_are_dropped_and_reported() {
        let cur = Forward::weighted(vec![
            WeightedGroup::new(OLD, 80),
            WeightedGroup::new(OTHER, 20),
        ]);
        let c = cutover(&cur, OLD, NEW, pct(10)).unwrap();
        assert_eq!(c.dropped, vec!["experiment".to_string()]);
        assert!(!c.after.mentions(OTHER));
    }

    #[test]
    fn going_back_to_a_canary_after_full_cutover_brings_from_back() {
        let c = cutover(&Forward::single(NEW), OLD, NEW, pct(10)).unwrap();
        assert_eq!(c.after.weight_of(OLD), 90);
        assert_eq!(c.after.weight_of(NEW), 10);
    }

    #[test]
    fn the_first_cutover_records_and_later_steps_keep_the_original() {
        let original = Forward::single(OLD);
        let mut tags = Vec::new();
        let first = record_for_cutover(&original, &tags).unwrap();
        let value = "v1 form=arn tg:opensearch-mcp-tg=1".to_string();
        assert_eq!(
            first,
            RecordUpdate::Write {
                value: value.clone(),
                remove_restored: false
            }
        );
        tags.push((REPLACED_TAG.to_string(), value.clone()));
        let canary = cutover(&original, OLD, NEW, pct(10)).unwrap().after;
        assert_eq!(
            record_for_cutover(&canary, &tags).unwrap(),
            RecordUpdate::Keep { value }
        );
    }

    #[test]
    fn a_cutover_after_a_rollback_records_afresh() {
        let original = Forward::single(OLD);
        let tags = vec![(
            RESTORED_TAG.to_string(),
            "v1 form=arn tg:opensearch-mcp-tg=1".to_string(),
        )];
        assert!(matches!(
            record_for_cutover(&original, &tags).unwrap(),
            RecordUpdate::Write {
                remove_restored: true,
                ..
            }
        ));
    }

    #[test]
    fn rollback_restores_then_says_nothing_to_do() {
        let original = Forward::single(OLD);
        let value = record::encode(&original);
        let during = cutover(&original, OLD, NEW, Percent::ALL).unwrap().after;
        let tags = vec![(REPLACED_TAG.to_string(), value.clone())];
        match rollback_decision(&during, &tags, false).unwrap() {
            RollbackDecision::Restore { recorded, value: v } => {
                assert_eq!(v, value);
                let arns = std::collections::HashMap::from([(
                    "opensearch-mcp-tg".to_string(),
                    OLD.to_string(),
                )]);
                assert_eq!(recorded.resolve(&arns).unwrap(), original);
            }
            other => panic!("expected a restore, got {other:?}"),
        }
        // Interrupted after ModifyRule: routing restored, tags not yet moved.
        assert_eq!(
            rollback_decision(&original, &tags, false).unwrap(),
            RollbackDecision::AlreadyRestored { fix_tags: true }
        );
        let after = vec![(RESTORED_TAG.to_string(), value)];
        assert_eq!(
            rollback_decision(&original, &after, false).unwrap(),
            RollbackDecision::AlreadyRestored { fix_tags: false }
        );
        assert_eq!(
            rollback_decision(&original, &[], false).unwrap(),
            RollbackDecision::NothingRecorded
        );
    }

    #[test]
    fn a_forced_rollback_puts_back_what_the_last_rollback_restored() {
        let original = Forward::single(OLD);
        let value = record::encode(&original);
        let raced = cutover(&original, OLD, NEW, pct(50)).unwrap().after;
        let tags = vec![(RESTORED_TAG.to_string(), value.clone())];
        assert_eq!(
            rollback_decision(&raced, &tags, false).unwrap(),
            RollbackDecision::AlreadyRestored { fix_tags: false }
        );
        match rollback_decision(&raced, &tags, true).unwrap() {
            RollbackDecision::Restore { value: v, .. } => assert_eq!(v, value),
            other => panic!("expected a restore, got {other:?}"),
        }
        assert_eq!(
            rollback_decision(&original, &tags, true).unwrap(),
            RollbackDecision::AlreadyRestored { fix_tags: false }
        );
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_guess() {
        let tags = vec![(REPLACED_TAG.to_string(), "garbage".to_string())];
        assert!(rollback_decision(&Forward::single(NEW), &tags, false).is_err());
    }
}
