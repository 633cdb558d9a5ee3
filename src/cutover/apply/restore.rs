//! Restore the routing a cutover recorded on a rule: the decision ([`crate::cutover::decide::cutover::
//! rollback_decision`]) turned into calls (the switch, then moving the record from "replaced"
//! to "restored"), made after a last look that the rule did not move. `rollback` restores every
//! recorded rule on the listener; a progressive cutover that breached a gate restores its one.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::aws::forward::Forward;
use crate::aws::listener_rule::{self, ListenerRule, RuleChange};
use crate::aws::{target_group, Clients};
use crate::cutover::decide::cutover::rollback_decision;
use crate::cutover::decide::drift::{drift, moved};
use crate::cutover::decide::progress::PROGRESS_TAG;
use crate::cutover::decide::record::{APPLIED_TAG, REPLACED_TAG, RESTORED_TAG};
use crate::cutover::decide::RollbackDecision;
use crate::error::{Error, Result};

/// One rule with a recorded cutover and what rollback does with it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRollback {
    /// The rule's ARN.
    pub rule_arn: String,
    /// Its priority.
    pub priority: Option<i32>,
    /// Its path patterns.
    pub path_patterns: Vec<String>,
    /// `restore` or `already-restored`.
    pub decision: &'static str,
    /// Routing now.
    pub before: Forward,
    /// Routing after the rollback.
    pub after: Forward,
    /// Routing now, as people read it (`opensearch-mcp-tg-stateless 100%`).
    pub routing_before: String,
    /// Routing after, as people read it.
    pub routing_after: String,
}

/// The restore of one rule, decided.
#[derive(Debug, Clone)]
pub struct Restore {
    /// The rule as read (for the last look).
    pub rule: ListenerRule,
    /// What is done, for reports.
    pub report: RuleRollback,
    /// The routing switch (`None`: the recorded routing is already in place).
    pub switch: Option<RuleChange>,
    /// The tag calls around the switch ([`in_order`]).
    pub bookkeeping: Vec<RuleChange>,
    /// Target groups the restored routing sends to that have no healthy target.
    pub warnings: Vec<String>,
}

/// Decide the restore of `rule` (`Ok(None)`: nothing was ever recorded on it). `force` restores
/// even a routing mcpctl did not set (`rollback --force`); without it such a rule is refused.
/// `stacks_dir` is searched for archives that can bring back deleted target groups.
pub async fn plan(
    aws: &Clients,
    rule: &ListenerRule,
    force: bool,
    stacks_dir: &Path,
) -> Result<Option<Restore>> {
    let current = rule
        .forward()
        .map_err(|e| Error::refused(format!("{} cannot be rolled back: {e}", rule.label())))?;
    let drifted = drift(rule, &current).map_err(|e| Error::refused(e.to_string()))?;
    if let (Some(d), false) = (&drifted, force) {
        return Err(Error::refused(d.to_string()));
    }
    let decision = rollback_decision(&current, &rule.tags, drifted.is_some())
        .map_err(|e| Error::refused(format!("{}: {e}", rule.label())))?;
    let mut warnings = Vec::new();
    let (after, label, switch, bookkeeping) = match decision {
        RollbackDecision::NothingRecorded => return Ok(None),
        RollbackDecision::AlreadyRestored { fix_tags } => {
            let fix = if fix_tags {
                move_record(rule)
            } else {
                Vec::new()
            };
            (current.clone(), "already-restored", None, fix)
        }
        RollbackDecision::Restore { recorded, .. } => {
            let names = recorded.names();
            let arns = target_group::arns_by_name(aws, &names).await?;
            let after = recorded
                .resolve(&arns)
                .map_err(|missing| missing_groups(rule, &missing, stacks_dir))?;
            for g in after.groups.iter().filter(|g| g.weight > 0) {
                let h = target_group::health_count(aws, &g.arn).await?;
                if h.healthy == 0 {
                    warnings.push(format!(
                        "target group {} has no healthy targets ({} of {}): requests sent there will fail until its service is healthy (`mcpctl status`)",
                        g.name(),
                        h.healthy,
                        h.total
                    ));
                }
            }
            let switch = RuleChange::SetForward {
                rule_arn: rule.arn.clone(),
                forward: after.clone(),
            };
            (after, "restore", Some(switch), move_record(rule))
        }
    };
    Ok(Some(Restore {
        rule: rule.clone(),
        report: RuleRollback {
            rule_arn: rule.arn.clone(),
            priority: rule.priority,
            path_patterns: rule.path_patterns.clone(),
            decision: label,
            routing_before: current.to_string(),
            routing_after: after.to_string(),
            before: current,
            after,
        },
        switch,
        bookkeeping,
        warnings,
    }))
}

