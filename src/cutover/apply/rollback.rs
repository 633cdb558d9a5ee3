//! `rollback` on the AWS side: find the rules on a stack's listener that carry a cutover
//! record, plan the restore of each ([`super::restore::plan`]), and make the calls in order.
//! The command (`commands/rollback`) asks for confirmation and prints.

use std::path::Path;

use serde::Serialize;

use super::restore::{self, Restore, RuleRollback};
use crate::aws::listener_rule::{self, ListenerRule, RuleChange};
use crate::aws::{load_balancer, Call, Clients};
use crate::cutover::decide::record::{REPLACED_TAG, RESTORED_TAG};
use crate::error::{Error, Result};
use crate::stack::Stack;

/// What `rollback` found and did, for `--output json`.
#[derive(Debug, Serialize)]
pub struct RollbackReport {
    /// The rules carrying a cutover record.
    pub rules: Vec<RuleRollback>,
    /// The mutating calls, in order (the routing switch first).
    pub calls: Vec<Call>,
    /// True with `--dry-run`.
    pub dry_run: bool,
    /// True when the routing was changed.
    pub changed: bool,
    /// Milliseconds the routing switch (`ModifyRule`) took, when it was made.
    pub switch_ms: Option<f64>,
    /// Target groups the restored routing sends traffic to that have no healthy target
    /// (rollback goes ahead — it is the way back — but says so).
    pub warnings: Vec<String>,
}

/// A planned rollback: the report so far, and the restores [`apply`] carries out.
pub struct Rollback {
    /// What was found and will be done (filled in further by [`apply`]).
    pub report: RollbackReport,
    /// The load balancer of the listener searched, as the stack names it.
    pub load_balancer: String,
    /// The listener's port.
    pub port: u16,
    /// How many rules get their routing switched back (0: the routing is already in place).
    pub switches: usize,
    restores: Vec<Restore>,
}

/// Read the rules of `stack`'s listener, and plan the restore of every one carrying a cutover
/// record (`force`: restore even a rule changed by something else since). Refused when there
/// is no listener or no recorded rule. Changes nothing.
pub async fn plan(
    aws: &Clients,
    stack: &Stack,
    force: bool,
    dry_run: bool,
    stacks_dir: &Path,
) -> Result<Rollback> {
    let region = &stack.region;
    let lb = &stack.load_balancer;
    let nothing = |why: String| {
        Error::refused(format!(
            "nothing to roll back: {why}; `mcpctl cutover` records the routing it replaces on the rule (tag {REPLACED_TAG}); nothing was changed"
        ))
    };
    let listener = load_balancer::find_listener(aws, &lb.reference, lb.listener_port)
        .await?
        .ok_or_else(|| {
            nothing(format!(
                "load balancer {} has no listener on port {} in {region}",
                lb.reference, lb.listener_port
            ))
        })?;
    let rules = listener_rule::rules(aws, &listener.arn).await?;
    let recorded: Vec<&ListenerRule> = rules
        .iter()
        .filter(|r| r.tag(REPLACED_TAG).is_some() || r.tag(RESTORED_TAG).is_some())
        .collect();
    if recorded.is_empty() {
        return Err(nothing(format!(
            "no rule on {}:{} carries a cutover record",
            listener.load_balancer, listener.port
        )));
    }
    let mut report = RollbackReport {
        rules: Vec::new(),
        calls: Vec::new(),
        dry_run,
        changed: false,
        switch_ms: None,
        warnings: Vec::new(),
    };
    let mut restores = Vec::new();
    for rule in recorded {
        if let Some(r) = restore::plan(aws, rule, force, stacks_dir).await? {
            report.rules.push(r.report.clone());
            report.warnings.extend(r.warnings.iter().cloned());
            restores.push(r);
        }
    }
    let switches = restores.iter().filter(|r| r.switch.is_some()).count();
    let (before, switched, after) = restore::in_order(&restores);
    report.calls = before
        .into_iter()
        .chain(switched)
        .chain(after)
        .map(RuleChange::planned)
        .collect();
    Ok(Rollback {
        report,
        load_balancer: listener.load_balancer,
        port: listener.port,
        switches,
        restores,
    })
}

/// Make the planned calls (the routing switch first) and record in the report how long the
/// switch took and whether the routing changed.
pub async fn apply(aws: &Clients, rollback: &mut Rollback) -> Result<()> {
    rollback.report.switch_ms = restore::apply(aws, &rollback.restores).await?;
    rollback.report.changed = rollback.report.switch_ms.is_some();
    Ok(())
}
