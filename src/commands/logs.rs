//! `mcpctl logs --stack NAME [--since 10m] [--follow]`: the service's CloudWatch Logs.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::aws::logs::{read, LogLine};
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::output::{Outcome, Output};

/// Arguments of `mcpctl logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Stack name (`stacks/NAME.yaml`) or path to a stack file.
    #[arg(long)]
    pub stack: String,
    /// How far back to start (e.g. `10m`, `2h`, `1d`).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub since: Duration,
    /// Keep printing new events until interrupted (Ctrl-C).
    #[arg(long, short = 'f')]
    pub follow: bool,
}

fn print_line(l: &LogLine, json: bool) -> Result<()> {
    if json {
        if let Ok(s) = serde_json::to_string(l) {
            crate::outln!("{s}")?;
        }
        return Ok(());
    }
    let ts = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(l.timestamp) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| l.timestamp.to_string());
    let task = l.stream.rsplit('/').next().unwrap_or(&l.stream);
    crate::outln!("{ts} {task} {}", l.message)
}

/// Run `mcpctl logs` (JSON output: one JSON object per line, printed as it comes; a failure
/// still ends with the error document).
pub async fn run(args: LogsArgs, global: &GlobalArgs) -> Outcome {
    let (s, c) = super::session::open_one(&args.stack, global).await?;
    if crate::aws::logs::observe(&c, &s.names.log_group)
        .await?
        .is_none()
    {
        return Err(Error::bad_input(crate::commands::not_found_in_region(
            &format!("log group {}", s.names.log_group),
            &c.region,
            &s,
        ))
        .into());
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let mut start = now_ms - args.since.as_millis() as i64;
    let mut seen: HashSet<String> = HashSet::new();
    let json = global.output.is_json();
    loop {
        for l in read(&c, &s.names.log_group, start).await? {
            if seen.insert(l.id.clone()) {
                print_line(&l, json)?;
            }
            start = start.max(l.timestamp);
        }
        if !args.follow {
            return Ok(Output::Streamed);
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(Output::Streamed),
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}
