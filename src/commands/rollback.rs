//! `mcpctl rollback`: restore the routing the last cutover replaced, in one call.

use std::time::Instant;

use clap::Args;
use serde::Serialize;

use crate::aws::forward::Forward;
use crate::aws::listener_rule::{self, ListenerRule, RuleChange};
use crate::aws::{load_balancer, target_group, Call};
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::output::print_json;
use crate::stack;
use crate::traffic::cutover::rollback_decision;
use crate::traffic::drift::{drift, moved};
use crate::traffic::record::{APPLIED_TAG, REPLACED_TAG, RESTORED_TAG};
use crate::traffic::RollbackDecision;

/// Arguments of `mcpctl rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// A stack on the ALB and listener to search for recorded cutovers (only its shared
    /// settings are read: region, ALB, listener port).
    #[arg(long, value_name = "STACK", default_value = "stateful")]
    pub stack: String,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Print the routing before/after and the exact call, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Restore the recorded routing even though the rule was changed by something other than
    /// mcpctl since (a racing cutover, a hand edit); without it rollback refuses and says what
    /// changed.
    #[arg(long)]
    pub force: bool,
}

/// One rule with a recorded cutover and what rollback does with it.
#[derive(Debug, Serialize)]
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

/// Run `mcpctl rollback`.
pub async fn run(args: RollbackArgs, global: &GlobalArgs) -> Result<()> {
    let stack = stack::load(&args.stack, &global.stacks_dir)?;
    let region = global
        .region
        .clone()
        .unwrap_or_else(|| stack.region.clone());
    let aws = crate::aws::Clients::connect(global.profile.as_deref(), Some(&region)).await;
    let lb = &stack.load_balancer;
    let nothing = |why: String| {
        Error::refused(format!(
            "nothing to roll back: {why}; `mcpctl cutover` records the routing it replaces on the rule (tag {REPLACED_TAG}); nothing was changed"
        ))
    };
    let listener = load_balancer::find_listener(&aws, &lb.reference, lb.listener_port)
        .await?
        .ok_or_else(|| {
            nothing(format!(
                "load balancer {} has no listener on port {} in {region}",
                lb.reference, lb.listener_port
            ))
        })?;
    let rules = listener_rule::rules(&aws, &listener.arn).await?;
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
        dry_run: args.dry_run,
        changed: false,
        switch_ms: None,
        warnings: Vec::new(),
    };
    let mut switches = Vec::new();
    let mut bookkeeping = Vec::new();
    for rule in recorded {
        let current = rule
            .forward()
            .map_err(|e| Error::refused(format!("{} cannot be rolled back: {e}", rule.label())))?;
        let drifted = drift(rule, &current).map_err(|e| Error::refused(e.to_string()))?;
        if let (Some(d), false) = (&drifted, args.force) {
            return Err(Error::refused(d.to_string()));
        }
        let decision = rollback_decision(&current, &rule.tags, drifted.is_some())
            .map_err(|e| Error::refused(format!("{}: {e}", rule.label())))?;
        let (after, label) = match decision {
            RollbackDecision::NothingRecorded => continue,
            RollbackDecision::AlreadyRestored { fix_tags } => {
                if fix_tags {
                    bookkeeping.extend(move_record(rule));
                }
                (current.clone(), "already-restored")
            }
            RollbackDecision::Restore { recorded, .. } => {
                let names = recorded.names();
                let arns = target_group::arns_by_name(&aws, &names).await?;
                let after = recorded
                    .resolve(&arns)
                    .map_err(|missing| missing_groups(rule, &missing, global))?;
                for g in after.groups.iter().filter(|g| g.weight > 0) {
                    let h = target_group::health_count(&aws, &g.arn).await?;
                    if h.healthy == 0 {
                        report.warnings.push(format!(
                            "target group {} has no healthy targets ({} of {}): requests sent there will fail until its service is healthy (`mcpctl status`)",
                            g.name(),
                            h.healthy,
                            h.total
                        ));
                    }
                }
                switches.push((
                    rule,
                    RuleChange::SetForward {
                        rule_arn: rule.arn.clone(),
                        forward: after.clone(),
                    },
                ));
                bookkeeping.extend(move_record(rule));
                (after, "restore")
            }
        };
        report.rules.push(RuleRollback {
            rule_arn: rule.arn.clone(),
            priority: rule.priority,
            path_patterns: rule.path_patterns.clone(),
            decision: label,
            routing_before: current.to_string(),
            routing_after: after.to_string(),
            before: current,
            after,
        });
    }
    let changes: Vec<RuleChange> = switches
        .iter()
        .map(|(_, c)| c)
        .chain(&bookkeeping)
        .cloned()
        .collect();
    report.calls = changes.iter().map(RuleChange::planned).collect();
    let json = global.output.is_json();
    if !json {
        print_plan(&report, &listener.load_balancer, listener.port)?;
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    if !args.dry_run && !changes.is_empty() {
        crate::commands::show_identity(&aws).await?;
        if !switches.is_empty() {
            crate::prompt::confirm("Restore the routing recorded before the cutover?", args.yes)?;
        }
        // Last look before the switch: refuse if a rule moved since it was read.
        for (rule, _) in &switches {
            let now = listener_rule::rule(&aws, &rule.arn).await?;
            if let Some(what) = moved(rule, now.as_ref()) {
                return Err(Error::refused(format!(
                    "{what}: a cutover, another rollback or a hand edit changed it while this rollback was deciding; nothing was changed; run `mcpctl rollback` again to decide on the rule as it is now"
                )));
            }
        }
        let started = Instant::now();
        for (_, c) in &switches {
            c.apply(&aws).await?;
        }
        if !switches.is_empty() {
            report.switch_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
            report.changed = true;
        }
        for c in &bookkeeping {
            c.apply(&aws).await?;
        }
    }
    if json {
        print_json(&report)?;
    } else if switches.is_empty() {
        crate::outln!(
            "Nothing to do: the routing recorded before the last cutover is already in place."
        )?;
    } else if report.changed {
        crate::outln!(
            "Done: routing restored in {:.0} ms (ModifyRule).",
            report.switch_ms.unwrap_or_default()
        )?;
    } else {
        crate::outln!("Dry run: nothing was changed.")?;
    }
    Ok(())
}

