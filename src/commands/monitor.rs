//! `mcpctl monitor [--stack A --stack B] [--interval 10s] [--window 5m] [--count N]`: both
//! stacks' ALB metrics and production share side by side, redrawn in place on a terminal, a
//! block per interval without one, one JSON line per interval with `--output json`.

use std::io::IsTerminal;
use std::time::Duration;

use clap::Args;

use super::gates::GateArgs;
use crate::cli::GlobalArgs;
use crate::cutover::progressive::monitor::{render, sample};
use crate::error::Error;
use crate::outln;
use crate::output::{Outcome, Output};

/// Arguments of `mcpctl monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Stacks to show, production first (default: stateful and stateless).
    #[arg(long = "stack")]
    pub stacks: Vec<String>,
    /// Time between readings.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// How far back each reading looks (ALB metrics arrive per minute).
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub window: Duration,
    /// Stop after this many readings (default: until Ctrl-C).
    #[arg(long)]
    pub count: Option<u64>,
    /// The gates judged for the stacks after the first.
    #[command(flatten)]
    pub gates: GateArgs,
}

/// Run `mcpctl monitor` (JSON output: one object per reading, printed as it comes; a failure
/// still ends with the error document).
pub async fn run(args: MonitorArgs, global: &GlobalArgs) -> Outcome {
    if args.interval < Duration::from_secs(1) || args.window < Duration::from_secs(60) {
        return Err(Error::bad_input(
            "--interval must be at least 1s and --window at least 1m (ALB metrics come per minute)",
        )
        .into());
    }
    let thresholds = args.gates.thresholds()?;
    let names = if args.stacks.is_empty() {
        vec!["stateful".to_string(), "stateless".to_string()]
    } else {
        args.stacks.clone()
    };
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let session = super::session::open(&names, global).await?;
    let (stacks, c) = (session.stacks, session.clients);
    let redraw = !global.output.is_json() && std::io::stdout().is_terminal();
    let mut drawn_lines = 0usize;
    let mut n = 0u64;
    loop {
        let s = sample(&c, &stacks, args.window, &thresholds).await?;
        if global.output.is_json() {
            outln!(
                "{}",
                serde_json::to_string(&s).map_err(|e| Error::failed(e.to_string()))?
            )?;
        } else {
            let table = render(&s);
            if redraw && drawn_lines > 0 {
                // Move up over the last table and clear to the end of the screen.
                crate::out!("\x1b[{drawn_lines}A\x1b[J")?;
            }
            drawn_lines = table.lines().count();
            outln!("{}", table.trim_end())?;
        }
        n += 1;
        if args.count.is_some_and(|c| n >= c) {
            return Ok(Output::Streamed);
        }
        tokio::select! {
            _ = tokio::time::sleep(args.interval) => {}
            _ = tokio::signal::ctrl_c() => return Ok(Output::Streamed),
        }
    }
}
