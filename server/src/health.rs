//! `GET .../health`: the process is up (200) whatever OpenSearch does, with the cluster's status
//! probed under a short deadline; `?strict=true` answers 503 when OpenSearch is not reachable.
//!
//! The values are the user's FastMCP server's (`status: healthy`, `service: OpenSearch MCP
//! Server`, `opensearch.status: connected | error`), which dashboards and the user's chat CLI
//! read; `version` and `mode` are this server's extra fields.
//!
//! The endpoint is unauthenticated (the load balancer calls it), so it is cheap: one probe (the
//! root and `_cluster/health`) at most every `PROBE_CACHE` however many hits arrive (concurrent
//! hits wait for the one probe in progress). The error text (which names the OpenSearch host)
//! only goes to the log. The cluster's name and version are shown only when the MCP endpoint
//! itself is open (no `MCP_AUTH_TOKEN`, no OAuth): then any caller can read them with the
//! `cluster_health` tool anyway, and the user's dashboards expect them. With authentication on,
//! health says only whether OpenSearch answered and its colour.
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

/// The service name the user's server reports (also its MCP `serverInfo.name`).
pub const SERVICE_NAME: &str = "OpenSearch MCP Server";

/// Longest the health probe waits for OpenSearch.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one probe's result answers health hits.
const PROBE_CACHE: Duration = Duration::from_secs(1);

/// What one probe found.
#[derive(Clone)]
struct Probe {
    /// `green`, `yellow`, `red`, or `None` when OpenSearch did not answer properly.
    health: Option<String>,
    /// The root document's `cluster_name` (or `_cluster/health`'s).
    cluster_name: Option<Value>,
    /// The root document's `version.number`.
    version: Option<Value>,
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
    /// Whether the body may name the cluster and its version (the MCP endpoint is open).
    reveal_cluster: bool,
    last: tokio::sync::Mutex<Option<(Instant, Probe)>>,
}

impl HealthState {
    /// Health for `backend`; `mode` is `stateless` or `stateful`; `reveal_cluster` when the
    /// MCP endpoint needs no authentication (see the module doc).
    pub fn new(backend: Backend, mode: &'static str, reveal_cluster: bool) -> HealthState {
        HealthState {
            backend,
            mode,
            reveal_cluster,
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
    (
        code,
        Json(body(&p, state.mode, strict, state.reveal_cluster)),
    )
        .into_response()
}

/// The health answer's JSON.
fn body(p: &Probe, mode: &str, strict: bool, reveal_cluster: bool) -> Value {
    let ok = p.ok();
    let opensearch = match &p.health {
        Some(h) => {
            let mut o = json!({ "status": if ok { "connected" } else { "error" }, "health": h });
            if reveal_cluster {
                o["cluster_name"] = p.cluster_name.clone().unwrap_or(Value::Null);
                o["version"] = p.version.clone().unwrap_or(Value::Null);
            }
            o
        }
        None => json!({
            "status": "error",
            "error": "cannot reach OpenSearch or it did not answer in time (details in the server log)",
        }),
    };
    json!({
        "status": if strict && !ok { "unavailable" } else { "healthy" },
        "service": SERVICE_NAME,
        "version": env!("CARGO_PKG_VERSION"),
        "mode": mode,
        "opensearch": opensearch,
    })
}

/// The root document and `_cluster/health`, concurrently, under the probe deadline.
async fn probe(backend: &Backend) -> Probe {
    let deadline = PROBE_TIMEOUT.min(backend.timeout());
    let (root, health) = tokio::join!(
        backend.request(Method::Get, "", &[], None, deadline),
        backend.request(Method::Get, "_cluster/health", &[], None, deadline),
    );
    match (root, health) {
        (Ok(root), Ok(h)) => Probe {
            health: Some(
                h.get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string(),
            ),
            cluster_name: root
                .get("cluster_name")
                .or_else(|| h.get("cluster_name"))
                .cloned(),
            version: root.pointer("/version/number").cloned(),
        },
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(message = "health probe failed", error = %e);
            Probe {
                health: None,
                cluster_name: None,
                version: None,
            }
        }
    }
}
