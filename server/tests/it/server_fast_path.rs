//! Story: the stateless fast path (`tools/call`, `tools/list` and `ping` served without rmcp's
//! per-request service) answers byte for byte what rmcp answers, for every protocol version it
//! takes, and every check in front of rmcp (Origin, bearer token, body limit, the in-flight cap)
//! still applies to the requests it takes.
//!
//! A request takes the fast path when its `Accept` header names both media types plainly; the
//! same request with a parameter in `Accept` (`;q=1`, which rmcp accepts) goes to rmcp. So each
//! request is sent both ways and the two answers are compared.

use crate::{common, server_support};

use common::Osmem;
use serde_json::{json, Value};
use server_support::Server;

/// Through the fast path (`true`) or through rmcp; (status, content type, body bytes).
async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    version: Option<&str>,
    fast: bool,
    extra: &[(&str, &str)],
) -> (u16, String, Vec<u8>) {
    let accept = if fast {
        "application/json, text/event-stream"
    } else {
        "application/json;q=1, text/event-stream"
    };
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body.to_string());
    if let Some(v) = version {
        req = req.header("mcp-protocol-version", v);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("POST");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, ct, r.bytes().await.expect("body").to_vec())
}

fn call(id: Value, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_path_answers_byte_for_byte_as_rmcp_does() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let url = server.mcp_url();
    let http = reqwest::Client::new();
    let requests = [
        call(json!(1), "list_indices", json!({})),
        call(
            json!("a-string-id"),
            "list_indices",
            json!({"index": "mov*"}),
        ),
        call(json!(3), "get_index_mapping", json!({"index": "movies"})),
        call(
            json!(4),
            "search_index",
            json!({"index": "movies", "query": {"match_all": {}}}),
        ),
        // A tool error, an unknown tool, arguments of the wrong type.
        call(
            json!(5),
            "get_index_mapping",
            json!({"index": "no-such-index"}),
        ),
        call(json!(6), "no_such_tool", json!({})),
        call(json!(7), "list_indices", json!({"index": 5})),
        json!({"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": {}}),
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 10, "method": "ping"}),
        // Ids of other shapes, a member JSON-RPC does not define.
        call(json!("x\"y\u{e9}"), "list_indices", json!({})),
        call(json!(-5), "list_indices", json!({})),
        json!({"jsonrpc": "2.0", "id": 12, "method": "tools/call", "extra": true,
            "params": {"name": "list_indices", "arguments": {}}}),
    ];
    let versions = [
        None,
        Some("2024-11-05"),
        Some("2025-03-26"),
        Some("2025-06-18"),
        Some("2025-11-25"),
    ];
    for version in versions {
        for body in &requests {
            let fast = post(&http, &url, body, version, true, &[]).await;
            let rmcp = post(&http, &url, body, version, false, &[]).await;
            assert_eq!(fast.0, 200, "{version:?} {body}");
            assert_eq!(
                (fast.0, &fast.1, String::from_utf8_lossy(&fast.2)),
                (rmcp.0, &rmcp.1, String::from_utf8_lossy(&rmcp.2)),
                "{version:?} {body}"
            );
        }
    }
    // What the fast path leaves to rmcp is still answered by rmcp: an unknown version (400),
    // 2026-07-28 without its request metadata, `_meta`, initialize.
    let (status, _, _) = post(&http, &url, &requests[0], Some("1999-01-01"), true, &[]).await;
    assert_eq!(status, 400);
    for (body, version) in [
        (&requests[0], Some("2026-07-28")),
        (
            &call(json!(11), "list_indices", json!({})),
            Some("2025-06-18"),
        ),
    ] {
        let mut body = body.clone();
        if body["id"] == 11 {
            body["params"]["_meta"] = json!({"progressToken": 1});
        }
        let fast = post(&http, &url, &body, version, true, &[]).await;
        let rmcp = post(&http, &url, &body, version, false, &[]).await;
        assert_eq!(fast, rmcp, "{version:?} {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_in_front_of_rmcp_applies_to_the_fast_path() {
    let osmem = Osmem::start_with_movies();
    let token = "tok-fast-path-1";
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_ALLOWED_ORIGINS", "https://app.example.com"),
            ("MCP_AUTH_TOKEN", token),
            ("MCP_MAX_BODY_BYTES", "2048"),
        ],
    );
    let url = server.mcp_url();
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {token}");
    let auth = ("authorization", bearer.as_str());
    let list = call(json!(1), "list_indices", json!({}));
    let v = Some("2025-06-18");
    assert_eq!(post(&http, &url, &list, v, true, &[]).await.0, 401);
    let wrong = ("authorization", "Bearer wrong");
    assert_eq!(post(&http, &url, &list, v, true, &[wrong]).await.0, 401);
    let evil = ("origin", "https://evil.example.com");
    assert_eq!(
        post(&http, &url, &list, v, true, &[auth, evil]).await.0,
        403
    );
    let evil_host = ("host", "evil.example@127.0.0.1");
    assert_eq!(
        post(&http, &url, &list, v, true, &[auth, evil_host])
            .await
            .0,
        400
    );
    let big = call(json!(2), "list_indices", json!({"index": "x".repeat(4096)}));
    assert_eq!(post(&http, &url, &big, v, true, &[auth]).await.0, 413);
    let good = ("origin", "https://app.example.com");
    let (status, _, body) = post(&http, &url, &list, v, true, &[auth, good]).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // The request line is written once the answer has gone out: wait for it.
    let logged = |log: &str| {
        log.lines()
            .any(|l| l.contains("\"tool\":\"list_indices\"") && l.contains("\"outcome\":\"ok\""))
    };
    for _ in 0..100 {
        if logged(&server.log_text()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let log = server.log_text();
    assert!(
        logged(&log),
        "the fast path's call is logged with its tool and outcome:\n{log}"
    );
}
