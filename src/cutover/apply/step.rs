//! One cutover step on the production rule: find the rule that serves the `--from` stack's paths,
//! decide the new weights and the record of the replaced routing ([`crate::cutover::decide::cutover`]),
//! and make the calls — record first, then `ModifyRule`, then what was applied — after a last
//! look that the rule did not move meanwhile. `cutover --weight N` is one step; a progressive
//! cutover is several, each with its progress record ([`crate::cutover::decide::progress`]).

use serde::Serialize;

use crate::aws::forward::Forward;
use crate::aws::listener_rule::{self, ListenerRule, RuleChange};
use crate::aws::load_balancer;
use crate::aws::target_group::{self, health_count, HealthCount};
use crate::aws::{Call, Clients};
use crate::cutover::decide::capacity;
use crate::cutover::decide::cutover::{cutover, record_for_cutover};
use crate::cutover::decide::drift::{drift, moved};
use crate::cutover::decide::progress::PROGRESS_TAG;
use crate::cutover::decide::record::{self, APPLIED_TAG, REPLACED_TAG, RESTORED_TAG};
use crate::cutover::decide::{Percent, RecordUpdate};
use crate::error::{Error, Result};
use crate::model::AlbListener;
use crate::stack::Stack;

/// What a cutover step found and does, for `--output json` (and the text it prints).
#[derive(Debug, Clone, Serialize)]
pub struct CutoverReport {
    /// The stack whose production rule moves.
    pub from: String,
    /// The stack receiving the traffic.
    pub to: String,
    /// The requested share for `to`, in percent.
    pub weight: u8,
    /// The ALB listener.
    pub listener: AlbListener,
    /// The production rule's ARN.
    pub rule_arn: String,
    /// Its priority.
    pub priority: Option<i32>,
    /// Its path patterns.
    pub path_patterns: Vec<String>,
    /// Target health of `to`'s target group.
    pub target_health: HealthCount,
    /// True when `--force` overrode a failed health check.
    pub forced: bool,
    /// Routing before.
    pub before: Forward,
    /// Routing after.
    pub after: Forward,
    /// Routing before, as people read it (`opensearch-mcp-tg 100%`).
    pub routing_before: String,
    /// Routing after, as people read it.
    pub routing_after: String,
    /// Groups the old routing sent traffic to that the new one drops.
    pub dropped: Vec<String>,
    /// What happens to the record of the replaced routing.
    pub record: RecordUpdate,
    /// The mutating calls, in order.
    pub calls: Vec<Call>,
    /// True with `--dry-run`: nothing was changed.
    pub dry_run: bool,
    /// True when the calls were made.
    pub changed: bool,
}

/// A decided step: the report, the calls, and the rule as read (for the last look).
#[derive(Debug, Clone)]
pub struct Step {
    /// What was found and will be done.
    pub report: CutoverReport,
    /// The calls, in order.
    pub changes: Vec<RuleChange>,
    /// The production rule as it was read.
    pub rule: ListenerRule,
    /// The `--to` stack's target group ARN.
    pub to_arn: String,
}

/// Check that two stacks share the region, ALB and listener (a cutover moves one rule).
pub fn same_listener(a: &Stack, b: &Stack) -> Result<()> {
    if a.region != b.region || a.load_balancer != b.load_balancer {
        return Err(Error::bad_input(format!(
            "stacks {} and {} are not behind the same load balancer and listener (region {} / {}, ALB {} / {}, port {} / {}): a cutover moves one listener rule, so both stacks must share `region` and `load_balancer`",
            a.name, b.name, a.region, b.region, a.load_balancer.reference, b.load_balancer.reference,
            a.load_balancer.listener_port, b.load_balancer.listener_port
        )));
    }
    Ok(())
}

/// The listener and the rule serving `from`'s paths. Refusals say which command fixes them.
pub async fn production_rule(
    aws: &Clients,
    from: &Stack,
    region: &str,
) -> Result<(AlbListener, ListenerRule)> {
    let lb = &from.load_balancer;
    let listener = load_balancer::find_listener(aws, &lb.reference, lb.listener_port)
        .await?
        .ok_or_else(|| {
            Error::refused(format!(
                "load balancer {} has no listener on port {} in {region} (or does not exist): there is no production traffic to move; deploy with `mcpctl up --stack {}` first",
                lb.reference, lb.listener_port, from.name
            ))
        })?;
    let rules = listener_rule::rules(aws, &listener.arn).await?;
    let paths = &from.rule_path_patterns();
    let rule = crate::model::rule::serving(rules, paths).ok_or_else(|| {
            Error::refused(format!(
                "no rule on {}:{} serves {} (the paths of stack {}); deploy it with `mcpctl up --stack {}`, or pass --from with the stack that serves production",
                listener.load_balancer, listener.port, paths.join(", "), from.name, from.name
            ))
        })?;
    Ok((listener, rule))
}

