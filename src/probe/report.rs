//! Text for people: the probe's step list, a load run's table, and runs side by side.

use std::fmt::Write;

use super::check::{ProbeReport, StepStatus};
use super::load::LoadReport;
use super::outcome::OutcomeKind;

/// The probe as one line per step: verdict, time, name, detail.
pub fn probe_text(report: &ProbeReport) -> String {
    let mut out = format!("verify {}\n", report.url);
    for s in &report.steps {
        let verdict = match s.status {
            StepStatus::Pass => "PASS",
            StepStatus::Fail => "FAIL",
            StepStatus::Skip => "SKIP",
        };
        let _ = writeln!(
            out,
            "  {verdict}  {:>8.1} ms  {}  {}",
            s.millis, s.name, s.detail
        );
    }
    let failed = report
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Fail)
        .count();
    let _ = writeln!(
        out,
        "{}: {} steps, {} failed",
        if report.passed { "passed" } else { "FAILED" },
        report.steps.len(),
        failed
    );
    out
}

/// The rows of a load table: label, then one value per run.
fn rows(runs: &[&LoadReport]) -> Vec<(String, Vec<String>)> {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let col = |f: &dyn Fn(&LoadReport) -> String| runs.iter().map(|r| f(r)).collect::<Vec<_>>();
    rows.push(("mode".into(), col(&|r| r.mode.to_string())));
    rows.push(("tool calls".into(), col(&|r| r.requests.to_string())));
    rows.push(("concurrency".into(), col(&|r| r.concurrency.to_string())));
    for kind in OutcomeKind::ALL {
        rows.push((
            kind.label().into(),
            col(&|r| r.outcomes.count(kind).to_string()),
        ));
    }
    rows.push((
        "initializations".into(),
        col(&|r| r.initializations.to_string()),
    ));
    rows.push((
        "sessions issued".into(),
        col(&|r| r.sessions_issued.to_string()),
    ));
    rows.push((
        "latency p50 (ms)".into(),
        col(&|r| format!("{:.2}", r.latency.p50_ms)),
    ));
    rows.push((
        "latency p95 (ms)".into(),
        col(&|r| format!("{:.2}", r.latency.p95_ms)),
    ));
    rows.push((
        "latency p99 (ms)".into(),
        col(&|r| format!("{:.2}", r.latency.p99_ms)),
    ));
    rows.push((
        "throughput (calls/s)".into(),
        col(&|r| format!("{:.1}", r.throughput_rps)),
    ));
    rows.push((
        "successful calls/s".into(),
        col(&|r| format!("{:.1}", r.success_rps)),
    ));
    rows.push(("duration (s)".into(), col(&|r| format!("{:.2}", r.seconds))));
    rows.push((
        "result".into(),
        col(&|r| {
            if r.failed == 0 {
                "PASS".into()
            } else {
                format!("FAIL ({})", r.failed)
            }
        }),
    ));
    rows
}