/// Make the restores' calls: a last look at every rule that switches, the switches (timed:
/// the milliseconds are returned when there were any), with the tag bookkeeping around them
/// ([`in_order`]).
pub async fn apply(aws: &Clients, restores: &[Restore]) -> Result<Option<f64>> {
    for r in restores.iter().filter(|r| r.switch.is_some()) {
        let now = listener_rule::rule(aws, &r.rule.arn).await?;
        if let Some(what) = moved(&r.rule, now.as_ref()) {
            return Err(Error::refused(format!(
                "{what}: a cutover, another rollback or a hand edit changed it while this rollback was deciding; nothing was changed; run `mcpctl rollback` again to decide on the rule as it is now"
            )));
        }
    }
    let (before, switches, after) = in_order(restores);
    for c in before {
        c.apply(aws).await?;
    }
    let started = Instant::now();
    for c in &switches {
        c.apply(aws).await?;
    }
    let ms = (!switches.is_empty()).then(|| started.elapsed().as_secs_f64() * 1000.0);
    for c in after {
        c.apply(aws).await?;
    }
    Ok(ms)
}

/// The restores' calls in the order they are made: the "restored" records first (so a
/// credential that may not tag the rule fails before any routing changes, and a switch that
/// fails leaves the "replaced" record in place for the next rollback), then the switches, then
/// the removal of the old records.
pub fn in_order(restores: &[Restore]) -> (Vec<&RuleChange>, Vec<&RuleChange>, Vec<&RuleChange>) {
    let (before, after): (Vec<&RuleChange>, Vec<&RuleChange>) = restores
        .iter()
        .flat_map(|r| &r.bookkeeping)
        .partition(|c| matches!(c, RuleChange::AddTags { .. }));
    let switches = restores.iter().filter_map(|r| r.switch.as_ref()).collect();
    (before, switches, after)
}

/// After a restore, the record moves from "replaced" to "restored" so a second rollback knows
/// (and what the last cutover applied, and any progressive record, go with it).
pub fn move_record(rule: &ListenerRule) -> Vec<RuleChange> {
    let Some(value) = rule.tag(REPLACED_TAG) else {
        return Vec::new();
    };
    vec![
        RuleChange::AddTags {
            rule_arn: rule.arn.clone(),
            tags: vec![(RESTORED_TAG.to_string(), value.to_string())],
        },
        RuleChange::RemoveTags {
            rule_arn: rule.arn.clone(),
            keys: [REPLACED_TAG, APPLIED_TAG, PROGRESS_TAG]
                .iter()
                .filter(|k| rule.tag(k).is_some())
                .map(|k| k.to_string())
                .collect(),
        },
    ]
}

/// The refusal when recorded target groups are gone, with how to bring them back.
fn missing_groups(rule: &ListenerRule, missing: &[String], stacks_dir: &Path) -> Error {
    let mut how = Vec::new();
    for name in missing {
        match crate::archive::with_target_group(stacks_dir, name) {
            Some(a) => how.push(format!(
                "`mcpctl up --stack {}` (stack {} as archived by cleanup on {})",
                a.dir.display(),
                a.manifest.stack,
                a.manifest.created
            )),
            None => how.push(format!(
                "`mcpctl up --stack NAME` with the stack whose target group is {name}"
            )),
        }
    }
    how.dedup();
    Error::refused(format!(
        "cannot roll back {}: the recorded routing sends traffic to target group(s) {} that no longer exist (the stack was cleaned up). Bring them back with {}, wait until its targets are healthy, then run `mcpctl rollback` again; nothing was changed",
        rule.label(),
        missing.join(", "),
        how.join(" and ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_the_record_also_ends_a_progressive_one() {
        let rule = ListenerRule {
            arn: "rule-1".into(),
            priority: Some(100),
            path_patterns: vec!["/ossserver/*".into()],
            actions: Vec::new(),
            tags: vec![
                (REPLACED_TAG.into(), "v1 form=arn tg:a=1".into()),
                (APPLIED_TAG.into(), "v1 form=arn tg:b=1".into()),
                (
                    PROGRESS_TAG.into(),
                    "v1 to=b steps=100 step=0 since=1 bake=1".into(),
                ),
            ],
        };
        let c = move_record(&rule);
        let RuleChange::RemoveTags { keys, .. } = &c[1] else {
            panic!("{c:?}")
        };
        assert_eq!(keys, &[REPLACED_TAG, APPLIED_TAG, PROGRESS_TAG]);
        let RuleChange::AddTags { tags, .. } = &c[0] else {
            panic!("{c:?}")
        };
        assert_eq!(tags[0].0, RESTORED_TAG);
    }
}
