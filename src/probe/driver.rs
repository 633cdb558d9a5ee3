//! A JSON-RPC-over-HTTP MCP client (streamable HTTP transport) that sees every HTTP detail, so
//! the load test can classify each request precisely. It speaks the protocol as clients do:
//! `Accept: application/json, text/event-stream`, `initialize` then `notifications/initialized`,
//! the server-issued `Mcp-Session-Id` and the negotiated `MCP-Protocol-Version` on every later
//! request, and responses read from either a JSON body or an SSE stream.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Value};

use super::outcome::{Failure, OutcomeKind};

/// The protocol version the load test negotiates by default: the one the user's clients speak,
/// where stateful servers issue sessions (so the session bug is visible).
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-06-18";

/// Protocol versions with an `initialize` handshake (the ones this driver speaks).
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 4] =
    ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
/// The replica id the server adds to each response (`X-Served-By`).
pub const SERVED_BY_HEADER: &str = "x-served-by";
/// Longest replica id kept from a response.
const SERVED_BY_LIMIT: usize = 64;
/// Bodies of error responses are cut to this many characters in messages.
const DETAIL_LIMIT: usize = 200;

/// Check a `--protocol-version` value; the message says which values work.
pub fn check_protocol_version(version: &str) -> Result<(), String> {
    if SUPPORTED_PROTOCOL_VERSIONS.contains(&version) {
        Ok(())
    } else {
        Err(format!(
            "protocol version {version:?} is not supported by the load driver; use one of {} \
             (2026-07-28 has no initialize handshake and no sessions)",
            SUPPORTED_PROTOCOL_VERSIONS.join(", ")
        ))
    }
}

/// One MCP endpoint, and how to talk to it.
#[derive(Debug, Clone)]
pub struct McpHttp {
    http: reqwest::Client,
    url: reqwest::Url,
    protocol_version: String,
    timeout: Duration,
    bearer: Option<String>,
    headers: HeaderMap,
    next_id: Arc<AtomicU64>,
}

/// A JSON-RPC response: its `result`, the session header, and the replica that answered.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The `result` member.
    pub result: Value,
    /// The `Mcp-Session-Id` response header, if any.
    pub session_id: Option<String>,
    /// The `X-Served-By` response header, if any.
    pub served_by: Option<String>,
}

/// What `initialize` established: the session the server issued (none when stateless) and the
/// protocol version it chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The `Mcp-Session-Id` the server issued, if any.
    pub id: Option<String>,
    /// The negotiated protocol version, sent as `MCP-Protocol-Version` afterwards.
    pub protocol_version: String,
    /// The server's name and version from `serverInfo`.
    pub server: String,
    /// The replica that answered `initialize` (`X-Served-By`), if it said.
    pub served_by: Option<String>,
}

