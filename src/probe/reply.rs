//! Reading an MCP server's HTTP answers: the `X-Served-By` header, a response from a JSON body
//! or an SSE stream, JSON-RPC errors, tool errors and HTTP statuses classified as
//! [`Failure`]s (the load test's outcome kinds).

use futures::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::driver::{DETAIL_LIMIT, SERVED_BY_HEADER, SERVED_BY_LIMIT};
use super::outcome::{Failure, OutcomeKind};

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
pub(super) async fn read_sse_response(resp: reqwest::Response, id: u64) -> Result<Value, Failure> {
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

pub(super) fn is_response_to(value: &Value, id: u64) -> bool {
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

pub(super) fn jsonrpc_failure(error: &Value) -> Failure {
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
pub(super) fn transport_failure(e: reqwest::Error) -> Failure {
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

pub(super) fn snippet(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "<empty>".to_string();
    }
    truncate(String::from_utf8_lossy(bytes).trim(), DETAIL_LIMIT)
}

/// Cut to `limit` characters, control characters replaced (bodies can be binary garbage).
pub(super) fn truncate(text: &str, limit: usize) -> String {
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
    use crate::probe::driver::check_protocol_version;
    use serde_json::json;

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
