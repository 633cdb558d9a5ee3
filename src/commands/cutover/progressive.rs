//! `cutover --steps 10,50,100 --bake 5m` and `cutover --resume`: check the flags, find the
//! production URL to probe, ask once, run [`crate::cutover::progressive::rollout`] with Ctrl-C and SIGTERM
//! delivered to it, print progress (redrawn in place on a terminal, plain lines without one, on
//! stderr with `--output json`), and map the outcome to the exit code: 0 completed, 4 aborted
//! with the routing restored, 130 interrupted with the routing left at a step for `--resume`.

use std::time::Duration;

use tokio::sync::mpsc;

use super::printer::Printer;
use super::CutoverArgs;
use crate::aws::Clients;
use crate::cli::GlobalArgs;
use crate::commands::session::Session;
use crate::cutover::decide::progress::{parse_steps, MAX_BAKE_SECONDS};
use crate::cutover::decide::window::PERIOD;
use crate::cutover::decide::Percent;
use crate::cutover::progressive::bake::ProbeSpec;
use crate::cutover::progressive::rollout::{self, Outcome, RolloutReport, RolloutSpec, Scene};
use crate::cutover::progressive::start;
use crate::error::{Error, Result};
use crate::output::{self, Failure, Output};
use crate::probe::driver::{McpHttp, DEFAULT_PROTOCOL_VERSION};
use crate::probe::endpoint::parse_url;
use crate::signals::Signals;
use crate::stack::Stack;

/// Longest `--capacity-wait`.
const MAX_CAPACITY_WAIT_SECONDS: u64 = 60 * 60;

/// Longest `--metrics-lag`.
const MAX_METRICS_LAG_SECONDS: u64 = 15 * 60;

/// Limit of each probe request.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Run a progressive cutover (or resume one).
pub(super) async fn run(
    args: &CutoverArgs,
    global: &GlobalArgs,
    session: &Session,
) -> output::Outcome {
    let (from, to) = (&session.stacks[0], &session.stacks[1]);
    let (aws, region) = (&session.clients, session.region.as_str());
    let thresholds = args.gates.thresholds()?;
    check_durations(args)?;
    let conn = args.connection.resolve().map_err(Error::bad_input)?;
    let (steps, resume) = if args.resume {
        let p = start::recorded(aws, from, to, region).await?;
        (p.steps.clone(), Some(p))
    } else {
        let text = args.steps.as_deref().unwrap_or_default();
        (parse_steps(text).map_err(|e| Error::bad_input(e.0))?, None)
    };
    let bake = match &resume {
        Some(p) => Duration::from_secs(p.bake),
        None => args.bake,
    };
    let probe = if args.no_probe {
        None
    } else {
        let url = match &args.probe_url {
            Some(u) => parse_url(u).map_err(|e| Error::bad_input(format!("--probe-url: {e}")))?,
            None => start::to_stack_url(aws, to).await?,
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::failed_with("could not build the probe's HTTP client", e))?;
        Some(ProbeSpec {
            http: McpHttp::new(
                http,
                url,
                DEFAULT_PROTOCOL_VERSION,
                PROBE_TIMEOUT,
                conn.bearer,
            )
            .with_headers(conn.headers),
            interval: args.probe_interval,
        })
    };
    let spec = RolloutSpec {
        steps,
        bake,
        interval: args.interval,
        metrics_lag: args.metrics_lag,
        thresholds,
        require_traffic: args.require_traffic,
        probe,
        force: args.force,
        capacity_wait: args.capacity_wait,
        resume,
    };
    print_schedule(&spec, from, to, global)?;
    if args.dry_run {
        return Ok(dry_run(aws, &spec, from, to, region, global).await?);
    }
    crate::commands::show_identity(aws).await?;
    crate::prompt::confirm(
        &format!(
            "Move {} from stack {} to stack {} in steps of {}?",
            from.routing.path_patterns.join(", "),
            from.name,
            to.name,
            percents(&spec.steps)
        ),
        args.yes,
    )?;
    let mut interrupts = interrupts()?;
    let mut observer = Printer::new(global.output.is_json(), spec.thresholds.clone());
    let scene = Scene {
        aws,
        from,
        to,
        region,
        stacks_dir: &global.stacks_dir,
    };
    let report = rollout::run(scene, &spec, &mut observer, &mut interrupts).await?;
    observer.finish_line();
    finish(&report, global)
}

