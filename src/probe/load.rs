//! The load generator behind `mcpctl verify --requests N`: C concurrent clients, each doing what
//! a real MCP client does (initialize, then tool calls carrying the session the server issued),
//! every request classified, latencies in an HDR histogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::Value;

use super::driver::{McpHttp, Session};
use super::outcome::{Failure, OutcomeKind, Tally};

/// What load to drive.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Tool calls to make in total.
    pub requests: u64,
    /// Clients running at once.
    pub concurrency: usize,
    /// Open a new session (initialize) for every call instead of reusing one per client.
    pub session_per_request: bool,
    /// The tool to call.
    pub tool: String,
    /// Its arguments.
    pub arguments: Value,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

impl Latency {
    /// Percentiles of a histogram recorded in microseconds.
    pub fn from_histogram(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| (us as f64 / 1000.0 * 100.0).round() / 100.0;
        Latency {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: (h.mean() / 10.0).round() / 100.0,
        }
    }
}

/// The result of one load run.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// The endpoint.
    pub url: String,
    /// Tool calls attempted.
    pub requests: u64,
    /// Concurrent clients.
    pub concurrency: usize,
    /// `session-per-client` or `session-per-request`.
    pub mode: &'static str,
    /// The protocol version asked for.
    pub protocol_version: String,
    /// The tool called.
    pub tool: String,
    /// Outcomes by kind (each call counts once, under its first failure).
    #[serde(serialize_with = "tally_counts")]
    pub outcomes: Tally,
    /// A few example messages per failure kind.
    pub failure_examples: std::collections::BTreeMap<String, Vec<String>>,
    /// Calls that did not succeed.
    pub failed: u64,
    /// `initialize` handshakes performed (sessions opened).
    pub initializations: u64,
    /// Distinct `Mcp-Session-Id` values issued (0 for a stateless server).
    pub sessions_issued: u64,
    /// Latency of successful calls (including their handshake, when one was needed).
    pub latency: Latency,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Calls completed per second (any outcome).
    pub throughput_rps: f64,
    /// Successful calls per second.
    pub success_rps: f64,
    /// Tool calls answered by each replica (its `X-Served-By` header); empty when the server
    /// does not send the header.
    pub served_by: std::collections::BTreeMap<String, u64>,
}

fn tally_counts<S: serde::Serializer>(t: &Tally, s: S) -> Result<S::Ok, S::Error> {
    t.to_json().serialize(s)
}

/// What one client saw.
struct ClientResult {
    tally: Tally,
    histogram: Histogram<u64>,
    initializations: u64,
    sessions_issued: u64,
    served_by: std::collections::BTreeMap<String, u64>,
}

/// Drive the load and report. Never fails: every problem is a classified outcome.
pub async fn run_load(
    client: McpHttp,
    spec: &LoadSpec,
    protocol_version: &str,
    progress: ProgressBar,
) -> LoadReport {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..spec.concurrency.max(1) {
        let client = client.clone();
        let spec = spec.clone();
        let next = next.clone();
        let progress = progress.clone();
        workers.push(tokio::spawn(async move {
            run_client(client, spec, next, progress).await
        }));
    }
    let mut tally = Tally::default();
    let mut histogram = new_histogram();
    let (mut initializations, mut sessions_issued) = (0, 0);
    let mut served_by = std::collections::BTreeMap::new();
    for w in workers {
        match w.await {
            Ok(r) => {
                for (replica, n) in r.served_by {
                    *served_by.entry(replica).or_insert(0) += n;
                }
                tally.merge(&r.tally);
                let _ = histogram.add(&r.histogram);
                initializations += r.initializations;
                sessions_issued += r.sessions_issued;
            }
            Err(e) => tally.failure(&Failure::new(
                OutcomeKind::BadResponse,
                format!("load client crashed: {e}"),
            )),
        }
    }
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    let mut failure_examples = std::collections::BTreeMap::new();
    for kind in OutcomeKind::ALL {
        let ex = tally.examples(kind);
        if !ex.is_empty() {
            failure_examples.insert(kind.key().to_string(), ex.to_vec());
        }
    }
    let round = |x: f64| (x * 10.0).round() / 10.0;
    LoadReport {
        url: client.url().to_string(),
        requests: spec.requests,
        concurrency: spec.concurrency,
        mode: if spec.session_per_request {
            "session-per-request"
        } else {
            "session-per-client"
        },
        protocol_version: protocol_version.to_string(),
        tool: spec.tool.clone(),
        failed: tally.failures(),
        failure_examples,
        initializations,
        sessions_issued,
        latency: Latency::from_histogram(&histogram),
        seconds: (seconds * 1000.0).round() / 1000.0,
        throughput_rps: round(tally.total() as f64 / seconds),
        success_rps: round(tally.count(OutcomeKind::Success) as f64 / seconds),
        served_by,
        outcomes: tally,
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 10 min, 3 significant figures.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// One client: take call numbers until all are taken; (re)initialize when it has no session
/// (first call, after the server lost its session, or every call with --session-per-request).
async fn run_client(
    client: McpHttp,
    spec: LoadSpec,
    next: Arc<AtomicU64>,
    progress: ProgressBar,
) -> ClientResult {
    let mut out = ClientResult {
        tally: Tally::default(),
        histogram: new_histogram(),
        initializations: 0,
        sessions_issued: 0,
        served_by: std::collections::BTreeMap::new(),
    };
    let mut session: Option<Session> = None;
    while next.fetch_add(1, Ordering::Relaxed) < spec.requests {
        let started = Instant::now();
        let outcome = one_call(&client, &spec, &mut session, &mut out).await;
        let elapsed = started.elapsed();
        match &outcome {
            Ok(()) => {
                let _ = out.histogram.record(micros(elapsed));
            }
            // The spec says a client that gets 404 for its session starts a new one.
            Err(f) if f.kind == OutcomeKind::SessionNotFound => session = None,
            Err(_) => {}
        }
        out.tally.record(&outcome);
        if spec.session_per_request {
            if let Some(s) = session.take() {
                client.close(&s).await;
            }
        }
        progress.inc(1);
    }
    if let Some(s) = session.take() {
        client.close(&s).await;
    }
    out
}

async fn one_call(
    client: &McpHttp,
    spec: &LoadSpec,
    session: &mut Option<Session>,
    out: &mut ClientResult,
) -> Result<(), Failure> {
    if session.is_none() {
        out.initializations += 1;
        let s = client.initialize().await?;
        if s.id.is_some() {
            out.sessions_issued += 1;
        }
        client.initialized(&s).await?;
        *session = Some(s);
    }
    let s = session.as_ref().expect("session set above");
    let answer = client.call_tool(s, &spec.tool, &spec.arguments).await;
    let replica = match &answer {
        Ok(reply) => reply.served_by.clone(),
        Err(f) => f.served_by.clone(),
    };
    if let Some(r) = replica {
        *out.served_by.entry(r).or_insert(0) += 1;
    }
    answer.map(|_| ())
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_come_from_the_histogram_in_ms() {
        let mut h = new_histogram();
        for us in 1..=1000u64 {
            h.record(us * 1000).unwrap();
        }
        let l = Latency::from_histogram(&h);
        assert!((l.p50_ms - 500.0).abs() < 1.0, "{l:?}");
        assert!((l.p99_ms - 990.0).abs() < 1.5, "{l:?}");
        assert!((l.max_ms - 1000.0).abs() < 1.5, "{l:?}");
        assert_eq!(
            Latency::from_histogram(&new_histogram()),
            Latency::default()
        );
    }
}
