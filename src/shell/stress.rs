//! `stress [N]`: N concurrent `list_indices` calls on the shell's session, counted as
//! "N/N successful" with "Session not found" apart, and a verdict on session and scaling
//! problems (the user's CLI's check, with the replicas that answered).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::probe::driver::{McpHttp, Session};
use crate::probe::outcome::{OutcomeKind, Tally};
use crate::probe::report::spread_text;

/// What a stress run saw.
#[derive(Debug, Clone, Default)]
pub struct StressResult {
    /// Calls made.
    pub calls: usize,
    /// Outcomes by kind.
    pub tally: Tally,
    /// Calls answered per replica (`X-Served-By`).
    pub served_by: BTreeMap<String, u64>,
    /// Every replica id seen, in call order (for the shell's replica log).
    pub answers: Vec<Option<String>>,
    /// Whether the shell's session carries a server-issued session id.
    pub has_session_id: bool,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl StressResult {
    /// Successful calls.
    pub fn successes(&self) -> u64 {
        self.tally.count(OutcomeKind::Success)
    }

    /// True when every call succeeded.
    pub fn passed(&self) -> bool {
        self.successes() == self.calls as u64
    }
}

/// Make `n` concurrent `tool` calls on `session`.
pub async fn run(client: &McpHttp, session: &Session, tool: &str, n: usize) -> StressResult {
    let started = Instant::now();
    let args = json!({});
    let calls = (0..n).map(|_| client.call_tool(session, tool, &args));
    let answers = futures::future::join_all(calls).await;
    let mut result = StressResult {
        calls: n,
        has_session_id: session.id.is_some(),
        elapsed: started.elapsed(),
        ..StressResult::default()
    };
    for answer in answers {
        let replica = match &answer {
            Ok(reply) => {
                result.tally.success();
                reply.served_by.clone()
            }
            Err(f) => {
                result.tally.failure(f);
                f.served_by.clone()
            }
        };
        if let Some(r) = &replica {
            *result.served_by.entry(r.clone()).or_insert(0) += 1;
        }
        result.answers.push(replica);
    }
    result
}

/// The report: "N/N successful", the failure counts, the replicas, and the verdict.
pub fn text(r: &StressResult) -> String {
    let mut out = format!(
        "{}/{} successful in {:.0} ms",
        r.successes(),
        r.calls,
        r.elapsed.as_secs_f64() * 1000.0
    );
    let lost = r.tally.count(OutcomeKind::SessionNotFound);
    out.push_str(&format!("\nSession not found: {lost}"));
    for kind in OutcomeKind::ALL {
        let n = r.tally.count(kind);
        if n > 0 && !matches!(kind, OutcomeKind::Success | OutcomeKind::SessionNotFound) {
            out.push_str(&format!("\n{}: {n}", kind.label()));
        }
    }
    if !r.served_by.is_empty() {
        out.push_str(&format!("\nserved by: {}", spread_text(&r.served_by)));
    }
    for kind in OutcomeKind::ALL {
        if let Some(example) = r.tally.examples(kind).first() {
            out.push_str(&format!("\n  e.g. {example}"));
        }
    }
    out.push_str(&format!("\nverdict: {}", verdict(r)));
    out
}

/// What the outcome says about sessions and scaling.
pub fn verdict(r: &StressResult) -> String {
    let replicas = r.served_by.len();
    let lost = r.tally.count(OutcomeKind::SessionNotFound);
    let unauthorized = r.tally.count(OutcomeKind::Unauthorized);
    let others = r.tally.failures() - lost - unauthorized;
    if lost > 0 {
        return format!(
            "SESSION PROBLEM: {lost} of {} calls reached a replica that did not know this \
             session: a stateful MCP server behind a load balancer without session affinity. \
             Run it stateless (MCP_STATELESS=true).",
            r.calls
        );
    }
    if unauthorized > 0 {
        return format!(
            "AUTH PROBLEM: {unauthorized} of {} calls were refused (HTTP 401/403); pass a valid \
             token with --bearer-token-env VAR.",
            r.calls
        );
    }
    if others > 0 {
        return format!(
            "SCALING PROBLEM: {others} of {} concurrent calls failed (timeouts, refused \
             connections or errors): the server or the load balancer cannot take {} calls at \
             once.",
            r.calls, r.calls
        );
    }
    let spread = match replicas {
        0 => "no X-Served-By header, so the replicas are not known".to_string(),
        1 => "all answered by one replica".to_string(),
        n => format!("spread over {n} replicas"),
    };
    if r.has_session_id {
        format!(
            "OK: no session or scaling problem ({spread}); the server issued a session id, so \
             it is stateful: behind a load balancer it needs affinity or shared sessions."
        )
    } else {
        format!("OK: no session or scaling problem ({spread}); stateless, any replica can answer.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::outcome::Failure;

    fn result(ok: u64, lost: u64, timeouts: u64, replicas: &[&str], session: bool) -> StressResult {
        let mut tally = Tally::default();
        (0..ok).for_each(|_| tally.success());
        (0..lost).for_each(|_| {
            tally.failure(
                &Failure::new(OutcomeKind::SessionNotFound, "Session not found").with_status(404),
            )
        });
        (0..timeouts).for_each(|_| tally.failure(&Failure::new(OutcomeKind::Timeout, "slow")));
        let calls = (ok + lost + timeouts) as usize;
        StressResult {
            calls,
            tally,
            served_by: replicas.iter().map(|r| (r.to_string(), 1)).collect(),
            answers: Vec::new(),
            has_session_id: session,
            elapsed: Duration::from_millis(12),
        }
    }

    #[test]
    fn the_report_counts_successes_and_lost_sessions_apart() {
        let r = result(7, 3, 0, &["a", "b", "c"], true);
        let t = text(&r);
        assert!(t.starts_with("7/10 successful"), "{t}");
        assert!(t.contains("\nSession not found: 3"), "{t}");
        assert!(t.contains("verdict: SESSION PROBLEM: 3 of 10"), "{t}");
        assert!(!r.passed());
    }

    #[test]
    fn verdicts_name_the_problem() {
        assert!(verdict(&result(8, 0, 2, &[], false)).starts_with("SCALING PROBLEM: 2 of 10"));
        let ok = verdict(&result(10, 0, 0, &["a", "b", "c"], false));
        assert!(
            ok.starts_with("OK")
                && ok.contains("spread over 3 replicas")
                && ok.contains("stateless"),
            "{ok}"
        );
        let stateful = verdict(&result(10, 0, 0, &["a"], true));
        assert!(stateful.contains("stateful"), "{stateful}");
        assert!(result(10, 0, 0, &[], false).passed());
    }
}