impl McpHttp {
    /// A client for `url` that asks for `protocol_version` and gives every request `timeout`.
    pub fn new(
        http: reqwest::Client,
        url: reqwest::Url,
        protocol_version: &str,
        timeout: Duration,
        bearer: Option<String>,
    ) -> Self {
        McpHttp {
            http,
            url,
            protocol_version: protocol_version.to_string(),
            timeout,
            bearer,
            headers: HeaderMap::new(),
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }

    /// The same client, sending `headers` (from `--header`) on every request.
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// The endpoint URL.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// `initialize` (the first half of the handshake; [`McpHttp::initialized`] is the second).
    pub async fn initialize(&self) -> Result<Session, Failure> {
        let params = json!({
            "protocolVersion": self.protocol_version,
            "capabilities": {},
            "clientInfo": {"name": "mcpctl", "version": env!("CARGO_PKG_VERSION")},
        });
        let Reply {
            result,
            session_id,
            served_by,
        } = self.request(None, "initialize", params).await?;
        let version = result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Failure::new(
                    OutcomeKind::BadResponse,
                    "initialize result has no protocolVersion",
                )
            })?;
        let server = match result.get("serverInfo") {
            Some(info) => format!(
                "{} {}",
                info.get("name").and_then(Value::as_str).unwrap_or("?"),
                info.get("version").and_then(Value::as_str).unwrap_or("?")
            ),
            None => "unknown".to_string(),
        };
        Ok(Session {
            id: session_id,
            protocol_version: version.to_string(),
            server,
            served_by,
        })
    }

    /// `notifications/initialized`, which completes the handshake on the session.
    pub async fn initialized(&self, session: &Session) -> Result<(), Failure> {
        self.notify(session, "notifications/initialized").await
    }

    /// `tools/call`; a result with `isError: true` is a [`OutcomeKind::ToolError`].
    pub async fn call_tool(
        &self,
        session: &Session,
        name: &str,
        arguments: &Value,
    ) -> Result<Reply, Failure> {
        let params = json!({"name": name, "arguments": arguments});
        let reply = self.request(Some(session), "tools/call", params).await?;
        check_tool_result(&reply.result).map_err(|f| f.with_served_by(reply.served_by.clone()))?;
        Ok(reply)
    }

    /// `tools/list` (first page).
    pub async fn list_tools(&self, session: &Session) -> Result<Value, Failure> {
        Ok(self
            .request(Some(session), "tools/list", json!({}))
            .await?
            .result)
    }

    /// End a session with `DELETE` (best effort, as SDK clients do when they close).
    pub async fn close(&self, session: &Session) {
        let Some(id) = &session.id else { return };
        let mut req = self
            .http
            .delete(self.url.clone())
            .header(SESSION_HEADER, id)
            .header(VERSION_HEADER, &session.protocol_version)
            .headers(self.headers.clone())
            .timeout(self.timeout);
        if let Some(token) = &self.bearer {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let _ = req.send().await;
    }

    /// Send a notification; the server must accept it (2xx, normally 202).
    async fn notify(&self, session: &Session, method: &str) -> Result<(), Failure> {
        let body = json!({"jsonrpc": "2.0", "method": method});
        let send = async {
            let resp = self
                .post(Some(session), &body)
                .send()
                .await
                .map_err(transport_failure)?;
            let status = resp.status().as_u16();
            let served_by = served_by(resp.headers());
            let text = resp.text().await.map_err(transport_failure)?;
            match status_failure(status, &text, None) {
                Some(f) => Err(f.with_served_by(served_by)),
                None => Ok(()),
            }
        };
        tokio::time::timeout(self.timeout, send)
            .await
            .unwrap_or_else(|_| Err(self.timeout_failure(method)))
    }

    /// Send a request and return its `result`, the `Mcp-Session-Id` and `X-Served-By` headers.
    pub async fn request(
        &self,
        session: Option<&Session>,
        method: &str,
        params: Value,
    ) -> Result<Reply, Failure> {
        let mut replica = None;
        self.request_inner(session, method, params, &mut replica)
            .await
            .map_err(|f| f.with_served_by(replica))
    }

    async fn request_inner(
        &self,
        session: Option<&Session>,
        method: &str,
        params: Value,
        replica: &mut Option<String>,
    ) -> Result<Reply, Failure> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let send = async {
            let resp = self
                .post(session, &body)
                .send()
                .await
                .map_err(transport_failure)?;
            let status = resp.status().as_u16();
            let session_id = resp
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            *replica = served_by(resp.headers());
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            if !(200..300).contains(&status) {
                let text = resp.text().await.map_err(transport_failure)?;
                return Err(status_failure(status, &text, Some(id))
                    .unwrap_or_else(|| Failure::new(OutcomeKind::HttpError, "unexpected status")));
            }
            let message = if content_type.starts_with("text/event-stream") {
                read_sse_response(resp, id).await?
            } else if content_type.starts_with("application/json") {
                let bytes = resp.bytes().await.map_err(transport_failure)?;
                let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    Failure::new(
                        OutcomeKind::BadResponse,
                        format!("response body is not JSON ({e}): {}", snippet(&bytes)),
                    )
                    .with_status(status)
                })?;
                pick_response(std::iter::once(value), id)?
            } else {
                let bytes = resp.bytes().await.unwrap_or_default();
                return Err(Failure::new(
                    OutcomeKind::BadResponse,
                    format!(
                        "expected application/json or text/event-stream, got {:?}: {}",
                        content_type,
                        snippet(&bytes)
                    ),
                )
                .with_status(status));
            };
            Ok(Reply {
                result: response_result(message)?,
                session_id,
                served_by: replica.clone(),
            })
        };
        tokio::time::timeout(self.timeout, send)
            .await
            .unwrap_or_else(|_| Err(self.timeout_failure(method)))
    }

    fn post(&self, session: Option<&Session>, body: &Value) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .post(self.url.clone())
            .header(ACCEPT, "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .headers(self.headers.clone())
            .body(body.to_string());
        if let Some(s) = session {
            if let Some(id) = &s.id {
                req = req.header(SESSION_HEADER, id);
            }
            req = req.header(VERSION_HEADER, &s.protocol_version);
        }
        if let Some(token) = &self.bearer {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        req
    }

    fn timeout_failure(&self, method: &str) -> Failure {
        Failure::new(
            OutcomeKind::Timeout,
            format!("{method}: no answer within {:?}", self.timeout),
        )
    }
}

