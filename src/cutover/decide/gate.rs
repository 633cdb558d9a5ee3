//! The gates of a progressive cutover, pure: given what CloudWatch saw for the `--to` target
//! group since the step began ([`AlbMetrics`]) and the last MCP probe, is the step healthy, too
//! young to judge, or breached? Rates are judged only once `min_requests` requests were seen
//! (5 errors in 6 requests say little); unhealthy hosts and a failed probe are judged at once.

use std::time::Duration;

use serde::Serialize;

use crate::model::AlbMetrics;

/// The thresholds of `cutover --steps`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    /// Most 5XX share, in percent (`--max-error-rate`, default 1).
    pub max_error_rate: f64,
    /// Most target 4XX share, in percent (`--max-4xx-rate`, default 5).
    pub max_4xx_rate: f64,
    /// Slowest p99 of the target response time (`--max-p99`, default 1 s).
    pub max_p99: Duration,
    /// Requests needed before rates are judged (`--min-requests`, default 50).
    pub min_requests: f64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            max_error_rate: 1.0,
            max_4xx_rate: 5.0,
            max_p99: Duration::from_secs(1),
            min_requests: 50.0,
        }
    }
}

/// The MCP probes through the production URL this step (initialize, tools/list, one tool call).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeReading {
    /// Probes run this step.
    pub runs: u32,
    /// Probes that failed.
    pub failures: u32,
    /// Of those, failures that were HTTP 404 "Session not found" (the bug being migrated away).
    pub session_not_found: u32,
    /// The last failure's message.
    pub last_error: Option<String>,
}

/// What broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// Target 5XX share over `--max-error-rate`.
    ErrorRate,
    /// The share of the `--to` group's requests the load balancer answered itself (502, 504:
    /// no answer from a target) over `--max-error-rate`.
    LoadBalancerErrorRate,
    /// Target 4XX share over `--max-4xx-rate`.
    ClientErrorRate,
    /// p99 response time over `--max-p99`.
    P99,
    /// The target group reported unhealthy hosts.
    UnhealthyHosts,
    /// An MCP probe answered "Session not found".
    SessionNotFound,
    /// An MCP probe failed otherwise.
    Probe,
    /// CloudWatch could not be read several times in a row: the step cannot be judged.
    MetricsUnavailable,
    /// `--require-traffic`: the step's rates could not be judged (too few requests, or periods
    /// CloudWatch had not published).
    NotJudged,
}

/// A breached gate with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    /// Which gate.
    pub gate: Gate,
    /// `2.5% 5XX (5 of 200 requests) > 1%`, for people.
    pub message: String,
    /// The observed value (percent, seconds, hosts or failures).
    pub observed: f64,
    /// The threshold it crossed.
    pub threshold: f64,
}

/// The verdict on a step so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every gate holds (or rates are not judged yet: `judged` false).
    Holding {
        /// True once `min_requests` requests were seen and the rates were compared.
        judged: bool,
    },
    /// A gate broke: roll back.
    Breached(Breach),
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole <= 0.0 {
        0.0
    } else {
        part * 100.0 / whole
    }
}

/// Judge the step (pure). Gates in order: unhealthy hosts, probe, then (once enough requests
/// were seen) target 5XX, the group's requests the load balancer answered itself, p99, 4XX —
/// the first breach is returned. The ALB-wide `HTTPCode_ELB_5XX_Count` never gates: it has no
/// `TargetGroup` dimension, so it counts every application on the load balancer.
pub fn judge(m: &AlbMetrics, probe: Option<&ProbeReading>, t: &Thresholds) -> Verdict {
    if let Some(u) = m.unhealthy_hosts.filter(|u| *u > 0.0) {
        return Verdict::Breached(Breach {
            gate: Gate::UnhealthyHosts,
            message: format!("{u} unhealthy host(s) in the target group"),
            observed: u,
            threshold: 0.0,
        });
    }
    if let Some(p) = probe.filter(|p| p.failures > 0) {
        let (gate, observed, what) = if p.session_not_found > 0 {
            (
                Gate::SessionNotFound,
                f64::from(p.session_not_found),
                "answered HTTP 404 \"Session not found\"",
            )
        } else {
            (Gate::Probe, f64::from(p.failures), "failed")
        };
        return Verdict::Breached(Breach {
            gate,
            message: format!(
                "{observed} of {} MCP probe(s) {what}{}",
                p.runs,
                p.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
            observed,
            threshold: 0.0,
        });
    }
    if m.requests < t.min_requests {
        return Verdict::Holding { judged: false };
    }
    let rate = |gate, part: f64, whole: f64, limit: f64, what: &str| {
        let r = percent(part, whole);
        (r > limit).then(|| Breach {
            gate,
            message: format!("{r:.2}% {what} ({part} of {whole} requests) > {limit}%"),
            observed: r,
            threshold: limit,
        })
    };
    let breach = rate(
        Gate::ErrorRate,
        m.target_5xx,
        m.requests,
        t.max_error_rate,
        "target 5XX",
    )
    .or_else(|| {
        rate(
            Gate::LoadBalancerErrorRate,
            m.load_balancer_failures(),
            m.requests,
            t.max_error_rate,
            "answered by the load balancer itself (502/504, no answer from a target)",
        )
    })
    .or_else(|| {
        let limit = t.max_p99.as_secs_f64();
        m.p99_seconds.filter(|p| *p > limit).map(|p| Breach {
            gate: Gate::P99,
            message: format!(
                "p99 response time {:.0} ms > {:.0} ms",
                p * 1000.0,
                limit * 1000.0
            ),
            observed: p,
            threshold: limit,
        })
    })
    .or_else(|| {
        rate(
            Gate::ClientErrorRate,
            m.target_4xx,
            m.requests,
            t.max_4xx_rate,
            "target 4XX",
        )
    });
    match breach {
        Some(b) => Verdict::Breached(b),
        None => Verdict::Holding { judged: true },
    }
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
