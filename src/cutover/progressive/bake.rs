//! One step's bake: every interval read the `--to` target group's ALB metrics over the step's
//! periods and, every probe interval, run the MCP probe; judge them ([`super::gate::judge`])
//! and stop at the first breach or at an interrupt (Ctrl-C, SIGTERM). When the bake time is
//! up the step waits for CloudWatch's late periods ([`super::window`], at most `--metrics-lag`)
//! and ends with a [`Judgement`]: what was judged, and what was not.
//!
//! It fails closed: metrics that cannot be read [`MAX_READ_FAILURES`] times in a row breach
//! the step (`metrics_unavailable`), and a step never ends on data read before its bake ended.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::mpsc::Receiver;

use super::gate::{judge, Breach, Gate, ProbeReading, Thresholds, Verdict};
use super::probe::probe_once;
use super::window::{clock, Settle, StepWindow};
use crate::aws::metrics::{self, AlbMetrics, WindowRead};
use crate::aws::Clients;
use crate::probe::driver::McpHttp;

/// Metric reads that may fail in a row before the step is judged blind and rolled back.
pub const MAX_READ_FAILURES: u32 = 3;

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

/// What a step that held was judged on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// True when the rate gates were judged: at least `--min-requests` requests, over every
    /// period of the step.
    pub judged: bool,
    /// Requests CloudWatch counted for the `--to` group over the step's periods.
    pub requests: f64,
    /// Periods of the step (`HH:MM` UTC) not published within `--metrics-lag`.
    pub unread_periods: Vec<String>,
    /// Why the rates were not judged, for people (`None` when judged).
    pub not_judged: Option<String>,
}

impl Judgement {
    /// The judgement of a step on `read`, with `missing` periods never published (pure).
    pub fn of(read: &WindowRead, missing: &[u64], t: &Thresholds) -> Judgement {
        let requests = read.metrics.requests;
        let unread: Vec<String> = missing.iter().map(|p| clock(*p)).collect();
        let not_judged = if !unread.is_empty() {
            Some(format!(
                "CloudWatch had not published period(s) {} within --metrics-lag",
                unread.join(", ")
            ))
        } else if requests < t.min_requests {
            Some(format!(
                "{requests} requests < --min-requests {}",
                t.min_requests
            ))
        } else {
            None
        };
        Judgement {
            judged: not_judged.is_none(),
            requests,
            unread_periods: unread,
            not_judged,
        }
    }
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

/// The breach of a step whose metrics could not be read `failures` times in a row.
fn unavailable(failures: u32, error: &str) -> Breach {
    Breach {
        gate: Gate::MetricsUnavailable,
        message: format!(
            "CloudWatch metrics could not be read {failures} times in a row (GetMetricData needs the IAM action cloudwatch:GetMetricData), so the step cannot be judged: {error}"
        ),
        observed: f64::from(failures),
        threshold: f64::from(MAX_READ_FAILURES),
    }
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
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn a_judgement_says_what_was_not_judged() {
        let t = Thresholds::default();
        let read = |requests| WindowRead {
            metrics: AlbMetrics {
                requests,
                ..AlbMetrics::default()
            },
            published: BTreeSet::new(),
        };
        let j = Judgement::of(&read(400.0), &[], &t);
        assert!(j.judged && j.not_judged.is_none(), "{j:?}");
        let j = Judgement::of(&read(12.0), &[], &t);
        assert!(!j.judged);
        assert_eq!(
            j.not_judged.as_deref(),
            Some("12 requests < --min-requests 50")
        );
        // Enough requests, but a period never read: not judged either.
        let j = Judgement::of(&read(400.0), &[1_796_385_780], &t);
        assert!(!j.judged);
        assert_eq!(j.unread_periods, vec!["12:03".to_string()]);
        assert!(j.not_judged.unwrap().contains("12:03"));
        let b = unavailable(3, "cloudwatch:GetMetricData on x failed: AccessDenied");
        assert_eq!(b.gate, Gate::MetricsUnavailable);
        assert!(
            b.message.contains("cloudwatch:GetMetricData"),
            "{}",
            b.message
        );
    }
}