/// The `X-Served-By` header: printable ASCII, cut to a short length (it is shown to people).
pub fn served_by(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(SERVED_BY_HEADER)?.to_str().ok()?.trim();
    if value.is_empty() {
        return None;
    }
    Some(
        value
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(SERVED_BY_LIMIT)
            .collect(),
    )
}

/// Read SSE events until the response to request `id` arrives (skipping server notifications).
async fn read_sse_response(resp: reqwest::Response, id: u64) -> Result<Value, Failure> {
    let mut events = sse_stream::SseStream::from_bytes_stream(resp.bytes_stream());
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| {
            Failure::new(
                OutcomeKind::ConnectionError,
                format!("SSE stream broke: {e}"),
            )
        })?;
        let Some(data) = event.data else { continue };
        if data.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&data).map_err(|e| {
            Failure::new(
                OutcomeKind::BadResponse,
                format!("SSE event is not JSON ({e}): {}", snippet(data.as_bytes())),
            )
        })?;
        if is_response_to(&value, id) {
            return pick_response(std::iter::once(value), id);
        }
        seen.push(value);
    }
    pick_response(seen, id)
}

fn is_response_to(value: &Value, id: u64) -> bool {
    value.get("id").and_then(Value::as_u64) == Some(id)
        && (value.get("result").is_some() || value.get("error").is_some())
}

/// The response to request `id` among the messages received (a batch array counts as several).
pub fn pick_response(messages: impl IntoIterator<Item = Value>, id: u64) -> Result<Value, Failure> {
    let mut flat = Vec::new();
    for m in messages {
        match m {
            Value::Array(items) => flat.extend(items),
            other => flat.push(other),
        }
    }
    flat.into_iter()
        .find(|m| is_response_to(m, id))
        .ok_or_else(|| {
            Failure::new(
                OutcomeKind::BadResponse,
                format!("no JSON-RPC response with id {id} in the answer"),
            )
        })
}

/// The `result` of a JSON-RPC response, or a [`OutcomeKind::JsonRpcError`].
pub fn response_result(message: Value) -> Result<Value, Failure> {
    if let Some(error) = message.get("error") {
        return Err(jsonrpc_failure(error));
    }
    match message {
        Value::Object(mut map) => Ok(map.remove("result").unwrap_or(Value::Null)),
        _ => Err(Failure::new(
            OutcomeKind::BadResponse,
            "response is not an object",
        )),
    }
}

/// A tool result with `isError: true` is a [`OutcomeKind::ToolError`] carrying its text.
pub fn check_tool_result(result: &Value) -> Result<(), Failure> {
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        let text: Vec<&str> = result
            .get("content")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        return Err(Failure::new(
            OutcomeKind::ToolError,
            truncate(&text.join(" "), DETAIL_LIMIT),
        ));
    }
    Ok(())
}

fn jsonrpc_failure(error: &Value) -> Failure {
    let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    Failure::new(
        OutcomeKind::JsonRpcError,
        format!("code {code}: {}", truncate(message, DETAIL_LIMIT)),
    )
}

/// Classify a response by its HTTP status and body; `None` when the status is a success.
///
/// 401 and 403 are [`OutcomeKind::Unauthorized`]; 404 whose body says "session not found" is
/// the session bug; a non-2xx carrying a JSON-RPC
/// error for our own request id is a JSON-RPC error; anything else non-2xx is an HTTP error.
pub fn status_failure(status: u16, body: &str, request_id: Option<u64>) -> Option<Failure> {
    if (200..300).contains(&status) {
        return None;
    }
    if status == 401 || status == 403 {
        let detail = if body.trim().is_empty() {
            "empty body".to_string()
        } else {
            truncate(body.trim(), DETAIL_LIMIT)
        };
        return Some(Failure::new(OutcomeKind::Unauthorized, detail).with_status(status));
    }
    if status == 404 && body.to_ascii_lowercase().contains("session not found") {
        return Some(
            Failure::new(
                OutcomeKind::SessionNotFound,
                truncate(body.trim(), DETAIL_LIMIT),
            )
            .with_status(status),
        );
    }
    if let (Some(id), Ok(value)) = (request_id, serde_json::from_str::<Value>(body)) {
        if is_response_to(&value, id) {
            if let Some(error) = value.get("error") {
                return Some(jsonrpc_failure(error).with_status(status));
            }
        }
    }
    let detail = if body.trim().is_empty() {
        "empty body".to_string()
    } else {
        truncate(body.trim(), DETAIL_LIMIT)
    };
    Some(Failure::new(OutcomeKind::HttpError, detail).with_status(status))
}

/// Classify a transport error: timeout, connection, or a broken body.
fn transport_failure(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::new(OutcomeKind::Timeout, e.to_string())
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        Failure::new(OutcomeKind::ConnectionError, text)
    }
}

