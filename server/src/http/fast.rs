//! The stateless fast path: a `tools/call`, `tools/list` or `ping` POST that rmcp would serve
//! directly (stateless mode, JSON answer) is handed to the same handler here, without rmcp's
//! per-request service (a `Peer`, channels, a service loop and a spawned handler task for each
//! request), and its answer is serialized once into one buffer.
//!
//! The answer is the one rmcp would give, byte for byte: the same handler
//! (`Service::handle_request`, which dispatches to the tool router), a `RequestContext` holding
//! the same `Peer` information rmcp builds for a stateless request (the protocol version from
//! `MCP-Protocol-Version`, default 2025-03-26), the request's HTTP parts in its extensions, and the
//! result serialized as `ServerJsonRpcMessage` with status 200 and `application/json`.
//!
//! Only requests where rmcp's checks cannot refuse anything take this path; every other request
//! goes to rmcp as before. Taken only when: the `Host` header parses as an authority; `Accept`
//! names both `application/json` and `text/event-stream` without parameters or quotes; the
//! protocol version header is absent, or one known version before 2026-07-28 (from which rmcp
//! checks the `Mcp-*` standard headers); and the body is a request for one of the three methods
//! with no `_meta`. Everything in front of rmcp (origin, host, auth, body limit, JSON-RPC checks,
//! the in-flight cap, the log) has already run when this is consulted.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use std::borrow::Cow;

use rmcp::model::{
    CallToolRequest, CallToolRequestMethod, CallToolRequestParams, ClientCapabilities,
    ClientJsonRpcMessage, ClientRequest, ConstString, GetMeta, Implementation,
    InitializeRequestParams, JsonRpcRequest, JsonRpcVersion2_0, ProtocolVersion, RequestId,
    ServerJsonRpcMessage,
};
use rmcp::service::{serve_directly, RequestContext, RunningService, Service};
use rmcp::{Peer, RoleServer};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use super::jsonrpc::jsonrpc_error;
use crate::tools::McpServer;

/// The version rmcp assumes when a stateless request has no `MCP-Protocol-Version` header.
const DEFAULT_VERSION: ProtocolVersion = ProtocolVersion::V_2025_03_26;

/// The handler and one idle `Peer` per protocol version the fast path serves.
pub(super) struct FastPath {
    server: McpServer,
    /// Version text and a peer whose peer information names it (as rmcp's stateless one does).
    peers: Vec<(ProtocolVersion, Peer<RoleServer>)>,
    /// Keeps the peers' (idle) service loops alive; they end with `shutdown`.
    _services: Vec<RunningService<RoleServer, McpServer>>,
}

/// A request the fast path takes, with the peer for its protocol version.
pub(super) struct Taken {
    request: JsonRpcRequest<ClientRequest>,
    peer: Peer<RoleServer>,
}

impl FastPath {
    /// One peer per known protocol version before 2026-07-28, each on an idle service loop that
    /// ends when `shutdown` is cancelled. Must run inside the tokio runtime.
    pub(super) fn new(server: McpServer, shutdown: &CancellationToken) -> FastPath {
        let mut peers = Vec::new();
        let mut services = Vec::new();
        for version in ProtocolVersion::KNOWN_VERSIONS {
            if version.as_str() >= ProtocolVersion::STANDARD_HEADERS.as_str() {
                continue;
            }
            let info = InitializeRequestParams::new(
                ClientCapabilities::default(),
                Implementation::default(),
            )
            .with_protocol_version(version.clone());
            // Never receives a message: the loop only holds the peer.
            let idle = (
                futures::sink::drain(),
                futures::stream::pending::<ClientJsonRpcMessage>(),
            );
            let service = serve_directly(server.clone(), idle, Some(info));
            peers.push((version.clone(), service.peer().clone()));
            let ct = service.cancellation_token();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                stop.cancelled().await;
                ct.cancel();
            });
            services.push(service);
        }
        FastPath {
            server,
            peers,
            _services: services,
        }
    }

    /// The request, when rmcp would serve it directly and answer it with one JSON message.
    pub(super) fn take(&self, headers: &HeaderMap, body: &[u8]) -> Option<Taken> {
        if !host_parses(headers) || !accepts_json_and_sse(headers) {
            return None;
        }
        let peer = self.peer_for(headers)?;
        let request = read_request(body)?;
        let served = matches!(
            request.request,
            ClientRequest::CallToolRequest(_)
                | ClientRequest::ListToolsRequest(_)
                | ClientRequest::PingRequest(_)
        );
        (served && request.request.get_meta().is_empty()).then(|| Taken {
            request,
            peer: peer.clone(),
        })
    }

    /// The peer for the request's protocol version header; `None` when the fast path does not
    /// serve that version (or the header is repeated or unreadable).
    fn peer_for(&self, headers: &HeaderMap) -> Option<&Peer<RoleServer>> {
        let mut values = headers.get_all("mcp-protocol-version").iter();
        let version = match (values.next(), values.next()) {
            (None, _) => DEFAULT_VERSION.as_str(),
            (Some(v), None) => v.to_str().ok()?,
            (Some(_), Some(_)) => return None,
        };
        self.peers
            .iter()
            .find(|(v, _)| v.as_str() == version)
            .map(|(_, p)| p)
    }

    /// Run the handler and answer as rmcp does for a terminal JSON message.
    pub(super) async fn serve(&self, taken: Taken, parts: http::request::Parts) -> Response {
        let Taken { request, peer } = taken;
        let id = request.id;
        let mut context = RequestContext::new(id.clone(), peer);
        context.extensions.insert(parts);
        let message = match self.server.handle_request(request.request, context).await {
            Ok(result) => ServerJsonRpcMessage::response(result, id),
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        match serde_json::to_vec(&message) {
            Ok(body) => {
                let mut r = Response::new(Body::from(body));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                r
            }
            Err(e) => jsonrpc_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                -32603,
                format!("Internal error: cannot serialize the answer: {e}"),
            ),
        }
    }
}

