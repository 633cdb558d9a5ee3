//! One JSON log line per request, written when the response body has been sent (or dropped), so
//! `duration_ms` covers the whole response and `outcome` is known even for a stateful call whose
//! answer travels on an SSE stream; and the in-flight count that SIGTERM drains, which likewise
//! lasts until the body is done.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;

use serde_json::{json, Map, Value};

use super::metrics::Emf;
use crate::auth::Subject;

/// What the request log layer holds: the in-flight count and, with `MCP_METRICS_NAMESPACE`,
/// the EMF settings.
#[derive(Clone)]
pub(super) struct LogState {
    pub(super) inflight: Arc<Inflight>,
    pub(super) emf: Option<Arc<Emf>>,
}

/// A caller-chosen tool name is logged at most this long.
const MAX_LOGGED_TOOL: usize = 100;

/// Calls being handled now, counted until their response body is complete (drained on SIGTERM).
/// Standalone `GET` event streams (stateful mode) are not calls and are not counted.
#[derive(Default)]
pub struct Inflight(AtomicUsize);

impl Inflight {
    /// How many calls are being handled now.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

struct InflightGuard(Arc<Inflight>);

impl InflightGuard {
    fn new(inflight: Arc<Inflight>) -> InflightGuard {
        inflight.0.fetch_add(1, Ordering::SeqCst);
        InflightGuard(inflight)
    }
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Set by the tool handler, read by the request log: `ok`, `error` (isError result) or
/// `rpc_error`. Travels in the request's extensions, which rmcp hands to the handler.
#[derive(Clone, Default)]
pub struct ToolOutcome(Arc<OnceLock<&'static str>>);

impl ToolOutcome {
    /// Record the outcome (first write wins).
    pub fn set(&self, outcome: &'static str) {
        let _ = self.0.set(outcome);
    }

    fn get(&self) -> Option<&'static str> {
        self.0.get().copied()
    }
}

/// At most one warning a second from one call site, so a flood cannot flood the log too.
pub(super) struct Throttle(AtomicU64);

impl Throttle {
    /// A throttle that allows the first warning.
    pub(super) const fn new() -> Throttle {
        Throttle(AtomicU64::new(0))
    }

    /// Whether to log now (`false` when this site logged less than a second ago).
    pub(super) fn allow(&self) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        self.0.swap(now, Ordering::Relaxed) != now
    }
}

/// The JSON-RPC method and tool of a request, for the log line.
#[derive(Clone, Default)]
pub(super) struct RpcInfo {
    pub(super) method: Option<String>,
    pub(super) tool: Option<String>,
    pub(super) outcome: ToolOutcome,
}

/// What the log line needs once the body is done.
struct Finish {
    start: Instant,
    http_method: Method,
    path: String,
    status: u16,
    info: Option<RpcInfo>,
    /// The accepted token's subject (`sub`), filled in by the auth check.
    subject: Subject,
    emf: Option<Arc<Emf>>,
    _inflight: Option<InflightGuard>,
}

impl Finish {
    fn write(&self, complete: bool) {
        let info = self.info.as_ref();
        let outcome =
            info.and_then(|i| i.outcome.get())
                .or(if complete { None } else { Some("aborted") });
        if let (Some(emf), Some(rpc_method)) = (&self.emf, info.and_then(|i| i.method.as_deref())) {
            self.write_emf(emf, rpc_method, outcome);
            return;
        }
        tracing::info!(
            target: "request",
            method = %self.http_method,
            path = %self.path,
            rpc_method = info.and_then(|i| i.method.as_deref()),
            tool = info.and_then(|i| i.tool.as_deref()),
            outcome,
            subject = self.subject.get(),
            status = self.status,
            duration_ms = (self.start.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
            "request"
        );
    }
}

impl Finish {
    /// The request line as an EMF document (the same members as the tracing line, plus `_aws`,
    /// `service` and the metric values), written whole to stdout where the tracing lines go.
    fn write_emf(&self, emf: &Emf, rpc_method: &str, outcome: Option<&str>) {
        let now = time::OffsetDateTime::now_utc();
        let latency_ms = (self.start.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
        let mut line = Map::new();
        let timestamp = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        line.insert("timestamp".into(), json!(timestamp));
        line.insert("level".into(), json!("INFO"));
        line.insert("message".into(), json!("request"));
        line.insert("method".into(), json!(self.http_method.as_str()));
        line.insert("path".into(), json!(self.path));
        line.insert("rpc_method".into(), json!(rpc_method));
        let tool = self.info.as_ref().and_then(|i| i.tool.as_deref());
        if let Some(t) = tool {
            if emf.tool_dimension(rpc_method, Some(t)) != t {
                let cut: String = t.chars().take(MAX_LOGGED_TOOL).collect();
                line.insert("requested_tool".into(), json!(cut));
            }
        }
        if let Some(s) = self.subject.get() {
            line.insert("subject".into(), json!(s));
        }
        line.insert("status".into(), json!(self.status));
        line.insert("duration_ms".into(), json!(latency_ms));
        let outcome = outcome.unwrap_or(if self.status < 400 {
            "ok"
        } else {
            "http_error"
        });
        let now_ms = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
        emf.annotate(&mut line, rpc_method, tool, outcome, latency_ms, now_ms);
        let text = Value::Object(line).to_string();
        let mut out = std::io::stdout().lock();
        let _ = std::io::Write::write_all(&mut out, format!("{text}\n").as_bytes());
    }
}

/// The response body, logging (and leaving the in-flight count) when it ends or is dropped.
struct LoggedBody {
    inner: Body,
    finish: Option<Finish>,
}

impl http_body::Body for LoggedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            if let Some(f) = self.finish.take() {
                f.write(true);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        if let Some(f) = self.finish.take() {
            f.write(http_body::Body::is_end_stream(&self.inner));
        }
    }
}

/// Whether a request opens a standalone event stream (a `GET` asking for SSE).
fn is_event_stream(req: &Request) -> bool {
    req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"))
}

/// The logging and in-flight layer around every route.
pub(super) async fn log_requests(
    State(state): State<LogState>,
    mut req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let subject = Subject::default();
    req.extensions_mut().insert(subject.clone());
    let guard = (!is_event_stream(&req)).then(|| InflightGuard::new(state.inflight.clone()));
    let http_method = req.method().clone();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let (mut parts, inner) = response.into_parts();
    let finish = Finish {
        start,
        http_method,
        path,
        status: parts.status.as_u16(),
        info: parts.extensions.remove::<RpcInfo>(),
        subject,
        emf: state.emf.clone(),
        _inflight: guard,
    };
    let body = LoggedBody {
        inner,
        finish: Some(finish),
    };
    Response::from_parts(parts, Body::new(body))
}
