//! A JSON-RPC-over-HTTP MCP client (streamable HTTP transport) that sees every HTTP detail, so
//! the load test can classify each request precisely. It speaks the protocol as clients do:
//! `Accept: application/json, text/event-stream`, `initialize` then `notifications/initialized`,
//! the server-issued `Mcp-Session-Id` and the negotiated `MCP-Protocol-Version` on every later
//! request, and responses read from either a JSON body or an SSE stream.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Value};

use super::outcome::{Failure, OutcomeKind};
pub use super::reply::{
    check_tool_result, pick_response, response_result, served_by, status_failure,
};
use super::reply::{read_sse_response, snippet, transport_failure};

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
pub(super) const SERVED_BY_LIMIT: usize = 64;
/// Bodies of error responses are cut to this many characters in messages.
pub(super) const DETAIL_LIMIT: usize = 200;

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