/// One or more runs as a table, a column per run, then example failure messages.
pub fn load_text(runs: &[LoadReport]) -> String {
    let refs: Vec<&LoadReport> = runs.iter().collect();
    let rows = rows(&refs);
    let mut headers: Vec<String> = Vec::new();
    let mut out = String::new();
    if runs.len() == 1 {
        let _ = writeln!(out, "load test {}", runs[0].url);
        headers.push("value".into());
    } else {
        let _ = writeln!(out, "comparison ({} endpoints, same load)", runs.len());
        for (i, r) in runs.iter().enumerate() {
            let label = column_label(i);
            let _ = writeln!(out, "  {label} = {}", r.url);
            headers.push(label);
        }
    }
    let label_width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..runs.len())
        .map(|i| {
            rows.iter()
                .map(|(_, v)| v[i].len())
                .chain(std::iter::once(headers[i].len()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let _ = write!(out, "  {:label_width$}", "");
    for (h, w) in headers.iter().zip(&widths) {
        let _ = write!(out, "  {h:>w$}");
    }
    out.push('\n');
    for (label, values) in &rows {
        let _ = write!(out, "  {label:label_width$}");
        for (v, w) in values.iter().zip(&widths) {
            let _ = write!(out, "  {v:>w$}");
        }
        out.push('\n');
    }
    for (i, r) in runs.iter().enumerate() {
        if !r.served_by.is_empty() {
            let who = if runs.len() > 1 {
                format!("{} ", column_label(i))
            } else {
                String::new()
            };
            let _ = writeln!(out, "  {who}served by: {}", spread_text(&r.served_by));
        }
    }
    for (i, r) in runs.iter().enumerate() {
        for (kind, examples) in &r.failure_examples {
            for e in examples {
                let who = if runs.len() > 1 {
                    format!("{} ", column_label(i))
                } else {
                    String::new()
                };
                let _ = writeln!(out, "  {who}e.g. [{kind}] {e}");
            }
        }
    }
    out
}

/// Calls per replica as `id N (P%)`, most calls first, e.g. `r1 34 (34%), r2 33 (33%)`.
pub fn spread_text(counts: &std::collections::BTreeMap<String, u64>) -> String {
    let total: u64 = counts.values().sum();
    let mut rows: Vec<(&String, &u64)> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    rows.iter()
        .map(|(id, n)| {
            let pct = if total == 0 {
                0.0
            } else {
                **n as f64 * 100.0 / total as f64
            };
            format!("{id} {n} ({pct:.0}%)")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `A`, `B`, ... `Z`, `AA`...
fn column_label(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < 26 {
        (letters[i] as char).to_string()
    } else {
        format!("{}{}", column_label(i / 26 - 1), letters[i % 26] as char)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::check::Step;
    use crate::probe::load::Latency;
    use crate::probe::outcome::{Failure, Tally};

    fn report(url: &str, ok: u64, lost: u64) -> LoadReport {
        let mut t = Tally::default();
        for _ in 0..ok {
            t.success();
        }
        for _ in 0..lost {
            t.failure(
                &Failure::new(OutcomeKind::SessionNotFound, "Session not found").with_status(404),
            );
        }
        let mut examples = std::collections::BTreeMap::new();
        if lost > 0 {
            examples.insert(
                "session_not_found".to_string(),
                t.examples(OutcomeKind::SessionNotFound).to_vec(),
            );
        }
        LoadReport {
            url: url.into(),
            requests: ok + lost,
            concurrency: 4,
            mode: "session-per-client",
            protocol_version: "2025-06-18".into(),
            tool: "list_indices".into(),
            failed: t.failures(),
            outcomes: t,
            failure_examples: examples,
            initializations: 4,
            sessions_issued: 4,
            latency: Latency {
                p50_ms: 1.5,
                p95_ms: 2.0,
                p99_ms: 3.25,
                max_ms: 4.0,
                mean_ms: 1.6,
            },
            seconds: 1.0,
            throughput_rps: (ok + lost) as f64,
            success_rps: ok as f64,
            served_by: [("r1".to_string(), ok), ("r2".to_string(), lost)]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect(),
        }
    }

    #[test]
    fn comparison_puts_runs_side_by_side_with_a_legend() {
        let text = load_text(&[report("http://a/mcp", 10, 0), report("http://b/mcp", 4, 6)]);
        assert!(
            text.contains("A = http://a/mcp") && text.contains("B = http://b/mcp"),
            "{text}"
        );
        let line = text
            .lines()
            .find(|l| l.contains("HTTP 404 Session not found"))
            .unwrap();
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[cells.len() - 2..], ["0", "6"], "{line}");
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("result"))
            .unwrap();
        assert!(line.contains("PASS") && line.contains("FAIL (6)"), "{line}");
        assert!(text.contains("B e.g. [session_not_found]"), "{text}");
        assert!(text.contains("A served by: r1 10 (100%)"), "{text}");
        assert!(
            text.contains("B served by: r2 6 (60%), r1 4 (40%)"),
            "{text}"
        );
    }

    #[test]
    fn probe_text_lists_each_step() {
        let r = ProbeReport {
            url: "http://x/mcp".into(),
            passed: false,
            steps: vec![
                Step {
                    name: "health /health".into(),
                    status: StepStatus::Pass,
                    millis: 1.0,
                    detail: "HTTP 200".into(),
                },
                Step {
                    name: "initialize".into(),
                    status: StepStatus::Fail,
                    millis: 2.0,
                    detail: "refused".into(),
                },
            ],
        };
        let text = probe_text(&r);
        assert!(text.contains("PASS") && text.contains("FAIL") && text.contains("refused"));
        assert!(text.ends_with("FAILED: 2 steps, 1 failed\n"), "{text}");
        assert_eq!(column_label(27), "AB");
    }
}
