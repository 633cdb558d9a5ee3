//! One step's bake: every interval read the `--to` target group's ALB metrics over the step's
//! periods and, every probe interval, run the MCP probe; judge them ([`crate::cutover::decide::gate::judge`])
//! and stop at the first breach or at an interrupt (Ctrl-C, SIGTERM). When the bake time is
//! up the step waits for CloudWatch's late periods ([`crate::cutover::decide::window`], at most `--metrics-lag`)
//! and ends with a [`Judgement`]: what was judged, and what was not.
//!
//! It fails closed: metrics that cannot be read [`MAX_READ_FAILURES`] times in a row breach
//! the step (`metrics_unavailable`), and a step never ends on data read before its bake ended.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::mpsc::Receiver;

use super::probe::probe_once;
use crate::aws::metrics::{self, AlbMetrics, WindowRead};
use crate::aws::Clients;
use crate::cutover::decide::gate::{judge, Breach, ProbeReading, Thresholds, Verdict};
use crate::cutover::decide::judgement::{unavailable, Judgement, MAX_READ_FAILURES};
use crate::cutover::decide::window::{clock, Settle, StepWindow};
use crate::probe::driver::McpHttp;

/// Shortest sleep between two reads, so a clock on a second boundary never spins.
const MIN_WAIT: Duration = Duration::from_millis(200);

/// The MCP probe of the bake.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// A client for the probed URL (the `--to` stack's own route, or `--probe-url`).
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
    /// The step's time: weight change, end of bake, longest wait for late periods.
    pub window: StepWindow,
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
    /// Bake time left, in whole seconds (0 while waiting for CloudWatch).
    pub left_seconds: u64,
    /// The `--to` target group's metrics over the step's periods.
    pub metrics: AlbMetrics,
    /// The probes of this step (`None` with `--no-probe`).
    pub probe: Option<ProbeReading>,
    /// The verdict.
    pub verdict: Verdict,
    /// The last metric read's error, when it failed (the reading then holds the earlier data).
    pub read_error: Option<String>,
    /// After the bake: the period CloudWatch has not published yet (`12:03`).
    pub waiting_for: Option<String>,
}

/// How a bake ended.
#[derive(Debug, Clone, PartialEq)]
pub enum BakeEnd {
    /// The bake and the wait for late periods passed with no gate breached.
    Passed(Judgement),
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
    let window = spec.window;
    let mut probe = spec.probe.map(|_| ProbeReading::default());
    let mut next_probe = Instant::now();
    let mut data = WindowRead::default();
    let mut failures = 0u32;
    loop {
        if let (Some(p), Some(reading)) = (spec.probe, probe.as_mut()) {
            if Instant::now() >= next_probe {
                reading.record(&probe_once(&p.http).await);
                next_probe = Instant::now() + p.interval;
            }
        }
        let read =
            metrics::read_window(aws, spec.alb_arn, spec.to_arn, window.first, now_secs()).await;
        let read_error = match read {
            Ok(w) => {
                data = w;
                failures = 0;
                None
            }
            Err(e) => {
                failures += 1;
                Some(format!("{e:#}"))
            }
        };
        let now = now_secs();
        let settle = window.settle(now, &data.published);
        let verdict = match &read_error {
            Some(e) if failures >= MAX_READ_FAILURES => Verdict::Breached(unavailable(failures, e)),
            _ => judge(&data.metrics, probe.as_ref(), spec.thresholds),
        };
        let reading = Reading {
            left_seconds: window.bake_end.saturating_sub(now),
            metrics: data.metrics.clone(),
            probe: probe.clone(),
            verdict: verdict.clone(),
            read_error: read_error.clone(),
            waiting_for: match &settle {
                Settle::Waiting { period, .. } => Some(clock(*period)),
                _ => None,
            },
        };
        on_reading(&reading);
        if let Verdict::Breached(b) = verdict {
            return (BakeEnd::Breached(b), Some(reading));
        }
        // The step ends only on a read made after its bake (a failed one is retried).
        if read_error.is_none() {
            match settle {
                Settle::Complete => {
                    let j = Judgement::of(&data, &[], spec.thresholds);
                    return (BakeEnd::Passed(j), Some(reading));
                }
                Settle::Expired { missing } => {
                    let j = Judgement::of(&data, &missing, spec.thresholds);
                    return (BakeEnd::Passed(j), Some(reading));
                }
                Settle::Baking | Settle::Waiting { .. } => {}
            }
        }
        let mut wait = spec.interval;
        match settle {
            Settle::Baking => {
                wait = wait.min(Duration::from_secs(window.bake_end.saturating_sub(now)))
            }
            Settle::Waiting { deadline, .. } => {
                wait = wait.min(Duration::from_secs(deadline.saturating_sub(now)))
            }
            Settle::Complete | Settle::Expired { .. } => {}
        }
        if spec.probe.is_some() {
            wait = wait.min(next_probe.saturating_duration_since(Instant::now()));
        }
        tokio::select! {
            _ = tokio::time::sleep(wait.max(MIN_WAIT)) => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cutover::decide::gate::Gate;

    /// A recorded answer, folded at the AWS edge and judged by the pure gates.
    #[test]
    fn a_recorded_get_metric_data_answer_with_a_slow_p99_breaches() {
        use aws_sdk_cloudwatch::types::MetricDataResult;
        let r = |id: &str, v: &[f64]| {
            MetricDataResult::builder()
                .id(id)
                .set_values(Some(v.to_vec()))
                .build()
        };
        // As CloudWatch answers for a bake of three minutes on the --to group.
        let m = metrics::fold(&[
            r("requests", &[120.0, 110.0, 90.0]),
            r("target5xx", &[0.0, 1.0, 0.0]),
            r("target2xx", &[120.0, 109.0, 90.0]),
            r("p99", &[0.4, 2.1, 0.5]),
            r("unhealthy", &[0.0, 0.0, 0.0]),
            r("lbrequests", &[500.0, 480.0, 450.0]),
        ]);
        match judge(&m, None, &Thresholds::default()) {
            Verdict::Breached(b) => {
                assert_eq!(b.gate, Gate::P99);
                assert_eq!(b.message, "p99 response time 2100 ms > 1000 ms");
            }
            v => panic!("{v:?}"),
        }
    }
}