/// Decide a step sending `weight` of `from`'s production traffic to `to`. `progress` is the
/// progressive record to write with the routing record (`None` for a plain `cutover --weight`,
/// which ends any progressive record on the rule). Nothing is changed here.
pub async fn prepare(
    aws: &Clients,
    from: &Stack,
    to: &Stack,
    region: &str,
    weight: Percent,
    force: bool,
    progress: Option<String>,
) -> Result<Step> {
    let (listener, rule) = production_rule(aws, from, region).await?;
    let current = rule
        .forward()
        .map_err(|e| Error::refused(format!("{} cannot be moved: {e}", rule.label())))?;
    // A routing mcpctl did not set (a racing rollback, a hand edit) is never recorded as the
    // way back.
    if let Some(d) = drift(&rule, &current).map_err(|e| Error::refused(e.to_string()))? {
        return Err(Error::refused(d.to_string()));
    }
    let to_arn = target_group::arn_by_name(aws, &to.names.target_group)
        .await?
        .ok_or_else(|| {
            Error::refused(format!(
                "stack {} is not deployed: target group {} does not exist in {region}; deploy it first with `mcpctl up --stack {}` and wait until its targets are healthy; nothing was changed",
                to.name, to.names.target_group, to.name
            ))
        })?;
    let from_arn = match target_group::arn_by_name(aws, &from.names.target_group).await? {
        Some(arn) => arn,
        None if weight == Percent::ALL => String::new(),
        None => {
            return Err(Error::refused(format!(
                "target group {} of stack {} does not exist, so {}% cannot stay on it; cut over all traffic (leave out --weight) or deploy {} again",
                from.names.target_group, from.name, 100 - weight.get(), from.name
            )))
        }
    };
    let health = health_count(aws, &to_arn).await?;
    if health.healthy == 0 && !force {
        return Err(Error::refused(format!(
            "target group {} (stack {}) has no healthy targets ({} of {} healthy): production traffic would get errors; wait until `mcpctl status --stack {}` shows healthy targets, or pass --force; nothing was changed",
            to.names.target_group, to.name, health.healthy, health.total, to.name
        )));
    }
    let serving = match from_arn.as_str() {
        "" => 0,
        arn => health_count(aws, arn).await?.healthy,
    };
    if let (Err(short), false) = (capacity::check(weight, health.healthy, serving), force) {
        return Err(Error::refused(format!(
            "stack {} cannot take {}% of production yet: {short} (stack {} has {serving}); scale it first with `mcpctl scale --stack {} --count {}` and wait until its targets are healthy, or pass --force; nothing was changed",
            to.name, weight.get(), from.name, to.name, short.needed
        )));
    }
    let change = cutover(&current, &from_arn, &to_arn, weight)
        .map_err(|e| Error::bad_input(format!("the new routing is not valid: {e}")))?;
    let record = record_for_cutover(&current, &rule.tags)
        .map_err(|e| Error::refused(format!("{}: {e}", rule.label())))?;
    let changes = calls(&rule, &change.after, change.unchanged, &record, progress);
    let report = CutoverReport {
        from: from.name.clone(),
        to: to.name.clone(),
        weight: weight.get(),
        listener,
        rule_arn: rule.arn.clone(),
        priority: rule.priority,
        path_patterns: rule.path_patterns.clone(),
        target_health: health,
        forced: force
            && (health.healthy == 0 || capacity::check(weight, health.healthy, serving).is_err()),
        routing_before: change.before.to_string(),
        routing_after: change.after.to_string(),
        before: change.before,
        after: change.after,
        dropped: change.dropped,
        record,
        calls: changes.iter().map(RuleChange::planned).collect(),
        dry_run: false,
        changed: false,
    };
    Ok(Step {
        report,
        changes,
        rule,
        to_arn,
    })
}

/// The calls of a step, in order (pure): the record of the replaced routing and the progress
/// record in one `AddTags` before the switch (so there is never a switched rule without a
/// record), the switch, then what was applied (so the next step or rollback can tell a change
/// it did not make).
pub fn calls(
    rule: &ListenerRule,
    after: &Forward,
    unchanged: bool,
    record: &RecordUpdate,
    progress: Option<String>,
) -> Vec<RuleChange> {
    let arn = || rule.arn.clone();
    let mut before_tags = Vec::new();
    let mut remove = Vec::new();
    if !unchanged {
        if let RecordUpdate::Write {
            value,
            remove_restored,
        } = record
        {
            before_tags.push((REPLACED_TAG.to_string(), value.clone()));
            if *remove_restored {
                remove.push(RESTORED_TAG.to_string());
            }
        }
    }
    match progress {
        Some(p) if rule.tag(PROGRESS_TAG) != Some(p.as_str()) => {
            before_tags.push((PROGRESS_TAG.to_string(), p))
        }
        Some(_) => {}
        // A plain cutover ends a progressive one left on the rule.
        None if !unchanged && rule.tag(PROGRESS_TAG).is_some() => {
            remove.push(PROGRESS_TAG.to_string())
        }
        None => {}
    }
    let mut changes = Vec::new();
    if !before_tags.is_empty() {
        changes.push(RuleChange::AddTags {
            rule_arn: arn(),
            tags: before_tags,
        });
    }
    if !remove.is_empty() {
        changes.push(RuleChange::RemoveTags {
            rule_arn: arn(),
            keys: remove,
        });
    }
    if !unchanged {
        changes.push(RuleChange::SetForward {
            rule_arn: arn(),
            forward: after.clone(),
        });
        changes.push(RuleChange::AddTags {
            rule_arn: arn(),
            tags: vec![(APPLIED_TAG.to_string(), record::encode(after))],
        });
    }
    changes
}

