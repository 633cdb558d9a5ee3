//! `GET .../health`: the process is up (200) whatever OpenSearch does, with the cluster's status
//! probed under a short deadline; `?strict=true` answers 503 when OpenSearch is not reachable.
//!
//! The values are the user's FastMCP server's (`status: healthy`, `service: OpenSearch MCP
//! Server`, `opensearch.status: connected | error`), which dashboards and the user's chat CLI
//! read; `version`, `mode` and `opensearch.distribution` are this server's extra fields.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use opensearch::http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::opensearch::Backend;

/// The service name the user's server reports (also its MCP `serverInfo.name`).
pub const SERVICE_NAME: &str = "OpenSearch MCP Server";

/// Longest the health probe waits for OpenSearch.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the health handler needs.
pub struct HealthState {
    /// The shared OpenSearch client.
    pub backend: Backend,
    /// `stateless` or `stateful`.
    pub mode: &'static str,
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
    let (cluster, ok) = probe(&state.backend).await;
    let body = json!({
        "status": if strict && !ok { "unavailable" } else { "healthy" },
        "service": SERVICE_NAME,
        "version": env!("CARGO_PKG_VERSION"),
        "mode": state.mode,
        "opensearch": cluster,
    });
    let code = if strict && !ok {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body)).into_response()
}

/// Probe the root and `_cluster/health` concurrently; `(status object, healthy)`.
async fn probe(backend: &Backend) -> (Value, bool) {
    let deadline = PROBE_TIMEOUT.min(backend.timeout());
    let (root, health) = tokio::join!(
        backend.request(Method::Get, "", &[], None, deadline),
        backend.request(Method::Get, "_cluster/health", &[], None, deadline),
    );
    match (root, health) {
        (Ok(root), Ok(health)) => {
            let status = health
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            let ok = status != "red";
            (
                json!({
                    "status": "connected",
                    "cluster_name": root.get("cluster_name").or_else(|| health.get("cluster_name")),
                    "version": root.pointer("/version/number"),
                    "distribution": root.pointer("/version/distribution"),
                    "health": status,
                }),
                ok,
            )
        }
        (Err(e), _) | (_, Err(e)) => (json!({ "status": "error", "error": e.to_string() }), false),
    }
}
