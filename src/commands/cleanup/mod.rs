//! `mcpctl cleanup`: archive a stack's live configuration, then remove its resources.

mod checks;
mod gather;
mod steps;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::archive::{self, capture, Archive};
use crate::aws::listener_rule::ListenerRule;
use crate::aws::{Call, Clients};
use crate::cli::GlobalArgs;
use crate::cutover::decide::handover::{RuleFate, RulePlan};
use crate::error::Result;
use crate::output::{Outcome, Output};

/// Arguments of `mcpctl cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The stack to remove (`stacks/NAME.yaml`, or a path to a stack file).
    #[arg(long, value_name = "NAME")]
    pub stack: String,
    /// Also delete the ECR repository and its images (kept by default).
    #[arg(long)]
    pub delete_images: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Write nothing, change nothing: print the archive path and the exact calls.
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete the task role mcpctl manages for the stack (`roles.task_role`), unless
    /// another service still runs as it. Roles given by ARN are never deleted.
    #[arg(long)]
    pub delete_role: bool,
    /// Clean up even while a listener rule still sends traffic to the stack's target group.
    #[arg(long)]
    pub force: bool,
    /// How long to wait for the service's tasks to stop (e.g. 10m, 90s).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// What `cleanup` found and did, for `--output json`.
#[derive(Debug, Serialize)]
pub struct CleanupReport {
    /// The stack.
    pub stack: String,
    /// The archive directory (planned, with `--dry-run`).
    pub archive: PathBuf,
    /// True when an unfinished cleanup's archive is reused.
    pub continued: bool,
    /// The rules the cleanup deletes, hands over or changes.
    pub rules: Vec<RulePlan>,
    /// The steps, in order (AWS calls and the wait).
    pub calls: Vec<Call>,
    /// What is kept on purpose.
    pub kept: Vec<String>,
    /// True with `--dry-run`.
    pub dry_run: bool,
    /// True when every step ran.
    pub done: bool,
}

/// Run `mcpctl cleanup`.
pub async fn run(args: CleanupArgs, global: &GlobalArgs) -> Outcome {
    let (stack, c) = crate::commands::session::open_one(&args.stack, global).await?;
    let region = c.region.clone();
    let out = run_loaded(args, global, &stack, c)
        .await
        .map_err(|e| crate::commands::explain_not_found(e, &region, &stack))?;
    Ok(out)
}

/// `cleanup` once the stack is loaded and the clients made: check the rules, read what the
/// stack owns, list the steps, then (unless `--dry-run` or nothing to do) archive and apply.
async fn run_loaded(
    args: CleanupArgs,
    global: &GlobalArgs,
    stack: &crate::stack::Stack,
    c: Clients,
) -> Result<Output> {
    // Observe everything first; nothing is written or changed before the checks pass.
    let checked = gather::checked_rules(&c, stack, global, args.force).await?;
    // The safety checks passed: read the rest of what the stack owns.
    let owned = gather::read_owned(&c, stack, args.delete_role).await?;
    let (steps, kept) = gather::steps(stack, &args, &owned, &checked);

    let now = time::OffsetDateTime::now_utc();
    let unfinished = archive::unfinished(&global.stacks_dir, &stack.name);
    let continued = unfinished.is_some();
    let mut report = CleanupReport {
        stack: stack.name.clone(),
        archive: unfinished
            .as_ref()
            .map(|a| a.dir.clone())
            .unwrap_or_else(|| Archive::planned_dir(&global.stacks_dir, stack, now)),
        continued,
        rules: checked.plans,
        calls: steps.iter().map(|s| s.planned(stack)).collect(),
        kept,
        dry_run: args.dry_run,
        done: false,
    };
    let json_out = global.output.is_json();
    if let Some(out) = show_plan(&report, steps.is_empty(), args.dry_run, json_out)? {
        return Ok(out);
    }
    crate::commands::show_identity(&c).await?;
    if !steps.is_empty() {
        crate::prompt::confirm(
            &format!(
                "Archive stack {} to {} and delete the resources above?",
                stack.name,
                report.archive.display()
            ),
            args.yes,
        )?;
    }

    // Archive first: everything that still exists, never overwriting an earlier capture.
    let mut arch = match unfinished {
        Some(a) => a,
        None => Archive::create(&global.stacks_dir, stack, now)?,
    };
    let touched: Vec<&ListenerRule> = checked
        .rules
        .iter()
        .filter(|r| report.rules.iter().any(|p| p.rule_arn == r.arn))
        .collect();
    capture::live_configuration(
        &c,
        &mut arch,
        stack,
        owned.task_definition().as_deref(),
        owned.svc.is_some(),
        &touched,
    )
    .await?;
    for (i, step) in steps.iter().enumerate() {
        if !json_out {
            crate::outln!(
                "[{}/{}] {}",
                i + 1,
                steps.len(),
                report.calls[i].iam_action()
            )?;
        }
        step.apply(&c, stack, args.timeout).await?;
    }
    arch.finish()?;
    report.done = true;
    if json_out {
        return Output::json(&report);
    }
    crate::outln!(
        "Done: stack {} removed; its configuration is in {} (deploy it again with `mcpctl up --stack {}`).",
        stack.name,
        arch.dir.display(),
        arch.dir.display()
    )?;
    Ok(Output::Nothing)
}

