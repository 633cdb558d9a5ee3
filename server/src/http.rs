//! The axum application: the MCP endpoint (rmcp streamable HTTP) at `MCP_PATH` and every alias,
//! the health endpoint beside it, and the layers around them: `Host`/`Origin` checks and CORS
//! (`cors.rs`), bearer token (here), body limit, deadline and JSON-RPC errors (`jsonrpc.rs`),
//! bounded sessions (`sessions.rs`), one JSON log line per request and in-flight counting for
//! graceful shutdown (`log.rs`). `serve.rs` runs it with connection limits and timeouts.

pub mod calls;
mod cors;
mod fast;
mod jsonrpc;
mod log;
pub mod metrics;
mod relay;
pub mod serve;
mod sessions;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::config::Config;
use crate::health::{health, HealthState};
use crate::tools::{AppState, McpServer};
pub use log::{Inflight, ToolOutcome};
use sessions::BoundedSessions;

struct GuardConfig {
    auth: Auth,
    max_body: usize,
    /// Stateful mode's sessions (`None` when stateless).
    sessions: Option<Arc<BoundedSessions>>,
    /// Slots for tool calls in flight (`MCP_MAX_INFLIGHT_CALLS`).
    calls: calls::CallLimit,
    /// The stateless fast path (`None` in stateful mode).
    fast: Option<fast::FastPath>,
}

/// The application and what the accept loop and shutdown need.
pub struct App {
    /// The routers for normal and reserve (health-only) connections.
    pub apps: serve::Apps,
    /// Calls in flight, drained on SIGTERM.
    pub inflight: Arc<Inflight>,
}

/// Build the application. `rmcp_ct` ends rmcp's sessions and streams when cancelled.
pub fn app(cfg: &Config, state: Arc<AppState>, rmcp_ct: CancellationToken) -> App {
    let rmcp_cfg = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(!cfg.stateless)
        // Plain JSON answers in stateless mode: nothing long-lived behind the ALB.
        .with_json_response(cfg.stateless)
        .with_sse_keep_alive(if cfg.stateless {
            None
        } else {
            Some(Duration::from_secs(15))
        })
        .with_max_request_body_bytes(cfg.max_body_bytes)
        .with_cancellation_token(rmcp_ct.clone())
        // `Host` and `Origin` are checked (port-aware) by `cors::check_origin`.
        .disable_allowed_hosts()
        .disable_allowed_origins();
    let sessions = Arc::new(BoundedSessions::new(&cfg.limits));
    let mcp_state = state.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(McpServer::new(mcp_state.clone())),
        sessions.clone(),
        rmcp_cfg,
    );
    let guard = Arc::new(GuardConfig {
        auth: Auth::new(cfg),
        max_body: cfg.max_body_bytes,
        sessions: (!cfg.stateless).then_some(sessions),
        calls: calls::CallLimit::from_config(
            cfg.limits.max_inflight_calls,
            cfg.opensearch.max_response_bytes,
        ),
        fast: cfg
            .stateless
            .then(|| fast::FastPath::new(McpServer::new(state.clone()), &rmcp_ct)),
    });
    let policy = Arc::new(cors::OriginPolicy {
        hosts: cfg.allowed_hosts.clone(),
        origins: cfg.allowed_origins.clone(),
        methods: if cfg.stateless {
            "POST, OPTIONS"
        } else {
            "GET, POST, DELETE, OPTIONS"
        },
    });
    let guard_routes = guard.auth.routes();

    let mut mcp_paths = vec![cfg.mcp_path.clone()];
    mcp_paths.extend(cfg.alias_paths(&cfg.mcp_path));
    let mut health_paths = vec![cfg.health_path.clone()];
    health_paths.extend(cfg.alias_paths(&cfg.health_path));

    let mut mcp_routes = Router::new();
    for p in &mcp_paths {
        mcp_routes = mcp_routes.route_service(p, mcp.clone());
    }
    let mcp_routes = mcp_routes
        .layer(middleware::from_fn_with_state(guard, mcp_guard))
        .layer(middleware::from_fn_with_state(policy, cors::check_origin));

    let health_state = Arc::new(HealthState::new(
        state.backend.clone(),
        cfg.mode(),
        matches!(cfg.auth, crate::config::auth::AuthConfig::None),
    ));
    let mut health_routes = Router::new();
    for p in &health_paths {
        health_routes = health_routes.route(p, get(health));
    }
    let health_routes = health_routes.with_state(health_state);

    let inflight = Arc::new(Inflight::default());
    let log_state = log::LogState {
        inflight: inflight.clone(),
        emf: cfg
            .metrics
            .as_ref()
            .map(|m| Arc::new(metrics::Emf::new(m, state.tool_names()))),
    };
    let logged = |r: Router| {
        r.layer(middleware::from_fn_with_state(
            log_state.clone(),
            log::log_requests,
        ))
    };
    let mut main = mcp_routes
        .merge(health_routes.clone())
        .merge(guard_routes)
        .fallback(not_found);
    if let Some(id) = cfg.served_by.header_value() {
        main = main.layer(middleware::from_fn_with_state(
            id,
            crate::served_by::add_header,
        ));
    }
    let main = logged(main);
    let health_only = logged(health_routes.fallback(at_capacity));
    App {
        apps: serve::Apps { main, health_only },
        inflight,
    }
}

/// Anything but health on a connection taken from the reserve.
async fn at_capacity() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5"), (header::CONNECTION, "close")],
        axum::Json(json!({
            "error": "too many connections (MCP_MAX_CONNECTIONS); retry later"
        })),
    )
        .into_response()
}

async fn not_found(req: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "error": format!("no endpoint at {}", req.uri().path()) })),
    )
        .into_response()
}

/// Bearer token, body limit, JSON-RPC errors for unparseable bodies, and the log details.
async fn mcp_guard(State(g): State<Arc<GuardConfig>>, req: Request, next: Next) -> Response {
    if let Err(refused) = g.auth.check(&req).await {
        return refused;
    }
    jsonrpc::forward(&g, req, next).await
}
