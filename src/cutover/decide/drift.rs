//! Changes to the production rule that mcpctl did not make. `cutover` and `rollback` compare
//! the record on the rule (what the last cutover set, what the last rollback restored) with the
//! live routing before they decide anything, and refuse when they differ — a rollback racing a
//! cutover, a hand edit in the console — instead of saying "Nothing to do" or recording the
//! edited routing as the way back. [`moved`] is the last check, on the rule read again just
//! before `ModifyRule`. All pure.

use serde::Serialize;

use super::record::{self, RecordError, Recorded, APPLIED_TAG, REPLACED_TAG, RESTORED_TAG};
use crate::model::forward::Forward;
use crate::model::rule::{tag_value, CUTOVER_TAG_PREFIX};
use crate::model::ListenerRule;

/// The live routing of a rule is not what mcpctl last left there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error(
    "{rule} was changed by something other than mcpctl: it routes {live}, but {by} left it routing {expected} (tag {tag} = `{value}`) — a cutover or rollback racing this one, or a hand edit of the rule. Nothing was changed. To go on: {how}"
)]
pub struct Drift {
    /// `rule 100 (/ossserver/*)`.
    pub rule: String,
    /// The routing now, as people read it.
    pub live: String,
    /// `the last cutover` or `the last rollback`.
    pub by: String,
    /// The recorded routing, as people read it (by target group name).
    pub expected: String,
    /// The tag holding it.
    pub tag: String,
    /// Its value.
    pub value: String,
    /// What to run next.
    pub how: String,
}

/// Where a rule's record says its routing should be, when the rule has a record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    /// A cutover is in effect: the routing its last step set (or, after a rollback stopped
    /// between its `ModifyRule` and its tags, the replaced routing).
    Cutover { applied: String, replaced: String },
    /// The last rollback restored this routing.
    Restored(String),
}

/// Compare the record on the rule with its live routing; `Ok(None)` when they agree or there
/// is nothing to compare (no record, or a record written before mcpctl kept
/// [`APPLIED_TAG`]).
pub fn drift(rule: &ListenerRule, current: &Forward) -> Result<Option<Drift>, RecordError> {
    let tags = &rule.tags;
    let expected = match (
        tag_value(tags, REPLACED_TAG),
        tag_value(tags, APPLIED_TAG),
        tag_value(tags, RESTORED_TAG),
    ) {
        (Some(replaced), Some(applied), _) => Expected::Cutover {
            applied: applied.to_string(),
            replaced: replaced.to_string(),
        },
        (Some(_), None, _) => return Ok(None),
        (None, _, Some(restored)) => Expected::Restored(restored.to_string()),
        (None, _, None) => return Ok(None),
    };
    let (value, tag, by, how) = match &expected {
        Expected::Cutover { applied, replaced } => {
            let a = decode(applied, APPLIED_TAG)?;
            let r = decode(replaced, REPLACED_TAG)?;
            if same_traffic(current, &a) || same_traffic(current, &r) {
                return Ok(None);
            }
            (
                applied.clone(),
                APPLIED_TAG,
                "the last cutover",
                format!(
                    "`mcpctl rollback --force` restores the routing recorded before the cutover ({}); or, to keep the routing as it is now, remove the cutover record (aws elbv2 remove-tags --resource-arns {} --tag-keys {REPLACED_TAG} {APPLIED_TAG}) and cut over again",
                    names(&r),
                    rule.arn
                ),
            )
        }
        Expected::Restored(restored) => {
            let r = decode(restored, RESTORED_TAG)?;
            if same_traffic(current, &r) {
                return Ok(None);
            }
            (
                restored.clone(),
                RESTORED_TAG,
                "the last rollback",
                format!(
                    "`mcpctl rollback --force` puts back the routing the last rollback restored ({}), then cut over again if you meant to; or, to keep the routing as it is now, remove the record (aws elbv2 remove-tags --resource-arns {} --tag-keys {RESTORED_TAG})",
                    names(&r),
                    rule.arn
                ),
            )
        }
    };
    let recorded = decode(&value, tag)?;
    Ok(Some(Drift {
        rule: rule.label(),
        live: current.to_string(),
        by: by.to_string(),
        expected: names(&recorded),
        tag: tag.to_string(),
        value,
        how,
    }))
}