/// Make a decided step's calls after a last look that the rule did not move since it was read.
pub async fn apply(aws: &Clients, step: &mut Step) -> Result<()> {
    if step.changes.is_empty() {
        return Ok(());
    }
    let now = listener_rule::rule(aws, &step.rule.arn).await?;
    if let Some(what) = moved(&step.rule, now.as_ref()) {
        return Err(Error::refused(format!(
            "{what}: another cutover or rollback, or a hand edit, changed it while this cutover was deciding; nothing was changed; run `mcpctl cutover` again to decide on the rule as it is now"
        )));
    }
    let mut switched = false;
    for c in &step.changes {
        if let Err(e) = c.apply(aws).await {
            if switched {
                undo_switch(aws, step).await;
            }
            return Err(e);
        }
        switched |= matches!(c, RuleChange::SetForward { .. });
    }
    step.report.changed = true;
    Ok(())
}

/// A call after the switch failed (the record of what was applied could not be written, e.g.
/// for want of `elasticloadbalancing:AddTags`): put the routing back as it was, so the rule
/// never forwards in a way its records do not describe. Says on stderr what happened.
async fn undo_switch(aws: &Clients, step: &Step) {
    let back = RuleChange::SetForward {
        rule_arn: step.rule.arn.clone(),
        forward: step.report.before.clone(),
    };
    match back.apply(aws).await {
        Ok(()) => eprintln!(
            "the switch of {} was undone: it forwards as before ({})",
            step.rule.label(),
            step.report.routing_before
        ),
        Err(e) => eprintln!(
            "warning: {} was switched to {} but its record could not be written, and undoing the switch failed too ({e}); run `mcpctl rollback` or `mcpctl cutover` again once the error is fixed",
            step.rule.label(),
            step.report.routing_after
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::forward::WeightedGroup;

    const OLD: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg/1";
    const NEW: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/2";

    fn rule(tags: &[(&str, &str)]) -> ListenerRule {
        ListenerRule {
            arn: "rule-1".into(),
            priority: Some(100),
            path_patterns: vec!["/ossserver/*".into()],
            actions: Vec::new(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn split(old: u16, new: u16) -> Forward {
        let mut f = Forward::single(OLD);
        f.groups = vec![WeightedGroup::new(OLD, old), WeightedGroup::new(NEW, new)];
        f
    }

    fn keys(c: &RuleChange) -> Vec<String> {
        match c {
            RuleChange::AddTags { tags, .. } => tags.iter().map(|(k, _)| k.clone()).collect(),
            RuleChange::RemoveTags { keys, .. } => keys.clone(),
            other => vec![format!("{other:?}").split(' ').next().unwrap().to_string()],
        }
    }

    #[test]
    fn the_progress_record_goes_in_the_same_call_as_the_routing_record_before_the_switch() {
        let write = RecordUpdate::Write {
            value: "v1 form=arn tg:opensearch-mcp-tg=1".into(),
            remove_restored: false,
        };
        let c = calls(
            &rule(&[]),
            &split(90, 10),
            false,
            &write,
            Some("v1 p".into()),
        );
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!(keys(&c[0]), vec![REPLACED_TAG, PROGRESS_TAG]);
        assert!(matches!(c[1], RuleChange::SetForward { .. }));
        assert_eq!(keys(&c[2]), vec![APPLIED_TAG]);
    }

    #[test]
    fn a_later_step_keeps_the_first_record_and_updates_only_the_progress() {
        let keep = RecordUpdate::Keep {
            value: "v1 form=arn tg:opensearch-mcp-tg=1".into(),
        };
        let r = rule(&[(PROGRESS_TAG, "v1 old")]);
        let c = calls(&r, &split(50, 50), false, &keep, Some("v1 new".into()));
        assert_eq!(keys(&c[0]), vec![PROGRESS_TAG]);
        assert!(matches!(c[1], RuleChange::SetForward { .. }));
        // Resumed on a rule already at the step's weights: nothing to call.
        let r = rule(&[(PROGRESS_TAG, "v1 same")]);
        assert!(calls(&r, &split(50, 50), true, &keep, Some("v1 same".into())).is_empty());
    }

    #[test]
    fn a_plain_cutover_ends_a_progressive_record() {
        let keep = RecordUpdate::Keep {
            value: "v1 form=arn tg:opensearch-mcp-tg=1".into(),
        };
        let r = rule(&[(PROGRESS_TAG, "v1 old")]);
        let c = calls(&r, &split(0, 100), false, &keep, None);
        assert_eq!(keys(&c[0]), vec![PROGRESS_TAG]);
        assert!(matches!(c[0], RuleChange::RemoveTags { .. }));
        assert!(matches!(c[1], RuleChange::SetForward { .. }));
    }
}
