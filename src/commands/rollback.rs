//! `mcpctl rollback`: restore the routing the last cutover replaced, in one call. Finding the
//! recorded rules and restoring them is [`crate::cutover::apply::rollback`]; this file parses,
//! confirms and prints.

use clap::Args;

use crate::cli::GlobalArgs;
use crate::cutover::apply::rollback::{self, RollbackReport};
use crate::error::Result;
use crate::output::{Outcome, Output};

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

/// Run `mcpctl rollback`.
pub async fn run(args: RollbackArgs, global: &GlobalArgs) -> Outcome {
    let (stack, aws) = super::session::open_one(&args.stack, global).await?;
    let mut rb = rollback::plan(&aws, &stack, args.force, args.dry_run, &global.stacks_dir).await?;
    let json = global.output.is_json();
    if !json {
        print_plan(&rb.report, &rb.load_balancer, rb.port)?;
        for w in &rb.report.warnings {
            eprintln!("warning: {w}");
        }
    }
    if !args.dry_run && !rb.report.calls.is_empty() {
        crate::commands::show_identity(&aws).await?;
        if rb.switches > 0 {
            crate::prompt::confirm("Restore the routing recorded before the cutover?", args.yes)?;
        }
        rollback::apply(&aws, &mut rb).await?;
    }
    let report = &rb.report;
    if json {
        return Ok(Output::json(report)?);
    } else if rb.switches == 0 {
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
    Ok(Output::Nothing)
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
