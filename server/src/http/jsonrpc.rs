//! The MCP request body before rmcp sees it, and rmcp's plain-text errors after: the body is
//! read with a size limit and a deadline, checked (UTF-8, JSON, params of the standard methods),
//! and every refusal is a JSON-RPC error that echoes the request id exactly as it was sent.
//!
//! Fixed here rather than in rmcp: rmcp parses requests as an untagged enum whose last variant
//! takes any method, so `tools/call` with bad params fell through to "method not found"
//! (-32601, now -32602); rmcp answers 415 text for any body it cannot parse (now -32700 when the
//! bytes are not UTF-8 JSON, -32600 when the JSON is not a request); ids are echoed verbatim
//! (an id rmcp cannot hold, beyond ±2^63, is refused with that id, not a float of it); a
//! stateful `DELETE` answers 204 (rmcp says 202, which the Python SDK warns about).

use std::borrow::Cow;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestMethod, CallToolRequestParams, ClientJsonRpcMessage, ClientRequest,
    CompleteRequestMethod, ConstString, GetPromptRequestMethod, InitializeResultMethod,
    JsonRpcMessage, ListPromptsRequestMethod, ListResourceTemplatesRequestMethod,
    ListResourcesRequestMethod, ListToolsRequestMethod, PingRequestMethod,
    ReadResourceRequestMethod, SetLevelRequestMethod, SubscribeRequestMethod,
    UnsubscribeRequestMethod,
};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::log::RpcInfo;
use super::GuardConfig;
use crate::config::BODY_READ_TIMEOUT;

/// The methods rmcp parses into typed requests: bad params for these are -32602.
const STANDARD_METHODS: &[&str] = &[
    InitializeResultMethod::VALUE,
    PingRequestMethod::VALUE,
    CallToolRequestMethod::VALUE,
    ListToolsRequestMethod::VALUE,
    ListResourcesRequestMethod::VALUE,
    ListResourceTemplatesRequestMethod::VALUE,
    ReadResourceRequestMethod::VALUE,
    SubscribeRequestMethod::VALUE,
    UnsubscribeRequestMethod::VALUE,
    ListPromptsRequestMethod::VALUE,
    GetPromptRequestMethod::VALUE,
    CompleteRequestMethod::VALUE,
    SetLevelRequestMethod::VALUE,
];

/// A JSON-RPC error response; `id` is the request's id text, sent back byte for byte.
pub(super) fn jsonrpc_error(
    status: StatusCode,
    id: Option<&str>,
    code: i64,
    message: impl Into<String>,
) -> Response {
    let error = json!({ "code": code, "message": message.into() });
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{},"error":{error}}}"#,
        id.unwrap_or("null")
    );
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct PeekName<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
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
    TimedOut,
    Failed(String),
}