/// The members of a JSON-RPC message, unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

/// The request in `body` as rmcp reads it, or `None` when it is not one (rmcp then decides).
///
/// rmcp reads a message as an untagged `JsonRpcMessage` (the request shape first) whose
/// `ClientRequest` is tried variant by variant. A `tools/call` is read here member by member
/// with the same types (`JsonRpcVersion2_0`, `RequestId`, `CallToolRequestParams`), which gives
/// the same request without rmcp's buffering and failed variant attempts; a duplicate member or
/// a `_meta` in the params is left to rmcp. Other methods are read as the request shape.
fn read_request(body: &[u8]) -> Option<JsonRpcRequest<ClientRequest>> {
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    if envelope.method.as_deref() != Some(CallToolRequestMethod::VALUE) {
        return serde_json::from_slice(body).ok();
    }
    let JsonRpcVersion2_0 = serde_json::from_str(envelope.jsonrpc?.get()).ok()?;
    let id: RequestId = serde_json::from_str(envelope.id?.get()).ok()?;
    let params: CallToolRequestParams = serde_json::from_str(envelope.params?.get()).ok()?;
    if params.meta.is_some() {
        return None;
    }
    Some(JsonRpcRequest::new(
        id,
        ClientRequest::CallToolRequest(CallToolRequest::new(params)),
    ))
}

/// rmcp answers 400 when `Host` is missing, not UTF-8 or not an authority.
fn host_parses(headers: &HeaderMap) -> bool {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| http::uri::Authority::try_from(h).is_ok())
}

/// `Accept` names both media types plainly (no parameters, no quotes: anything else is left to
/// rmcp's own parsing, which may refuse it with 406).
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(header::ACCEPT) {
        let Ok(text) = value.to_str() else {
            return false;
        };
        for entry in text.split(',') {
            if entry.contains([';', '"']) {
                return false;
            }
            let essence = entry.trim();
            json |= essence.eq_ignore_ascii_case("application/json");
            sse |= essence.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn accept_must_name_both_plainly() {
        let both = "application/json, text/event-stream";
        assert!(accepts_json_and_sse(&headers(&[("accept", both)])));
        assert!(accepts_json_and_sse(&headers(&[
            ("accept", "application/json"),
            ("accept", "text/event-stream")
        ])));
        assert!(!accepts_json_and_sse(&headers(&[(
            "accept",
            "application/json"
        )])));
        assert!(!accepts_json_and_sse(&headers(&[(
            "accept",
            "application/json, text/event-stream;q=0"
        )])));
        assert!(!accepts_json_and_sse(&headers(&[])));
    }

    #[test]
    fn a_call_is_read_as_rmcp_reads_it() {
        let rmcp_read = |body: &str| match serde_json::from_str::<ClientJsonRpcMessage>(body) {
            Ok(rmcp::model::JsonRpcMessage::Request(r)) => Some(r),
            _ => None,
        };
        for (i, body) in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_indices","arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":"a\"b","method":"tools/call","params":{"name":"x","arguments":{"a":[1,{"b":null}]}}}"#,
            r#"{"jsonrpc":"2.0","id":2.0,"method":"tools/call","params":{"name":"x"},"extra":1}"#,
            r#"{"jsonrpc":"2.0","id":-7,"method":"tools/call","params":{"name":"x","arguments":null}}"#,
            r#"{"id":3,"method":"tools/call","params":{"name":"x","arguments":{}}}"#,
            r#"{"jsonrpc":"1.0","id":3,"method":"tools/call","params":{"name":"x","arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":true,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{}}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}"#,
        ]
        .into_iter()
        .enumerate()
        {
            // What is read here is what rmcp reads; `None` leaves the message to rmcp.
            let Some(ours) = read_request(body.as_bytes()) else {
                assert!(i >= 4, "the call is read here: {body}");
                continue;
            };
            let theirs = rmcp_read(body).expect(body);
            assert_eq!(
                serde_json::to_string(&ours).unwrap(),
                serde_json::to_string(&theirs).unwrap(),
                "{body}"
            );
            assert!(matches!(
                (&ours.request, &theirs.request),
                (ClientRequest::CallToolRequest(_), ClientRequest::CallToolRequest(_))
                    | (ClientRequest::ListToolsRequest(_), ClientRequest::ListToolsRequest(_))
            ));
        }
        // `_meta` and duplicate members are left to rmcp.
        let meta = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":1}}}"#;
        assert!(read_request(meta.as_bytes()).is_none());
        let dup = r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"x"}}"#;
        assert!(read_request(dup.as_bytes()).is_none());
    }

    #[test]
    fn host_must_be_an_authority() {
        assert!(host_parses(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(!host_parses(&headers(&[("host", "a b")])));
        assert!(!host_parses(&headers(&[])));
    }
}