fn decode(value: &str, tag: &str) -> Result<Recorded, RecordError> {
    record::decode(value).map_err(|mut e| {
        e.reason = format!("{} (tag {tag})", e.reason);
        e
    })
}

/// `opensearch-mcp-tg 90% + opensearch-mcp-tg-stateless 10%` for a record.
fn names(r: &Recorded) -> String {
    let total: u32 = r.groups.iter().map(|(_, w)| u32::from(*w)).sum();
    r.groups
        .iter()
        .map(|(n, w)| {
            let pct = (u32::from(*w) * 100).checked_div(total).unwrap_or(0);
            format!("{n} {pct}%")
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// True when `current` sends the same shares of traffic to the same target groups (by name)
/// as the record. Groups at weight 0 do not count: a `--from` group kept at weight 0, dropped
/// by `cleanup` or added back by `up` when it restores an archived stack moves no request.
pub fn same_traffic(current: &Forward, recorded: &Recorded) -> bool {
    let live: Vec<(String, u16)> = current
        .groups
        .iter()
        .map(|g| (g.name().to_string(), g.weight))
        .collect();
    shares_equal(&live, &recorded.groups)
}

fn shares_equal(a: &[(String, u16)], b: &[(String, u16)]) -> bool {
    let sending = |g: &[(String, u16)]| {
        let mut v: Vec<(String, u32)> = g
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|(n, w)| (n.clone(), u32::from(*w)))
            .collect();
        v.sort();
        v
    };
    let (a, b) = (sending(a), sending(b));
    let (ta, tb): (u32, u32) = (a.iter().map(|g| g.1).sum(), b.iter().map(|g| g.1).sum());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|((na, wa), (nb, wb))| na == nb && wa * tb == wb * ta)
}

/// What moved on a rule between the read a decision was made on and `now`, read again just
/// before `ModifyRule`: its actions or its cutover tags. `None` when nothing did.
pub fn moved(read: &ListenerRule, now: Option<&ListenerRule>) -> Option<String> {
    let Some(now) = now else {
        return Some(format!("{} was deleted", read.label()));
    };
    let cutover_tags = |r: &ListenerRule| {
        let mut t: Vec<(String, String)> = r
            .tags
            .iter()
            .filter(|(k, _)| k.starts_with(CUTOVER_TAG_PREFIX))
            .cloned()
            .collect();
        t.sort();
        t
    };
    let routing = |r: &ListenerRule| match r.forward() {
        Ok(f) => f.to_string(),
        Err(e) => e.to_string(),
    };
    if read.actions != now.actions {
        return Some(format!(
            "{} routed {} when it was read and routes {} now",
            read.label(),
            routing(read),
            routing(now)
        ));
    }
    if cutover_tags(read) != cutover_tags(now) {
        return Some(format!(
            "the cutover record on {} changed since it was read ({:?} → {:?})",
            read.label(),
            cutover_tags(read),
            cutover_tags(now)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cutover::decide::cutover::{cutover, Percent};
    use crate::model::forward::WeightedGroup;

    const OLD: &str = "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/opensearch-mcp-tg/01";
    const NEW: &str =
        "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/opensearch-mcp-tg-stateless/02";

    fn rule(f: &Forward, tags: &[(&str, String)]) -> ListenerRule {
        ListenerRule {
            arn: "arn:rule/100".into(),
            priority: Some(100),
            path_patterns: vec!["/ossserver/*".into()],
            actions: vec![crate::model::RuleAction::forward(f.clone())],
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    fn split(a: u16, b: u16) -> Forward {
        Forward::weighted(vec![WeightedGroup::new(OLD, a), WeightedGroup::new(NEW, b)])
    }

    #[test]
    fn a_racing_rollback_leaving_50_50_with_only_the_restored_tag_is_reported() {
        // Rollback restored the original, then a racing cutover set 50/50.
        let original = Forward::single(OLD);
        let live = split(50, 50);
        let r = rule(&live, &[(RESTORED_TAG, record::encode(&original))]);
        let d = drift(&r, &live)
            .unwrap()
            .expect("a change mcpctl did not make");
        assert_eq!(d.by, "the last rollback");
        assert_eq!(d.expected, "opensearch-mcp-tg 100%");
        let text = d.to_string();
        assert!(text.contains("opensearch-mcp-tg 50%"), "{text}");
        assert!(text.contains("mcpctl rollback --force"), "{text}");
        assert!(text.contains("Nothing was changed"), "{text}");
        // The restored routing in place: no drift.
        let r = rule(&original, &[(RESTORED_TAG, record::encode(&original))]);
        assert_eq!(drift(&r, &original).unwrap(), None);
    }

    #[test]
    fn a_hand_edit_during_a_cutover_is_reported() {
        let original = Forward::single(OLD);
        let canary = cutover(&original, OLD, NEW, Percent::new(10).unwrap())
            .unwrap()
            .after;
        let tags = [
            (REPLACED_TAG, record::encode(&original)),
            (APPLIED_TAG, record::encode(&canary)),
        ];
        assert_eq!(drift(&rule(&canary, &tags), &canary).unwrap(), None);
        // A rollback stopped after its ModifyRule (original back, tags not yet moved): no drift.
        assert_eq!(drift(&rule(&original, &tags), &original).unwrap(), None);
        let edited = split(50, 50);
        let d = drift(&rule(&edited, &tags), &edited).unwrap().unwrap();
        assert_eq!(d.by, "the last cutover");
        assert_eq!(d.tag, APPLIED_TAG);
        assert!(d.to_string().contains("remove-tags"), "{d}");
    }

    #[test]
    fn weight_zero_groups_move_no_traffic() {
        let full = cutover(&Forward::single(OLD), OLD, NEW, Percent::ALL)
            .unwrap()
            .after;
        let only_new = Forward::single(NEW);
        let rec = record::decode(&record::encode(&full)).unwrap();
        assert!(
            same_traffic(&only_new, &rec),
            "cleanup dropped the weight-0 group"
        );
        let mut scaled = only_new.clone();
        scaled.groups[0].weight = 7;
        assert!(same_traffic(&scaled, &rec), "shares, not raw weights");
        assert!(!same_traffic(&split(1, 1), &rec));
    }

    #[test]
    fn records_of_older_versions_without_the_applied_tag_are_not_judged() {
        let live = split(50, 50);
        let r = rule(
            &live,
            &[(REPLACED_TAG, record::encode(&Forward::single(OLD)))],
        );
        assert_eq!(drift(&r, &live).unwrap(), None);
        assert_eq!(drift(&rule(&live, &[]), &live).unwrap(), None);
    }

    #[test]
    fn a_rule_that_moved_since_it_was_read_is_named() {
        let read = rule(&split(90, 10), &[]);
        assert_eq!(moved(&read, Some(&read.clone())), None);
        let now = rule(&split(50, 50), &[]);
        let m = moved(&read, Some(&now)).unwrap();
        assert!(m.contains("90%") && m.contains("50%"), "{m}");
        let tagged = rule(
            &split(90, 10),
            &[(RESTORED_TAG, "v1 form=arn tg:x=1".into())],
        );
        assert!(moved(&read, Some(&tagged)).unwrap().contains("record"));
        assert!(moved(&read, None).unwrap().contains("deleted"));
        // Tags that are not mcpctl's cutover record do not count.
        let other = rule(&split(90, 10), &[("team", "search".into())]);
        assert_eq!(moved(&read, Some(&other)), None);
    }
}
