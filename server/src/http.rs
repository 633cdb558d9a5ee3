//! The axum application: the MCP endpoint (rmcp streamable HTTP) at `MCP_PATH` and every alias,
//! the health endpoint beside it, and the layers around them: bearer token, body limit, JSON-RPC
//! errors for bodies rmcp cannot parse, one JSON log line per request, in-flight counting for
//! graceful shutdown. `Host` and `Origin` checks are rmcp's own (configured here).

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Secret};
use crate::health::{health, HealthState};
use crate::tools::{AppState, McpServer};

/// Requests whose handler has not yet produced a response (drained on SIGTERM).
#[derive(Default)]
pub struct Inflight(AtomicUsize);

impl Inflight {
    /// How many requests are being handled now.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

struct InflightGuard(Arc<Inflight>);

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
}

/// The JSON-RPC method and tool of a request, for the log line.
#[derive(Clone, Default)]
struct RpcInfo {
    method: Option<String>,
    tool: Option<String>,
    id: Option<Value>,
    outcome: ToolOutcome,
}

struct GuardConfig {
    token: Option<Secret>,
    max_body: usize,
}

/// Build the application. `rmcp_ct` ends rmcp's sessions and streams when cancelled.
pub fn app(
    cfg: &Config,
    state: Arc<AppState>,
    rmcp_ct: CancellationToken,
) -> (Router, Arc<Inflight>) {
    let mut rmcp_cfg = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(!cfg.stateless)
        // Plain JSON answers in stateless mode: nothing long-lived behind the ALB.
        .with_json_response(cfg.stateless)
        .with_sse_keep_alive(if cfg.stateless {
            None
        } else {
            Some(Duration::from_secs(15))
        })
        .with_max_request_body_bytes(cfg.max_body_bytes)
        .with_cancellation_token(rmcp_ct);
    rmcp_cfg = if cfg.allowed_hosts.is_empty() {
        rmcp_cfg.disable_allowed_hosts()
    } else {
        rmcp_cfg.with_allowed_hosts(cfg.allowed_hosts.clone())
    };
    rmcp_cfg = match &cfg.allowed_origins {
        None => rmcp_cfg.disable_allowed_origins(),
        Some(list) => rmcp_cfg
            .with_allowed_origins(list.clone())
            .enforce_origin_validation(),
    };
    let mcp_state = state.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(McpServer::new(mcp_state.clone())),
        Arc::new(LocalSessionManager::default()),
        rmcp_cfg,
    );
    let guard = Arc::new(GuardConfig {
        token: cfg.auth_token.clone(),
        max_body: cfg.max_body_bytes,
    });

    let mut mcp_paths = vec![cfg.mcp_path.clone()];
    mcp_paths.extend(cfg.alias_paths(&cfg.mcp_path));
    let mut health_paths = vec![cfg.health_path.clone()];
    health_paths.extend(cfg.alias_paths(&cfg.health_path));

    let mut mcp_routes = Router::new();
    for p in &mcp_paths {
        mcp_routes = mcp_routes.route_service(p, mcp.clone());
    }
    let mcp_routes = mcp_routes.layer(middleware::from_fn_with_state(guard, mcp_guard));

    let health_state = Arc::new(HealthState {
        backend: state.backend.clone(),
        mode: cfg.mode(),
    });
    let mut health_routes = Router::new();
    for p in &health_paths {
        health_routes = health_routes.route(p, get(health));
    }
    let health_routes = health_routes.with_state(health_state);

    let inflight = Arc::new(Inflight::default());
    let mut router = mcp_routes.merge(health_routes).fallback(not_found);
    if let Some(id) = cfg.served_by.header_value() {
        router = router.layer(middleware::from_fn_with_state(
            id,
            crate::served_by::add_header,
        ));
    }
    let router = router.layer(middleware::from_fn_with_state(
        inflight.clone(),
        log_requests,
    ));
    (router, inflight)
}

async fn not_found(req: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "error": format!("no endpoint at {}", req.uri().path()) })),
    )
        .into_response()
}

/// One JSON line per request: method, path, JSON-RPC method, tool, outcome, status, duration.
async fn log_requests(State(inflight): State<Arc<Inflight>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    inflight.0.fetch_add(1, Ordering::SeqCst);
    let _guard = InflightGuard(inflight);
    let http_method = req.method().clone();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let info = response.extensions().get::<RpcInfo>();
    tracing::info!(
        target: "request",
        method = %http_method,
        path = %path,
        rpc_method = info.and_then(|i| i.method.as_deref()),
        tool = info.and_then(|i| i.tool.as_deref()),
        outcome = info.and_then(|i| i.outcome.0.get().copied()),
        status = response.status().as_u16(),
        duration_ms = (start.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        "request"
    );
    response
}

/// A JSON-RPC error response (never a 5xx: these are the client's mistakes).
fn jsonrpc_error(
    status: StatusCode,
    id: Option<Value>,
    code: i64,
    message: impl Into<String>,
) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": id.unwrap_or(Value::Null),
        "error": { "code": code, "message": message.into() },
    });
    (status, axum::Json(body)).into_response()
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(borrow, default)]
    params: Option<PeekParams<'a>>,
}

