//! What a step's bake was judged on, and the breaches that are not a rate over its limit: the
//! metrics could not be read, or `--require-traffic` wanted a judgement the step never got.
//! Pure: [`crate::cutover::progressive::bake`] reads, this decides.

use serde::Serialize;

use super::gate::{Breach, Gate, Thresholds};
use super::window::clock;
use crate::model::metrics::WindowRead;

/// Metric reads that may fail in a row before the step is judged blind and rolled back.
pub const MAX_READ_FAILURES: u32 = 3;

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

/// The breach of a step whose metrics could not be read `failures` times in a row.
pub fn unavailable(failures: u32, error: &str) -> Breach {
    Breach {
        gate: Gate::MetricsUnavailable,
        message: format!(
            "CloudWatch metrics could not be read {failures} times in a row (GetMetricData needs the IAM action cloudwatch:GetMetricData), so the step cannot be judged: {error}"
        ),
        observed: f64::from(failures),
        threshold: f64::from(MAX_READ_FAILURES),
    }
}

/// The breach of a step that `--require-traffic` wanted judged.
pub fn not_judged(j: &Judgement) -> Breach {
    Breach {
        gate: Gate::NotJudged,
        message: format!(
            "the step's rates were not judged ({}) and --require-traffic is set",
            j.not_judged.as_deref().unwrap_or("no data")
        ),
        observed: j.requests,
        threshold: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::model::AlbMetrics;

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