/// Past the limit, keep reading (and dropping) up to this much so the client gets the 413
/// instead of a connection reset; bigger bodies are cut off.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// Read the body up to `max` bytes within `BODY_READ_TIMEOUT`. An oversize body is drained
/// (bounded in size and time) before the caller answers 413.
async fn read_body(body: Body, max: usize) -> BodyRead {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf = bytes::BytesMut::new();
    let mut over = false;
    let mut seen = 0usize;
    let deadline = tokio::time::Instant::now() + BODY_READ_TIMEOUT;
    let mut drain_until = deadline;
    loop {
        let next = match tokio::time::timeout_at(drain_until, stream.next()).await {
            Ok(n) => n,
            Err(_) if over => return BodyRead::TooLarge,
            Err(_) => return BodyRead::TimedOut,
        };
        match next {
            None => break,
            Some(Err(_)) if over => return BodyRead::TooLarge,
            Some(Err(e)) => return BodyRead::Failed(e.to_string()),
            Some(Ok(chunk)) => {
                seen += chunk.len();
                if over || seen > max {
                    if !over {
                        drain_until =
                            deadline.min(tokio::time::Instant::now() + Duration::from_secs(2));
                    }
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

/// `Some(message)` when a standard method's params are structured but do not fit its schema
/// (rmcp would take the request for an unknown method).
fn invalid_params(method: &str, bytes: &[u8], params: Option<&RawValue>) -> Option<String> {
    if !STANDARD_METHODS.contains(&method) {
        return None;
    }
    if params.is_some_and(|p| p.get().starts_with('[')) {
        return Some(format!(
            "Invalid params: the params of {method} must be an object, not an array"
        ));
    }
    // The hot path: well-formed `tools/call` params are what rmcp's own variant accepts, so
    // the whole message need not be parsed a second time (rmcp parses it anyway).
    if method == CallToolRequestMethod::VALUE
        && params.is_some_and(|p| serde_json::from_str::<CallToolRequestParams>(p.get()).is_ok())
    {
        return None;
    }
    let Ok(JsonRpcMessage::Request(r)) = serde_json::from_slice::<ClientJsonRpcMessage>(bytes)
    else {
        return None;
    };
    if !matches!(r.request, ClientRequest::CustomRequest(_)) {
        return None;
    }
    let detail = if method == CallToolRequestMethod::VALUE {
        match params.map(|p| serde_json::from_str::<CallToolRequestParams>(p.get())) {
            Some(Err(e)) => format!(": {e}"),
            None => ": params are missing".to_string(),
            Some(Ok(_)) => String::new(),
        }
    } else {
        String::new()
    };
    Some(format!(
        "Invalid params: the params of {method} do not match the MCP schema{detail}"
    ))
}

/// The MCP endpoint after the bearer token check: body, JSON-RPC checks, sessions, rmcp.
pub(super) async fn forward(g: &GuardConfig, req: Request, next: Next) -> Response {
    if req.method() == Method::DELETE {
        // Ending a session: 204, as the Python SDK expects (200 or 204), not rmcp's 202.
        let mut r = next.run(req).await;
        if r.status() == StatusCode::ACCEPTED {
            *r.status_mut() = StatusCode::NO_CONTENT;
        }
        return r;
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
    let has_session = req.headers().contains_key("mcp-session-id");
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body, g.max_body).await {
        BodyRead::Complete(b) => b,
        BodyRead::TooLarge => return too_large(),
        other => return unreadable(other),
    };
    let mut info = RpcInfo::default();
    if json_body && std::str::from_utf8(&bytes).is_err() {
        return jsonrpc_error(
            StatusCode::BAD_REQUEST,
            None,
            -32700,
            "Parse error: the body is not valid UTF-8 (JSON text must be UTF-8)",
        );
    }
    let id_text = match peek(g, &bytes, json_body, has_session, &mut info).await {
        Ok(id) => id,
        Err(mut refused) => {
            refused.extensions_mut().insert(info);
            return refused;
        }
    };
    let slot = if info.method.as_deref() == Some(CallToolRequestMethod::VALUE) {
        match g.calls.try_admit() {
            Some(slot) => Some(slot),
            None => {
                let mut r = busy(g.calls.max(), id_text.as_deref());
                r.extensions_mut().insert(info);
                return r;
            }
        }
    } else {
        None
    };
    let mut parts = parts;
    parts.extensions.insert(info.outcome.clone());
    let taken = match &g.fast {
        Some(fast) if json_body => fast.take(&parts.headers, &bytes).map(|t| (fast, t)),
        _ => None,
    };
    let mut response = match taken {
        // What rmcp would serve directly, served here without its per-request service.
        Some((fast, taken)) => fast.serve(taken, parts).await,
        None => {
            let is_initialize = info.method.as_deref() == Some(InitializeResultMethod::VALUE);
            let req = Request::from_parts(parts, Body::from(bytes));
            via_rmcp(g, req, next, json_body, is_initialize, id_text.as_deref()).await
        }
    };
    response.extensions_mut().insert(info);
    match slot {
        // The slot is held until the answer has been written (or the client went away).
        Some(slot) => response.map(|b| Body::new(super::calls::SlotBody::new(b, slot))),
        None => response,
    }
}

/// rmcp's answer, its plain-text 415 (for a JSON body) and 500 (for `initialize`) rewritten as
/// JSON-RPC errors.
async fn via_rmcp(
    g: &GuardConfig,
    req: Request,
    next: Next,
    json_body: bool,
    is_initialize: bool,
    id_text: Option<&str>,
) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if (status == StatusCode::UNSUPPORTED_MEDIA_TYPE && json_body)
        || (status == StatusCode::INTERNAL_SERVER_ERROR && is_initialize)
    {
        rewrite_rmcp_error(g, response, id_text).await
    } else {
        response
    }
}

/// Read the method, tool and id for the log and the error replies, and refuse what rmcp would
/// misjudge: a standard method's params that do not fit (-32602), an `initialize` past the
/// session limit, a body that is not JSON (-32700). The id's text, byte for byte.
async fn peek(
    g: &GuardConfig,
    bytes: &[u8],
    json_body: bool,
    has_session: bool,
    info: &mut RpcInfo,
) -> Result<Option<String>, Response> {
    let id_text: Option<String>;
    match serde_json::from_slice::<Peek>(bytes) {
        Ok(p) => {
            id_text = p.id.map(|r| r.get().to_string());
            info.method = p.method.as_deref().map(str::to_string);
            info.tool = p
                .params
                .and_then(|raw| serde_json::from_str::<PeekName>(raw.get()).ok())
                .and_then(|n| n.name)
                .map(|n| n.into_owned());
            let structured = p
                .params
                .is_some_and(|raw| raw.get().starts_with(['{', '[']));
            if let (Some(method), Some(id)) = (p.method.as_deref(), id_text.as_deref()) {
                if structured || p.params.is_none() {
                    if let Some(msg) = invalid_params(method, bytes, p.params) {
                        return Err(jsonrpc_error(StatusCode::OK, Some(id), -32602, msg));
                    }
                }
                if method == InitializeResultMethod::VALUE && !has_session {
                    if let Some(sessions) = &g.sessions {
                        sessions.admit(Some(id)).await?;
                    }
                }
            }
        }
        Err(e) if json_body && (e.is_syntax() || e.is_eof()) => {
            return Err(jsonrpc_error(
                StatusCode::BAD_REQUEST,
                None,
                -32700,
                format!("Parse error: the body is not valid JSON ({e})"),
            ));
        }
        Err(_) => {
            // Valid JSON of an unexpected shape: keep at least the id for the error reply —
            // only from an object (serde reads a struct from an array too, and a batch's id
            // is `null`, not its first element).
            let is_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            id_text = is_object
                .then(|| serde_json::from_slice::<IdOnly>(bytes).ok())
                .flatten()
                .and_then(|p| p.id)
                .map(|r| r.get().to_string());
        }
    }
    Ok(id_text)
}

/// A body that timed out or failed to arrive, as a JSON-RPC error.
fn unreadable(read: BodyRead) -> Response {
    match read {
        BodyRead::TimedOut => jsonrpc_error(
            StatusCode::REQUEST_TIMEOUT,
            None,
            -32600,
            format!(
                "Invalid Request: the body did not arrive within {}s",
                BODY_READ_TIMEOUT.as_secs()
            ),
        ),
        BodyRead::Failed(e) => jsonrpc_error(
            StatusCode::BAD_REQUEST,
            None,
            -32600,
            format!("Invalid Request: could not read the body: {e}"),
        ),
        BodyRead::Complete(_) | BodyRead::TooLarge => jsonrpc_error(
            StatusCode::BAD_REQUEST,
            None,
            -32600,
            "Invalid Request: could not read the body",
        ),
    }
}

/// rmcp's plain-text 415 (JSON that is not JSON-RPC) and 500 (session limit) as JSON-RPC
/// errors with the request's id; any other text is passed on.
async fn rewrite_rmcp_error(
    g: &GuardConfig,
    response: Response,
    id_text: Option<&str>,
) -> Response {
    let status = response.status();
    let (rparts, rbody) = response.into_parts();
    let text = axum::body::to_bytes(rbody, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    if text.starts_with("fail to deserialize") {
        // rmcp answers 415 when the JSON is not a JSON-RPC message: say so as JSON-RPC.
        let out_of_range =
            id_text.is_some_and(|id| id.parse::<i64>().is_err() && id.parse::<f64>().is_ok());
        let message = if out_of_range {
            "Invalid Request: a numeric id must be an integer from -2^63 to 2^63-1; \
             use a smaller number or a string id"
        } else {
            "Invalid Request: the body is JSON but not a JSON-RPC 2.0 message this server \
             understands (a single request, notification or response object with \
             \"jsonrpc\": \"2.0\" and structured params; batches are not supported)"
        };
        return jsonrpc_error(StatusCode::BAD_REQUEST, id_text, -32600, message);
    }
    if status == StatusCode::INTERNAL_SERVER_ERROR && text.contains(super::sessions::LIMIT_MARKER) {
        // Another initialize took the last slot between our check and rmcp's.
        if let Some(s) = &g.sessions {
            return s.full_response(id_text);
        }
    }
    Response::from_parts(rparts, Body::from(text.into_owned()))
}

/// Every slot for tool calls is taken: 503 at once, saying to retry.
fn busy(max: usize, id: Option<&str>) -> Response {
    static WARN: super::log::Throttle = super::log::Throttle::new();
    if WARN.allow() {
        tracing::warn!(
            message = "tool call refused: MCP_MAX_INFLIGHT_CALLS reached",
            max_inflight_calls = max
        );
    }
    let mut r = jsonrpc_error(
        StatusCode::SERVICE_UNAVAILABLE,
        id,
        -32000,
        format!(
            "the server is busy: {max} tool calls are in flight (MCP_MAX_INFLIGHT_CALLS); retry in a second"
        ),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}