/// Print the plan (or that there is nothing to do, or the dry run's report); the output when
/// `cleanup` stops here.
fn show_plan(
    report: &CleanupReport,
    no_steps: bool,
    dry_run: bool,
    json_out: bool,
) -> Result<Option<Output>> {
    if no_steps && !report.continued {
        // Nothing is archived either: no archive path to show.
        if json_out {
            return Output::json(report).map(Some);
        }
        crate::outln!(
            "Nothing to do: stack {} has no resources left (nothing archived).",
            report.stack
        )?;
        return Ok(Some(Output::Nothing));
    }
    if !json_out {
        print_plan(report)?;
    }
    if dry_run {
        if json_out {
            return Output::json(report).map(Some);
        }
        crate::outln!("Dry run: nothing was written or changed.")?;
        return Ok(Some(Output::Nothing));
    }
    Ok(None)
}

fn print_plan(r: &CleanupReport) -> Result<()> {
    crate::outln!(
        "Cleanup of stack {}{}",
        r.stack,
        if r.continued {
            " (continuing a cleanup that stopped)"
        } else {
            ""
        }
    )?;
    crate::outln!("Archive: {}", r.archive.display())?;
    for rule in &r.rules {
        let what = match &rule.fate {
            RuleFate::Delete => "delete".to_string(),
            RuleFate::HandOver { to_stack, .. } => format!("keep, hand over to stack {to_stack}"),
            RuleFate::DropGroup { forward } => format!("keep, forward only to {forward}"),
        };
        crate::outln!("Listener {}: {what}", rule.label)?;
    }
    super::print_calls("Steps", &r.calls, r.dry_run)?;
    for k in &r.kept {
        crate::outln!("Kept: {k}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    #[test]
    fn stack_is_required_and_flags_parse() {
        assert!(Cli::try_parse_from(["mcpctl", "cleanup"]).is_err());
        let cli = Cli::try_parse_from([
            "mcpctl",
            "cleanup",
            "--stack",
            "stateful",
            "--delete-images",
            "--yes",
            "--dry-run",
            "--force",
            "--timeout",
            "90s",
        ])
        .unwrap();
        let Command::Cleanup(a) = cli.command else {
            panic!("not cleanup")
        };
        assert_eq!(a.stack, "stateful");
        assert!(a.delete_images && a.yes && a.dry_run && a.force);
        assert_eq!(a.timeout, std::time::Duration::from_secs(90));
    }
}
