//! One step's bake: every interval read the `--to` target group's ALB metrics since the step
//! began and, every probe interval, run the MCP probe; judge them ([`super::gate::judge`]) and
//! stop at the first breach, at an interrupt (Ctrl-C, SIGTERM), or when the bake is over.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::mpsc::Receiver;

use super::gate::{judge, Breach, Gate, ProbeReading, Thresholds, Verdict};
use super::probe::probe_once;
use crate::aws::metrics::{self, AlbMetrics};
use crate::aws::Clients;
use crate::probe::driver::McpHttp;

/// Metric reads that may fail in a row before the step is judged blind and rolled back.
pub const MAX_READ_FAILURES: u32 = 3;

/// The MCP probe of the bake.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// A client for the production URL.
    pub http: McpHttp,
    /// Time between probes.
    pub interval: Duration,
}

/// What a bake watches and for how long.
#[derive(Debug, Clone)]
pub struct BakeSpec<'a> {
    /// The ALB's ARN (its `LoadBalancer` dimension).
    pub alb_arn: &'a str,
    /// The `--to` target group's ARN.
    pub to_arn: &'a str,
    /// When the step began (Unix seconds): only data from then on counts.
    pub since: u64,
    /// Bake time left.
    pub left: Duration,
    /// Time between metric reads.
    pub interval: Duration,
    /// The gates.
    pub thresholds: &'a Thresholds,
    /// The probe, unless `--no-probe`.
    pub probe: Option<&'a ProbeSpec>,
}

/// One reading during a bake, for progress lines and the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    /// Bake time left, in whole seconds.
    pub left_seconds: u64,
    /// The `--to` target group's metrics since the step began.
    pub metrics: AlbMetrics,
    /// The probes of this step (`None` with `--no-probe`).
    pub probe: Option<ProbeReading>,
    /// The verdict.
    pub verdict: Verdict,
    /// The last metric read's error, when it failed (the reading then holds the earlier data).
    pub read_error: Option<String>,
}

/// How a bake ended.
#[derive(Debug, Clone, PartialEq)]
pub enum BakeEnd {
    /// The bake time passed with every gate holding.
    Passed,
    /// A gate broke.
    Breached(Breach),
    /// Ctrl-C or SIGTERM arrived.
    Interrupted,
}

/// Bake one step; `on_reading` sees every reading. Returns how it ended and the last reading.
pub async fn bake(
    aws: &Clients,
    spec: &BakeSpec<'_>,
    interrupts: &mut Receiver<()>,
    on_reading: &mut dyn FnMut(&Reading),
) -> (BakeEnd, Option<Reading>) {
    let deadline = Instant::now() + spec.left;
    let mut probe = spec.probe.map(|_| ProbeReading::default());
    let mut next_probe = Instant::now();
    let mut metrics = AlbMetrics::default();
    let mut read_failures = 0u32;
    loop {
        if let (Some(p), Some(reading)) = (spec.probe, probe.as_mut()) {
            if Instant::now() >= next_probe {
                reading.record(&probe_once(&p.http).await);
                next_probe = Instant::now() + p.interval;
            }
        }
        let since = UNIX_EPOCH + Duration::from_secs(spec.since);
        let read_error =
            match metrics::read(aws, spec.alb_arn, spec.to_arn, since, SystemTime::now()).await {
                Ok(m) => {
                    metrics = m;
                    read_failures = 0;
                    None
                }
                Err(e) => {
                    read_failures += 1;
                    Some(format!("{e:#}"))
                }
            };
        let verdict = match &read_error {
            Some(e) if read_failures >= MAX_READ_FAILURES => Verdict::Breached(Breach {
                gate: Gate::MetricsUnavailable,
                message: format!(
                    "CloudWatch metrics could not be read {read_failures} times in a row, so the step cannot be judged: {e}"
                ),
                observed: f64::from(read_failures),
                threshold: f64::from(MAX_READ_FAILURES),
            }),
            _ => judge(&metrics, probe.as_ref(), spec.thresholds),
        };
        let reading = Reading {
            left_seconds: deadline.saturating_duration_since(Instant::now()).as_secs(),
            metrics: metrics.clone(),
            probe: probe.clone(),
            verdict: verdict.clone(),
            read_error,
        };
        on_reading(&reading);
        if let Verdict::Breached(b) = verdict {
            return (BakeEnd::Breached(b), Some(reading));
        }
        let now = Instant::now();
        if now >= deadline {
            return (BakeEnd::Passed, Some(reading));
        }
        let mut wait = spec.interval.min(deadline - now);
        if spec.probe.is_some() {
            wait = wait.min(next_probe.saturating_duration_since(now));
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            Some(()) = interrupts.recv() => return (BakeEnd::Interrupted, Some(reading)),
        }
    }
}

/// Seconds since the Unix epoch now (the progress record's clock).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
