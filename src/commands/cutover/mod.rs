//! `mcpctl cutover`: send the production path's traffic (all, or a percentage) to another stack,
//! in one step (`--weight N`) or progressively (`--steps 10,50,100`, [`progressive`]).

mod printer;
mod progressive;

use std::time::Duration;

use clap::Args;

use super::gates::GateArgs;
use crate::cli::GlobalArgs;
use crate::commands::session::Session;
use crate::cutover::apply::step::{self, same_listener, CutoverReport};
use crate::cutover::decide::record::REPLACED_TAG;
use crate::cutover::decide::{Percent, RecordUpdate};
use crate::error::{Error, Result};
use crate::output::{Outcome, Output};
use crate::probe::connection::ConnectionArgs;

/// Arguments of `mcpctl cutover`.
#[derive(Debug, Args)]
pub struct CutoverArgs {
    /// The stack whose production rule (its path patterns, e.g. `/ossserver/*`) is moved.
    #[arg(long, value_name = "STACK", default_value = "stateful")]
    pub from: String,
    /// The stack that receives the traffic (its target group must have healthy targets).
    #[arg(long, value_name = "STACK", default_value = "stateless")]
    pub to: String,
    /// Share of the production traffic for `--to`, a whole percentage 1–100 (a canary: 10, then 50, then 100).
    #[arg(long, value_name = "PERCENT", default_value = "100")]
    pub weight: Percent,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Print the routing before/after and the exact calls, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Cut over even when the target group of `--to` has no healthy targets.
    #[arg(long)]
    pub force: bool,
    /// Progressive cutover: these shares in turn (rising percentages, e.g. 10,50,100), each
    /// baked and judged by the gates; a breach restores the routing by itself (exit 4).
    #[arg(long, value_name = "P1,P2,...", conflicts_with = "weight")]
    pub steps: Option<String>,
    /// Progressive: how long each step runs while its gates are judged (e.g. 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration)]
    pub bake: Duration,
    /// Progressive: time between CloudWatch reads during a bake.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// Progressive: after each bake, wait at most this long for CloudWatch to publish the
    /// step's last one-minute periods (ALB publishes them one to three minutes late); `0s`
    /// judges what CloudWatch holds when the bake ends (for emulators that answer at once).
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = humantime::parse_duration)]
    pub metrics_lag: Duration,
    /// Progressive: when the `--to` stack has `service.autoscaling` and too few healthy targets
    /// for a step's share, its minimum is raised and the step waits at most this long for them.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub capacity_wait: Duration,
    /// Progressive: a step whose rates were not judged (fewer than --min-requests requests, or
    /// periods CloudWatch had not published) breaches instead of passing on the probe alone.
    #[arg(long)]
    pub require_traffic: bool,
    /// Progressive: the gates.
    #[command(flatten)]
    pub gates: GateArgs,
    /// Progressive: the MCP endpoint to probe during each bake (default: the `--to` stack's own
    /// route on the same load balancer: the production host name with its MCP path).
    #[arg(long, value_name = "URL", conflicts_with = "no_probe")]
    pub probe_url: Option<String>,
    /// Progressive: judge only the CloudWatch metrics, run no MCP probe.
    #[arg(long)]
    pub no_probe: bool,
    /// Progressive: time between MCP probes.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub probe_interval: Duration,
    /// Progressive: `--token`, `--header` and `--bearer-token-env` for the probe.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Continue the progressive cutover recorded on the production rule (after the process was
    /// stopped or lost its connection): the current step's bake goes on for the time it had
    /// left, then the next steps. The gate and probe flags apply as given now.
    #[arg(long, conflicts_with_all = ["steps", "weight"])]
    pub resume: bool,
}

/// Run `mcpctl cutover`.
pub async fn run(args: CutoverArgs, global: &GlobalArgs) -> Outcome {
    if args.from == args.to {
        return Err(Error::bad_input(format!(
            "--from and --to are both `{}`: name the stack serving production now and the one to move it to",
            args.from
        ))
        .into());
    }
    let session = crate::commands::session::open(&[&args.from, &args.to], global).await?;
    let (from, to) = (&session.stacks[0], &session.stacks[1]);
    same_listener(from, to)?;
    if args.steps.is_some() || args.resume {
        return progressive::run(&args, global, &session).await;
    }
    one_step(&args, global, &session).await
}