/// `--dry-run`: the schedule, and the first step's routing and exact calls; nothing changed.
async fn dry_run(
    aws: &Clients,
    spec: &RolloutSpec,
    from: &Stack,
    to: &Stack,
    region: &str,
    global: &GlobalArgs,
) -> Result<Output> {
    let first = spec.resume.as_ref().map_or(0, |p| p.step);
    let mut step = start::first_step(aws, spec, from, to, region).await?;
    step.report.dry_run = true;
    if global.output.is_json() {
        return Output::json(&step.report);
    }
    crate::outln!("Step {} of {}:", first + 1, spec.steps.len())?;
    super::print_plan(&step.report)?;
    crate::outln!("Dry run: nothing was changed.")?;
    Ok(Output::Nothing)
}

fn check_durations(args: &CutoverArgs) -> Result<()> {
    let second = Duration::from_secs(1);
    // ALB metrics come in one-minute periods: a shorter bake cannot see one whole period.
    if args.bake < Duration::from_secs(PERIOD) || args.bake.as_secs() > MAX_BAKE_SECONDS {
        return Err(Error::bad_input(format!(
            "--bake {} is out of range: give 60s to 24h per step (ALB metrics come in one-minute periods; e.g. --bake 5m)",
            humantime::format_duration(args.bake)
        )));
    }
    if args.capacity_wait.as_secs() > MAX_CAPACITY_WAIT_SECONDS {
        return Err(Error::bad_input(format!(
            "--capacity-wait {} is out of range: give 0s to 1h (e.g. --capacity-wait 10m)",
            humantime::format_duration(args.capacity_wait)
        )));
    }
    if args.metrics_lag.as_secs() > MAX_METRICS_LAG_SECONDS {
        return Err(Error::bad_input(format!(
            "--metrics-lag {} is out of range: give 0s to 15m (ALB metrics are typically 1-3 minutes late; e.g. --metrics-lag 3m)",
            humantime::format_duration(args.metrics_lag)
        )));
    }
    for (flag, d) in [
        ("--interval", args.interval),
        ("--probe-interval", args.probe_interval),
    ] {
        if d < second {
            return Err(Error::bad_input(format!(
                "{flag} must be at least 1s (e.g. {flag} 10s)"
            )));
        }
    }
    Ok(())
}

