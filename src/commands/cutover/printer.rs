//! What a progressive cutover prints while it runs: the step set, one line per reading (step,
//! time left, each rate against its threshold, the probes) redrawn in place on a terminal and
//! plain lines without one (on stderr with `--output json`), and the question after Ctrl-C.

use std::io::{IsTerminal, Write};

use crate::cutover::apply::step::CutoverReport;
use crate::cutover::decide::gate::{Thresholds, Verdict};
use crate::cutover::decide::judgement::Judgement;
use crate::cutover::decide::Percent;
use crate::cutover::progressive::bake::Reading;
use crate::cutover::progressive::rollout::Observer;

/// Progress for people: one line per reading, redrawn in place on a terminal.
pub(super) struct Printer {
    thresholds: Thresholds,
    json: bool,
    redraw: bool,
    open_line: bool,
}

impl Printer {
    pub(super) fn new(json: bool, thresholds: Thresholds) -> Printer {
        let terminal = if json {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        };
        Printer {
            thresholds,
            json,
            redraw: terminal,
            open_line: false,
        }
    }

    fn line(&mut self, text: &str, transient: bool) {
        let mut w: Box<dyn Write> = if self.json {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        };
        let clear = if self.open_line { "\r\x1b[K" } else { "" };
        let _ = if self.redraw && transient {
            write!(w, "{clear}{text}")
        } else {
            writeln!(w, "{clear}{text}")
        };
        let _ = w.flush();
        self.open_line = self.redraw && transient;
    }

    pub(super) fn finish_line(&mut self) {
        if self.open_line {
            self.line("", false);
        }
    }
}

/// `5XX 0.50%/1%`, a rate against its threshold (`-` before any request).
fn rate(part: f64, whole: f64, limit: f64) -> String {
    format!(
        "{}/{limit}%",
        crate::cutover::progressive::monitor::rate(part, whole)
    )
}

/// One progress line (pure).
pub(super) fn reading_line(
    i: usize,
    of: usize,
    weight: Percent,
    r: &Reading,
    t: &Thresholds,
) -> String {
    let m = &r.metrics;
    let left = match &r.waiting_for {
        Some(period) => format!("waiting for CloudWatch: period {period} due"),
        None => format!("{}s left", r.left_seconds),
    };
    let mut s = format!(
        "step {}/{of} {}%  {left}  requests {}  5XX {}  LB {}  4XX {}  p99 {}/{}ms  unhealthy {}",
        i + 1,
        weight.get(),
        m.requests,
        rate(m.target_5xx, m.requests, t.max_error_rate),
        rate(m.load_balancer_failures(), m.requests, t.max_error_rate),
        rate(m.target_4xx, m.requests, t.max_4xx_rate),
        m.p99_seconds
            .map_or("-".to_string(), |p| format!("{:.0}", p * 1000.0)),
        t.max_p99.as_millis(),
        m.unhealthy_hosts.map_or("-".to_string(), |u| u.to_string()),
    );
    if let Some(p) = &r.probe {
        s.push_str(&format!("  probe {}/{} ok", p.runs - p.failures, p.runs));
    }
    match &r.verdict {
        Verdict::Holding { judged: false } => s.push_str("  (too few requests to judge rates yet)"),
        Verdict::Holding { judged: true } => {}
        Verdict::Breached(b) => s.push_str(&format!("  BREACHED: {}", b.message)),
    }
    if let Some(e) = &r.read_error {
        s.push_str(&format!(
            "  (metrics not read: {})",
            crate::probe::check::one_line(e, 120)
        ));
    }
    s
}

/// The line that closes a step that held (pure): what was judged, and what was not.
pub(super) fn step_done_line(i: usize, of: usize, weight: Percent, j: &Judgement) -> String {
    match &j.not_judged {
        None => format!(
            "step {}/{of} {}% held: every gate judged on {} requests",
            i + 1,
            weight.get(),
            j.requests
        ),
        Some(why) => format!(
            "step {}/{of} {}%: no gate breached, but its rates were NOT judged ({why})",
            i + 1,
            weight.get()
        ),
    }
}