/// `cutover --weight N`: one step, no bake.
async fn one_step(args: &CutoverArgs, global: &GlobalArgs, session: &Session) -> Outcome {
    let (from, to) = (&session.stacks[0], &session.stacks[1]);
    let (aws, region) = (&session.clients, session.region.as_str());
    let mut step = step::prepare(aws, from, to, region, args.weight, args.force, None).await?;
    step.report.dry_run = args.dry_run;
    let json = global.output.is_json();
    if !json {
        print_plan(&step.report)?;
    }
    if !step.changes.is_empty() && !args.dry_run {
        crate::commands::show_identity(aws).await?;
        crate::prompt::confirm(
            &format!(
                "Send {}% of {} to stack {}?",
                step.report.weight,
                step.report.path_patterns.join(", "),
                step.report.to
            ),
            args.yes,
        )?;
        step::apply(aws, &mut step).await?;
    }
    if json {
        return Ok(Output::json(&step.report)?);
    }
    print_outcome(&step.report)?;
    Ok(Output::Nothing)
}

pub(super) fn print_plan(r: &CutoverReport) -> Result<()> {
    crate::outln!(
        "Production rule: {} on {}:{}",
        match r.priority {
            Some(p) => format!("rule {p} ({})", r.path_patterns.join(", ")),
            None => "default rule".into(),
        },
        r.listener.load_balancer,
        r.listener.port
    )?;
    crate::outln!(
        "Stack {}: {} of {} targets healthy{}",
        r.to,
        r.target_health.healthy,
        r.target_health.total,
        if r.forced {
            " (--force: going ahead anyway)"
        } else {
            ""
        }
    )?;
    crate::outln!("Routing before: {}", r.before)?;
    crate::outln!("Routing after:  {}", r.after)?;
    for d in &r.dropped {
        crate::outln!("Note: target group {d} no longer receives traffic from this rule")?;
    }
    if r.calls.is_empty() {
        return Ok(());
    }
    match &r.record {
        RecordUpdate::Keep { value } => crate::outln!(
            "Rollback record: kept ({REPLACED_TAG} = {value}, the routing before this cutover began)"
        )?,
        RecordUpdate::Write { value, .. } => {
            crate::outln!("Rollback record: {REPLACED_TAG} = {value} (on the rule)")?
        }
    }
    super::print_calls("Calls", &r.calls, r.dry_run)?;
    Ok(())
}

fn print_outcome(r: &CutoverReport) -> Result<()> {
    if r.calls.is_empty() {
        crate::outln!("Nothing to do: the rule already routes this way.")?;
    } else if r.changed {
        crate::outln!(
            "Done: {}% of {} now goes to stack {}. Undo with `mcpctl rollback`.",
            r.weight,
            r.path_patterns.join(", "),
            r.to
        )?;
    } else {
        crate::outln!("Dry run: nothing was changed.")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<super::CutoverArgs, clap::Error> {
        let cli = Cli::try_parse_from([&["mcpctl", "cutover"], args].concat())?;
        match cli.command {
            Command::Cutover(a) => Ok(a),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn defaults_move_all_traffic_from_stateful_to_stateless() {
        let a = parse(&[]).unwrap();
        assert_eq!((a.from.as_str(), a.to.as_str()), ("stateful", "stateless"));
        assert_eq!(a.weight.get(), 100);
        assert!(!a.yes && !a.dry_run && !a.force);
    }

    #[test]
    fn a_canary_weight_and_flags_parse() {
        let a = parse(&[
            "--weight",
            "10",
            "--yes",
            "--dry-run",
            "--force",
            "--to",
            "x",
        ])
        .unwrap();
        assert_eq!(a.weight.get(), 10);
        assert!(a.yes && a.dry_run && a.force);
        assert_eq!(a.to, "x");
    }

    #[test]
    fn stacks_must_share_the_listener() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
        let env = |k: &str| (k == "AWS_ACCOUNT_ID").then(|| "123456789012".to_string());
        let a = crate::stack::load_with_env("stateful", &dir, &env).unwrap();
        let mut b = crate::stack::load_with_env("stateless", &dir, &env).unwrap();
        assert!(crate::cutover::apply::step::same_listener(&a, &b).is_ok());
        b.load_balancer.listener_port = 8080;
        let e = crate::cutover::apply::step::same_listener(&a, &b).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("port 80 / 8080"), "{e}");
    }

    #[test]
    fn weight_1000_is_bad_input_with_what_to_write() {
        let e = parse(&["--weight", "1000"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(
            e.to_string().contains("whole percentage from 1 to 100"),
            "{e}"
        );
    }
}