fn snippet(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "<empty>".to_string();
    }
    truncate(String::from_utf8_lossy(bytes).trim(), DETAIL_LIMIT)
}

/// Cut to `limit` characters, control characters replaced (bodies can be binary garbage).
fn truncate(text: &str, limit: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    match clean.char_indices().nth(limit) {
        Some((i, _)) => format!("{}…", &clean[..i]),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_sdk_session_not_found_is_the_session_bug() {
        let body = r#"{"jsonrpc":"2.0","id":"server-error","error":{"code":-32600,"message":"Session not found"}}"#;
        let f = status_failure(404, body, Some(7)).unwrap();
        assert_eq!(f.kind, OutcomeKind::SessionNotFound);
        assert_eq!(f.status, Some(404));
    }

    #[test]
    fn rmcp_session_not_found_is_the_session_bug() {
        let f = status_failure(404, "Not Found: Session not found", None).unwrap();
        assert_eq!(f.kind, OutcomeKind::SessionNotFound);
    }

    #[test]
    fn other_statuses_are_http_errors_or_jsonrpc_errors() {
        assert!(status_failure(202, "", None).is_none());
        let f = status_failure(404, "<html>nope</html>", Some(1)).unwrap();
        assert_eq!((f.kind, f.status), (OutcomeKind::HttpError, Some(404)));
        let f = status_failure(502, "", Some(1)).unwrap();
        assert_eq!(f.kind, OutcomeKind::HttpError);
        assert_eq!(f.detail, "empty body");
        let body =
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}}"#;
        let f = status_failure(404, body, Some(3)).unwrap();
        assert_eq!(f.kind, OutcomeKind::JsonRpcError);
        assert_eq!(f.detail, "code -32601: Method not found");
        let f = status_failure(400, body, Some(4)).unwrap();
        assert_eq!(
            f.kind,
            OutcomeKind::HttpError,
            "an error for another id is not ours"
        );
    }

    #[test]
    fn picks_the_response_with_our_id_among_notifications_and_batches() {
        let msgs = vec![
            json!({"jsonrpc":"2.0","method":"notifications/message","params":{}}),
            json!([{"jsonrpc":"2.0","id":9,"result":{"a":1}}, {"jsonrpc":"2.0","id":5,"result":{"b":2}}]),
        ];
        let r = pick_response(msgs, 5).unwrap();
        assert_eq!(response_result(r).unwrap(), json!({"b":2}));
        let f = pick_response(vec![json!({"jsonrpc":"2.0","id":1,"result":{}})], 2).unwrap_err();
        assert_eq!(f.kind, OutcomeKind::BadResponse);
    }

    #[test]
    fn jsonrpc_errors_and_tool_errors_are_told_apart() {
        let e = response_result(
            json!({"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}),
        )
        .unwrap_err();
        assert_eq!(e.kind, OutcomeKind::JsonRpcError);
        let ok = json!({"content":[{"type":"text","text":"fine"}]});
        assert!(check_tool_result(&ok).is_ok());
        let bad = json!({"isError":true,"content":[{"type":"text","text":"no such index [x]"}]});
        let f = check_tool_result(&bad).unwrap_err();
        assert_eq!(
            (f.kind, f.detail.as_str()),
            (OutcomeKind::ToolError, "no such index [x]")
        );
    }

    #[test]
    fn unauthorized_is_its_own_outcome_and_served_by_is_kept_short() {
        for status in [401, 403] {
            let f = status_failure(status, r#"{"error":"missing token"}"#, Some(1)).unwrap();
            assert_eq!(
                (f.kind, f.status),
                (OutcomeKind::Unauthorized, Some(status))
            );
        }
        let mut h = HeaderMap::new();
        assert_eq!(served_by(&h), None);
        h.insert(SERVED_BY_HEADER, "replica-2".parse().unwrap());
        assert_eq!(served_by(&h).as_deref(), Some("replica-2"));
        h.insert(SERVED_BY_HEADER, "x".repeat(500).parse().unwrap());
        assert_eq!(served_by(&h).unwrap().len(), SERVED_BY_LIMIT);
    }

    #[test]
    fn protocol_versions_are_checked_with_a_helpful_message() {
        assert!(check_protocol_version("2025-06-18").is_ok());
        let msg = check_protocol_version("2026-07-28").unwrap_err();
        assert!(
            msg.contains("2025-11-25") && msg.contains("no initialize"),
            "{msg}"
        );
    }

    #[test]
    fn long_details_are_truncated_on_char_boundaries() {
        let long = "é".repeat(300);
        let t = truncate(&long, 10);
        assert_eq!(t.chars().count(), 11);
    }
}
