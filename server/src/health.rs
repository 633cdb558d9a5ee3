//! `GET .../health`: the process is up (200) whatever OpenSearch does, with the cluster's status
//! probed under a short deadline; `?strict=true` answers 503 when OpenSearch is not reachable.
//!
//! The endpoint is unauthenticated (the load balancer calls it), so it is cheap and says little:
//! one OpenSearch call (`_cluster/health`) at most every `PROBE_CACHE` however many hits arrive
//! (concurrent hits wait for the one probe in progress), and the body carries the cluster's
//! colour but not its name, version or the error text (which names the OpenSearch host); those
//! go to the log, and the `cluster_health` tool shows them to authenticated callers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::opensearch::Method;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::opensearch::Backend;

/// Longest the health probe waits for OpenSearch.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one probe's result answers health hits.
const PROBE_CACHE: Duration = Duration::from_secs(1);

/// What one probe found.
#[derive(Clone)]
struct Probe {
    /// `green`, `yellow`, `red`, or `None` when OpenSearch did not answer properly.
    health: Option<String>,
}

impl Probe {
    fn ok(&self) -> bool {
        self.health.as_deref().is_some_and(|h| h != "red")
    }
}

/// What the health handler needs.
pub struct HealthState {
    backend: Backend,
    mode: &'static str,
    last: tokio::sync::Mutex<Option<(Instant, Probe)>>,
}

impl HealthState {
    /// Health for `backend`; `mode` is `stateless` or `stateful`.
    pub fn new(backend: Backend, mode: &'static str) -> HealthState {
        HealthState {
            backend,
            mode,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached probe, or a new one when it is older than `PROBE_CACHE`.
    async fn probe(&self) -> Probe {
        let mut last = self.last.lock().await;
        if let Some((at, p)) = last.as_ref() {
            if at.elapsed() < PROBE_CACHE {
                return p.clone();
            }
        }
        let p = probe(&self.backend).await;
        *last = Some((Instant::now(), p.clone()));
        p
    }
}

/// Query parameters of the health endpoint.
#[derive(Debug, Deserialize)]
pub struct HealthQuery {
    /// `true`: 503 when OpenSearch is unreachable or red.
    #[serde(default)]
    strict: Option<String>,
}

/// The health handler.
pub async fn health(
    State(state): State<Arc<HealthState>>,
    Query(q): Query<HealthQuery>,
) -> Response {
    let strict = matches!(q.strict.as_deref(), Some("true" | "1" | "yes"));
    let p = state.probe().await;
    let code = if strict && !p.ok() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body(&p, state.mode, strict))).into_response()
}

/// The health answer's JSON.
fn body(p: &Probe, mode: &str, strict: bool) -> Value {
    let ok = p.ok();
    let opensearch = match &p.health {
        Some(h) => json!({ "status": if ok { "ok" } else { "error" }, "health": h }),
        None => json!({
            "status": "error",
            "error": "cannot reach OpenSearch or it did not answer in time (details in the server log)",
        }),
    };
    json!({
        "status": if ok { "ok" } else if strict { "unavailable" } else { "degraded" },
        "service": "opensearch-mcp-server",
        "version": env!("CARGO_PKG_VERSION"),
        "mode": mode,
        "opensearch": opensearch,
    })
}

/// One `_cluster/health` call under the probe deadline.
async fn probe(backend: &Backend) -> Probe {
    let deadline = PROBE_TIMEOUT.min(backend.timeout());
    match backend
        .request(Method::Get, "_cluster/health", &[], None, deadline)
        .await
    {
        Ok(h) => Probe {
            health: Some(
                h.get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string(),
            ),
        },
        Err(e) => {
            tracing::warn!(message = "health probe failed", error = %e);
            Probe { health: None }
        }
    }
}