#[derive(Deserialize)]
struct PeekParams<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false)
}

enum BodyRead {
    Complete(bytes::Bytes),
    TooLarge,
    Failed(String),
}

/// Past the limit, keep reading (and dropping) up to this much so the client gets the 413
/// instead of a connection reset; bigger bodies are cut off.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// Read the body up to `max` bytes. An oversize body is drained (bounded in size and time)
/// before the caller answers 413.
async fn read_body(body: Body, max: usize) -> BodyRead {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    let mut over = false;
    let mut seen = 0usize;
    let drain_until = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let next = if over {
            match tokio::time::timeout_at(drain_until, stream.next()).await {
                Ok(n) => n,
                Err(_) => return BodyRead::TooLarge,
            }
        } else {
            stream.next().await
        };
        match next {
            None => break,
            Some(Err(_)) if over => return BodyRead::TooLarge,
            Some(Err(e)) => return BodyRead::Failed(e.to_string()),
            Some(Ok(chunk)) => {
                seen += chunk.len();
                if over || seen > max {
                    over = true;
                    buf.clear();
                    if seen > DRAIN_LIMIT {
                        return BodyRead::TooLarge;
                    }
                } else {
                    buf.extend_from_slice(&chunk);
                }
            }
        }
    }
    if over {
        BodyRead::TooLarge
    } else {
        BodyRead::Complete(buf.freeze())
    }
}

/// Bearer token, body limit, JSON-RPC errors for unparseable bodies, and the log details.
async fn mcp_guard(State(g): State<Arc<GuardConfig>>, req: Request, next: Next) -> Response {
    if let Some(token) = &g.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(token.expose().as_bytes())) {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({
                    "error": "missing or wrong bearer token: send Authorization: Bearer <MCP_AUTH_TOKEN>"
                })),
            )
                .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let too_large = || {
        jsonrpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            -32600,
            format!(
                "Invalid Request: the body is larger than {} bytes (MCP_MAX_BODY_BYTES)",
                g.max_body
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        // Far too big to drain: answer at once (the client may see the connection close).
        return too_large();
    }
    let json_body = is_json(&req);
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body, g.max_body).await {
        BodyRead::Complete(b) => b,
        BodyRead::TooLarge => return too_large(),
        BodyRead::Failed(e) => {
            return jsonrpc_error(
                StatusCode::BAD_REQUEST,
                None,
                -32600,
                format!("Invalid Request: could not read the body: {e}"),
            )
        }
    };
    let mut info = RpcInfo::default();
    match serde_json::from_slice::<Peek>(&bytes) {
        Ok(p) => {
            info.method = p.method.map(|m| m.into_owned());
            info.tool = p.params.and_then(|p| p.name).map(|n| n.into_owned());
            info.id = p.id;
        }
        Err(e) if json_body && (e.is_syntax() || e.is_eof()) => {
            let mut r = jsonrpc_error(
                StatusCode::BAD_REQUEST,
                None,
                -32700,
                format!("Parse error: the body is not valid JSON ({e})"),
            );
            r.extensions_mut().insert(info);
            return r;
        }
        Err(_) => {
            // Valid JSON of an unexpected shape: keep at least the id for the error reply.
            #[derive(Deserialize)]
            struct IdOnly {
                #[serde(default)]
                id: Option<Value>,
            }
            info.id = serde_json::from_slice::<IdOnly>(&bytes)
                .ok()
                .and_then(|p| p.id);
        }
    }
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(info.outcome.clone());
    let mut response = next.run(req).await;
    if response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE && json_body {
        // rmcp answers 415 when the JSON is not a JSON-RPC message: say so as JSON-RPC.
        let (rparts, rbody) = response.into_parts();
        let text = axum::body::to_bytes(rbody, 64 * 1024)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        response = if text.starts_with("fail to deserialize") {
            jsonrpc_error(
                StatusCode::BAD_REQUEST,
                info.id.clone(),
                -32600,
                "Invalid Request: the body is JSON but not a JSON-RPC 2.0 message this server \
                 understands (a single request, notification or response object with \
                 \"jsonrpc\": \"2.0\" and valid params; batches are not supported)",
            )
        } else {
            Response::from_parts(rparts, Body::from(text.into_owned()))
        };
    }
    response.extensions_mut().insert(info);
    response
}
