//! `mcpctl rollback`: restore the routing the last cutover replaced, in one call.

use clap::Args;
use serde::Serialize;

use crate::aws::listener_rule::{self, ListenerRule, RuleChange};
use crate::aws::{load_balancer, Call};
use crate::cli::GlobalArgs;
use crate::cutover::apply::restore::{self, RuleRollback};
use crate::cutover::decide::record::{REPLACED_TAG, RESTORED_TAG};
use crate::error::{Error, Result};
use crate::output::Report;

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
pub async fn run(args: RollbackArgs, global: &GlobalArgs, out: &mut Report) -> Result<()> {
    let (stack, aws) = super::session::open_one(&args.stack, global).await?;
    let region = stack.region.clone();
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
    let mut restores = Vec::new();
    for rule in recorded {
        if let Some(r) = restore::plan(&aws, rule, args.force, &global.stacks_dir).await? {
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
    let json = global.output.is_json();
    if !json {
        print_plan(&report, &listener.load_balancer, listener.port)?;
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
    }
    if !args.dry_run && !report.calls.is_empty() {
        crate::commands::show_identity(&aws).await?;
        if switches > 0 {
            crate::prompt::confirm("Restore the routing recorded before the cutover?", args.yes)?;
        }
        report.switch_ms = restore::apply(&aws, &restores).await?;
        report.changed = report.switch_ms.is_some();
    }
    if json {
        out.json(&report)?;
    } else if switches == 0 {
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