/// Ctrl-C and SIGTERM, from now on, as messages: registered before the first change, so a
/// signal during a step's calls waits for them to finish (never a half-step) and is handled at
/// the bake.
fn interrupts() -> Result<mpsc::Receiver<()>> {
    let mut signals = Signals::new()?;
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            signals.next().await;
            if tx.send(()).await.is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

fn percents(steps: &[Percent]) -> String {
    let v: Vec<String> = steps.iter().map(|p| format!("{}%", p.get())).collect();
    v.join(", ")
}

fn print_schedule(spec: &RolloutSpec, from: &Stack, to: &Stack, global: &GlobalArgs) -> Result<()> {
    if global.output.is_json() {
        return Ok(());
    }
    let t = &spec.thresholds;
    let start = match &spec.resume {
        Some(p) => format!(
            "Resuming at step {} of {} ({}%), {}s of its bake left; then ",
            p.step + 1,
            p.steps.len(),
            p.weight().get(),
            p.bake_left(crate::cutover::progressive::bake::now_secs())
        ),
        None => String::new(),
    };
    crate::outln!(
        "{start}Progressive cutover {} -> {}: steps {}, bake {} each",
        from.name,
        to.name,
        percents(&spec.steps),
        humantime::format_duration(spec.bake)
    )?;
    crate::outln!(
        "Gates: 5XX <= {}%, 4XX <= {}%, p99 <= {} ms (rates judged from {} requests over every one-minute period of a step, late periods awaited up to {}{}), no unhealthy hosts, {}",
        t.max_error_rate,
        t.max_4xx_rate,
        t.max_p99.as_millis(),
        t.min_requests,
        humantime::format_duration(spec.metrics_lag),
        if spec.require_traffic { "; an unjudged step breaches" } else { "" },
        match &spec.probe {
            Some(p) => format!("MCP probe of {} every {}", p.http.url(), humantime::format_duration(p.interval)),
            None => "no MCP probe (--no-probe)".to_string(),
        }
    )?;
    Ok(())
}

/// The closing line of a completed cutover (pure): "every gate held" only when every step's
/// gates were judged; otherwise which steps were not, and why.
fn done_line(report: &RolloutReport) -> String {
    let head = format!(
        "Done: {}% of production now goes to stack {}",
        report.steps_planned.last().copied().unwrap_or(100),
        report.to
    );
    let unjudged: Vec<String> = report
        .steps
        .iter()
        .filter_map(|s| {
            let j = s.judgement.as_ref()?;
            j.not_judged
                .as_ref()
                .map(|why| format!("step {} ({}%): {why}", s.index + 1, s.weight))
        })
        .collect();
    let probe = if report.probe_url.is_some() {
        "the MCP probe passed on every step"
    } else {
        "no MCP probe ran (--no-probe)"
    };
    if unjudged.is_empty() {
        format!("{head}; every gate held and was judged on every step ({probe}). Undo with `mcpctl rollback`.")
    } else {
        format!(
            "{head}; no gate breached and {probe}, but the metric gates did NOT judge {} of {} step(s): {}. Watch `mcpctl monitor`, and pass --require-traffic to make an unjudged step a breach. Undo with `mcpctl rollback`.",
            unjudged.len(),
            report.steps.len(),
            unjudged.join("; ")
        )
    }
}

/// Print the outcome and map it to the exit code; the report is the document either way.
fn finish(report: &RolloutReport, global: &GlobalArgs) -> output::Outcome {
    let json = global.output.is_json();
    let out = if json {
        Output::json(report)?
    } else {
        Output::Nothing
    };
    let restored = |r: &RolloutReport| {
        r.restored
            .as_ref()
            .map(|x| format!("routing restored to {}", x.routing_after))
            .unwrap_or_else(|| "routing restored".into())
    };
    let error = match &report.outcome {
        Outcome::Completed => {
            if !json {
                crate::outln!("{}", done_line(report))?;
            }
            return Ok(out);
        }
        Outcome::Aborted { step, breach } => Error::Aborted(format!(
            "aborted by a gate at step {} ({}%): {}; {}",
            step + 1,
            report.steps_planned.get(*step).copied().unwrap_or_default(),
            breach.message,
            restored(report)
        )),
        Outcome::Interrupted {
            step,
            rolled_back: true,
        } => Error::Aborted(format!(
            "interrupted during step {}; {}",
            step + 1,
            restored(report)
        )),
        Outcome::Interrupted {
            step,
            rolled_back: false,
        } => Error::Interrupted(format!(
            "interrupted during step {} ({}%): the routing stays at this step and its record stays on the rule; continue with `mcpctl cutover --from {} --to {} --resume`, or undo with `mcpctl rollback`",
            step + 1,
            report.steps_planned.get(*step).copied().unwrap_or_default(),
            report.from,
            report.to
        )),
    };
    Err(Failure::new(error, out.into_document()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cutover::decide::gate::Thresholds;
    use crate::cutover::decide::judgement::Judgement;
    use crate::cutover::progressive::rollout::StepReport;

    fn step(index: usize, weight: u8, not_judged: Option<&str>) -> StepReport {
        StepReport {
            index,
            weight,
            since: 0,
            routing: String::new(),
            calls: Vec::new(),
            last_reading: None,
            readings: 1,
            judgement: Some(Judgement {
                judged: not_judged.is_none(),
                requests: 12.0,
                unread_periods: Vec::new(),
                not_judged: not_judged.map(str::to_string),
            }),
        }
    }

    fn report(steps: Vec<StepReport>) -> RolloutReport {
        RolloutReport {
            from: "stateful".into(),
            to: "stateless".into(),
            steps_planned: vec![50, 100],
            bake_seconds: 60,
            thresholds: Thresholds::default(),
            probe_url: Some("http://alb/ossserver-stateless/ossmcp".into()),
            resumed: false,
            steps,
            outcome: Outcome::Completed,
            restored: None,
            restore_ms: None,
            capacity_raised: Vec::new(),
        }
    }

    #[test]
    fn every_gate_held_only_when_every_step_was_judged() {
        let all = done_line(&report(vec![step(0, 50, None), step(1, 100, None)]));
        assert!(
            all.contains("every gate held and was judged on every step"),
            "{all}"
        );
        let thin = done_line(&report(vec![
            step(0, 50, Some("12 requests < --min-requests 50")),
            step(1, 100, None),
        ]));
        assert!(!thin.contains("every gate held"), "{thin}");
        assert!(
            thin.contains(
                "did NOT judge 1 of 2 step(s): step 1 (50%): 12 requests < --min-requests 50"
            ),
            "{thin}"
        );
        assert!(thin.contains("--require-traffic"), "{thin}");
    }
}