impl Observer for Printer {
    fn note(&mut self, text: &str) {
        self.finish_line();
        self.line(text, false);
    }

    fn step_done(&mut self, index: usize, of: usize, weight: Percent, judgement: &Judgement) {
        self.finish_line();
        self.line(&step_done_line(index, of, weight, judgement), false);
    }

    fn step_set(&mut self, index: usize, of: usize, report: &CutoverReport) {
        let what = if report.changed {
            "set"
        } else {
            "already in place"
        };
        self.line(
            &format!(
                "Step {}/{of}: {}% to stack {} ({what}: {})",
                index + 1,
                report.weight,
                report.to,
                report.routing_after
            ),
            false,
        );
    }

    fn reading(&mut self, index: usize, of: usize, weight: Percent, reading: &Reading) {
        let text = reading_line(index, of, weight, reading, &self.thresholds);
        let done = !matches!(reading.verdict, Verdict::Holding { .. });
        self.line(&text, !done);
    }

    fn restoring(&mut self, why: &str) {
        self.line(
            &format!("{why}; restoring the routing recorded before the cutover"),
            false,
        );
    }

    fn interrupted(&mut self, index: usize) -> bool {
        self.finish_line();
        if !std::io::stdin().is_terminal() {
            // Nobody to ask: the safe way out is the recorded routing.
            return true;
        }
        let answer = crate::prompt::ask(&format!(
            "Interrupted during step {}. Roll back to the routing recorded before the cutover? (no: leave this step's routing and continue later with --resume)",
            index + 1
        ));
        answer.unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::aws::metrics::AlbMetrics;
    use crate::cutover::decide::gate::{judge, ProbeReading};

    #[test]
    fn a_reading_line_puts_each_rate_beside_its_threshold() {
        let t = Thresholds {
            max_p99: Duration::from_millis(800),
            ..Thresholds::default()
        };
        let metrics = AlbMetrics {
            requests: 400.0,
            target_5xx: 2.0,
            target_4xx: 8.0,
            target_2xx: 388.0,
            p99_seconds: Some(0.2),
            unhealthy_hosts: Some(0.0),
            ..AlbMetrics::default()
        };
        let probe = ProbeReading {
            runs: 3,
            ..ProbeReading::default()
        };
        let r = Reading {
            left_seconds: 240,
            verdict: judge(&metrics, Some(&probe), &t),
            metrics,
            probe: Some(probe),
            read_error: None,
            waiting_for: None,
        };
        let line = reading_line(1, 3, Percent::new(50).unwrap(), &r, &t);
        assert_eq!(
            line,
            "step 2/3 50%  240s left  requests 400  5XX 0.50%/1%  LB 0.50%/1%  4XX 2.00%/5%  p99 200/800ms  unhealthy 0  probe 3/3 ok"
        );
        let quiet = Reading {
            metrics: AlbMetrics::default(),
            verdict: judge(&AlbMetrics::default(), None, &t),
            probe: None,
            read_error: Some("cloudwatch:GetMetricData failed".into()),
            left_seconds: 10,
            waiting_for: None,
        };
        let line = reading_line(0, 1, Percent::ALL, &quiet, &t);
        assert!(
            line.contains("5XX -/1%") && line.contains("(too few requests to judge rates yet)")
        );
        assert!(
            line.ends_with("(metrics not read: cloudwatch:GetMetricData failed)"),
            "{line}"
        );
        let waiting = Reading {
            waiting_for: Some("12:03".into()),
            left_seconds: 0,
            ..quiet
        };
        let line = reading_line(0, 1, Percent::ALL, &waiting, &t);
        assert!(
            line.starts_with("step 1/1 100%  waiting for CloudWatch: period 12:03 due  requests 0"),
            "{line}"
        );
        let j = Judgement {
            judged: false,
            requests: 3.0,
            unread_periods: Vec::new(),
            not_judged: Some("3 requests < --min-requests 50".into()),
        };
        assert_eq!(
            step_done_line(0, 2, Percent::new(50).unwrap(), &j),
            "step 1/2 50%: no gate breached, but its rates were NOT judged (3 requests < --min-requests 50)"
        );
    }
}