/// After a restore, the record moves from "replaced" to "restored" so a second rollback knows
/// (and what the last cutover applied goes with it).
fn move_record(rule: &ListenerRule) -> Vec<RuleChange> {
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
            keys: [REPLACED_TAG, APPLIED_TAG]
                .iter()
                .filter(|k| rule.tag(k).is_some())
                .map(|k| k.to_string())
                .collect(),
        },
    ]
}

/// The refusal when recorded target groups are gone, with how to bring them back.
fn missing_groups(rule: &ListenerRule, missing: &[String], global: &GlobalArgs) -> Error {
    let mut how = Vec::new();
    for name in missing {
        match crate::archive::with_target_group(&global.stacks_dir, name) {
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

fn print_plan(r: &RollbackReport, alb: &str, port: u16) -> Result<()> {
    for rule in &r.rules {
        let label = match rule.priority {
            Some(p) => format!("rule {p} ({})", rule.path_patterns.join(", ")),
            None => "default rule".into(),
        };
        crate::outln!("Rule: {label} on {alb}:{port}")?;
        crate::outln!("Routing now:   {}", rule.before)?;
        crate::outln!("Routing after: {}", rule.after)?;
    }
    super::print_calls("Calls", &r.calls, r.dry_run)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from(["mcpctl", "rollback", "--yes", "--dry-run"]).unwrap();
        let Command::Rollback(a) = cli.command else {
            panic!("not rollback")
        };
        assert!(a.yes && a.dry_run && !a.force);
        assert_eq!(a.stack, "stateful");
        let cli = Cli::try_parse_from(["mcpctl", "rollback", "--force"]).unwrap();
        let Command::Rollback(a) = cli.command else {
            panic!("not rollback")
        };
        assert!(a.force && !a.yes);
    }
}
