//! Story: protocol details and browser rules of `opensearch-mcp-server`: JSON-RPC error codes
//! for bad params and bad UTF-8, request ids echoed exactly, a stateful `DELETE` the official
//! Python SDK accepts without a warning, `Origin`/`Host` allow-lists matched port-aware, CORS for
//! allowed origins, and a health endpoint that cannot be used to hammer OpenSearch or to learn
//! the cluster's name and version.

use crate::{common, server_support};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{venv_bin, Osmem};
use serde_json::{json, Value};
use server_support::{initialize_request, mcp_post, Server, HEALTH_PATH, USER_PROTOCOL};

/// POST raw bytes with the MCP headers; (status, body).
async fn post_raw(http: &reqwest::Client, url: &str, body: Vec<u8>) -> (u16, String) {
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", USER_PROTOCOL)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonrpc_errors_have_the_right_codes_and_ids_come_back_exactly() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let url = server.mcp_url();
    let http = reqwest::Client::new();

    // tools/call with params of the wrong shape: invalid params, not "method not found".
    for (id, params) in [
        (1, json!({"arguments": {}})),
        (2, json!({"name": 5})),
        (
            3,
            json!({"name": "list_indices", "arguments": "not an object"}),
        ),
        (4, json!([])),
    ] {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
        let r = mcp_post(&http, &url, &body, None, &[]).await;
        let m = r.message.unwrap_or_else(|| panic!("{params}: {}", r.body));
        assert_eq!(m["error"]["code"], -32602, "{params}: {}", r.body);
        assert_eq!(m["id"], id, "{params}: {}", r.body);
    }
    let r = mcp_post(
        &http,
        &url,
        &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call"}),
        None,
        &[],
    )
    .await;
    assert_eq!(r.message.unwrap()["error"]["code"], -32602, "{}", r.body);
    // An unknown method is still -32601.
    let r = mcp_post(
        &http,
        &url,
        &json!({"jsonrpc": "2.0", "id": 6, "method": "tools/destroy", "params": {}}),
        None,
        &[],
    )
    .await;
    assert_eq!(r.message.unwrap()["error"]["code"], -32601, "{}", r.body);

    // Invalid UTF-8 inside a JSON string: a parse error.
    let mut body = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search_index","arguments":{"index":"movies","query":{"match":{"title":""#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe, b'x']);
    body.extend_from_slice(br#""}}}}}"#);
    let (status, text) = post_raw(&http, &url, body).await;
    assert_eq!(status, 400, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], -32700, "{text}");

    // A batch (an array) is refused with id null, never the whole first element as the id
    // (issue 24, item 8; JSON-RPC 2.0 §5: null when the id cannot be determined).
    for batch in [
        r#"[{"jsonrpc":"2.0","id":41,"method":"tools/list"}]"#,
        r#" [{"jsonrpc":"2.0","id":42,"method":"tools/list"},{"jsonrpc":"2.0","id":43,"method":"ping"}]"#,
        r#"[41]"#,
    ] {
        let (status, text) = post_raw(&http, &url, batch.as_bytes().to_vec()).await;
        assert_eq!(status, 400, "{batch}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["code"], -32600, "{batch}: {text}");
        assert!(v.get("id").is_some_and(Value::is_null), "{batch}: {text}");
    }

    // Integer ids beyond 2^53 come back digit for digit (a float would lose the last digits).
    for id in [
        "9007199254740993",
        "9223372036854775807",
        "-9223372036854775808",
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#);
        let (status, text) = post_raw(&http, &url, body.into_bytes()).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains(&format!(r#""id":{id}"#)), "{id}: {text}");
        assert!(text.contains("list_indices"), "{text}");
    }
    // Beyond what the server can hold (±2^63): refused, with the id still exact.
    for id in ["18446744073709551617", "123456789012345678901234567890"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#);
        let (status, text) = post_raw(&http, &url, body.into_bytes()).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(&format!(r#""id":{id}"#)), "{id}: {text}");
        assert!(
            text.contains("-32600") && text.contains("string id"),
            "{text}"
        );
    }
    // The same for an id that stays in range through the -32602 path.
    let body =
        r#"{"jsonrpc":"2.0","id":9007199254740995,"method":"tools/call","params":{"name":7}}"#;
    let (_, text) = post_raw(&http, &url, body.as_bytes().to_vec()).await;
    assert!(text.contains(r#""id":9007199254740995"#), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_ends_a_stateful_session_without_a_warning() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_STATELESS", "false")]);
    let http = reqwest::Client::new();

    // Raw: DELETE answers 204, and the session is gone.
    let init = mcp_post(&http, &server.mcp_url(), &initialize_request(1), None, &[]).await;
    let session = init.session.unwrap();
    let r = http
        .delete(server.mcp_url())
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", USER_PROTOCOL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let r = mcp_post(&http, &server.mcp_url(), &list, Some(&session), &[]).await;
    assert_eq!(r.status, 404, "{}", r.body);

    // The official SDK terminates its session on exit; it warns on anything but 200/204.
    let script = r#"
import asyncio, sys
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

async def main(url):
    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            tools = await s.list_tools()
            print(len(tools.tools))

asyncio.run(main(sys.argv[1]))
"#;
    let url = server.mcp_url();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(venv_bin("python"))
            .args(["-c", script, &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "16", "{stderr}");
    assert!(
        !stderr.contains("Session termination failed"),
        "the SDK warned: {stderr}"
    );
    let log = server.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("\"method\":\"DELETE\"") && l.contains("\"status\":204")),
        "{log}"
    );
}

/// Send `head` (request line and headers, no blank line) with a `tools/list` body on a raw
/// socket to 127.0.0.1:`port`; the status line's code.
fn raw_status(port: u16, head: &str) -> u16 {
    use std::io::{Read, Write};
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{head}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: {USER_PROTOCOL}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Issue 24, item 7: RFC 9112 §3.2 — a `Host` with user info, two `Host` headers, and an
/// absolute-form target whose authority is not the `Host` are 400, on raw sockets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_with_user_info_two_hosts_and_a_differing_absolute_target_are_400() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let (port, path) = (server.port, server_support::MCP_PATH);
    let here = format!("127.0.0.1:{port}");
    let refused = [
        format!("POST {path} HTTP/1.1\r\nHost: evil.example@{here}"),
        format!("POST {path} HTTP/1.1\r\nHost: {here}\r\nHost: evil.example"),
        format!("POST {path} HTTP/1.1\r\nHost: evil.example\r\nHost: {here}"),
        format!("POST http://evil.example{path} HTTP/1.1\r\nHost: {here}"),
        format!("POST http://{here}{path} HTTP/1.1\r\nHost: evil.example"),
        format!("POST http://evil.example@{here}{path} HTTP/1.1\r\nHost: {here}"),
    ];
    for head in &refused {
        assert_eq!(raw_status(port, head), 400, "{head}");
    }
    let accepted = [
        format!("POST {path} HTTP/1.1\r\nHost: {here}"),
        format!("POST http://{here}{path} HTTP/1.1\r\nHost: {here}"),
        format!(
            "POST http://{}{path} HTTP/1.1\r\nHost: {here}",
            here.to_uppercase()
        ),
    ];
    for head in &accepted {
        assert_eq!(raw_status(port, head), 200, "{head}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_and_hosts_are_port_aware_and_allowed_origins_get_cors() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_ALLOWED_ORIGINS", "https://app.example.com"),
            ("MCP_ALLOWED_HOSTS", "mcp.example.com:80,127.0.0.1"),
            ("MCP_STATELESS", "false"),
        ],
    );
    let http = reqwest::Client::new();
    let url = server.mcp_url();

    // An entry without a port means 443, not any port.
    for (origin, want) in [
        ("https://app.example.com", 200),
        ("https://app.example.com:443", 200),
        ("https://app.example.com:8443", 403),
        ("http://app.example.com", 403),
        ("https://evil.example.com", 403),
    ] {
        let r = mcp_post(
            &http,
            &url,
            &initialize_request(1),
            None,
            &[("origin", origin)],
        )
        .await;
        assert_eq!(r.status, want, "{origin}: {}", r.body);
    }
    // `name:80` accepts `Host: name`; another port is refused.
    for (host, want) in [
        ("mcp.example.com", 200),
        ("mcp.example.com:80", 200),
        ("mcp.example.com:8080", 403),
    ] {
        let r = mcp_post(&http, &url, &initialize_request(1), None, &[("host", host)]).await;
        assert_eq!(r.status, want, "{host}: {}", r.body);
    }

    // Preflight from the allowed origin: answered with the CORS headers.
    let r = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, mcp-session-id, mcp-protocol-version, authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let h = r.headers();
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    assert_eq!(
        get("access-control-allow-origin"),
        "https://app.example.com"
    );
    assert!(get("access-control-allow-methods").contains("post"));
    assert!(get("access-control-allow-methods").contains("delete"));
    for name in [
        "mcp-session-id",
        "mcp-protocol-version",
        "authorization",
        "content-type",
    ] {
        assert!(get("access-control-allow-headers").contains(name), "{name}");
    }
    // A refused origin's preflight: 403 and no CORS header at all.
    let r = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .headers()
        .keys()
        .all(|k| !k.as_str().starts_with("access-control-")));

    // The real request: the browser may read the answer and the session id.
    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("origin", "https://app.example.com")
        .body(initialize_request(1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(
        h.get("access-control-allow-origin").unwrap(),
        "https://app.example.com"
    );
    let exposed = h
        .get("access-control-expose-headers")
        .unwrap()
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("mcp-session-id"), "{exposed}");
    assert!(h.get("mcp-session-id").is_some());
    // Without Origin (non-browser clients): no CORS headers, still served.
    let r = mcp_post(&http, &url, &initialize_request(1), None, &[]).await;
    assert_eq!(r.status, 200);
}

/// A counting HTTP proxy in front of osmem: how many requests reach OpenSearch.
async fn counting_proxy(target: String) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counter = count.clone();
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (counter, client, target) = (counter.clone(), client.clone(), target.clone());
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            let method = req.method().clone();
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let r = client
                .request(method, format!("{target}{path}"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.bytes().await.unwrap_or_default())
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_hits_do_not_amplify_and_do_not_tell_the_cluster_name() {
    let osmem = Osmem::start_with_movies();
    let (proxy, count) = counting_proxy(osmem.url.clone()).await;
    // With authentication on, health must not name the cluster (with the MCP endpoint open it
    // does, like the user's server: the tools tell anyone as much; see `server_tools`).
    let server = Server::start(&proxy, &[("MCP_AUTH_TOKEN", "health-test-token")]);
    let http = reqwest::Client::new();
    let health_url = server.url(HEALTH_PATH);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = count.load(Ordering::SeqCst);
    let start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (http, u) = (http.clone(), health_url.clone());
        tasks.push(tokio::spawn(async move {
            let mut bodies = Vec::new();
            for _ in 0..25 {
                let r = http.get(&u).send().await.unwrap();
                assert_eq!(r.status(), 200);
                bodies.push(r.json::<Value>().await.unwrap());
            }
            bodies
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        bodies.extend(t.await.unwrap());
    }
    let took = start.elapsed();
    let calls = count.load(Ordering::SeqCst) - before;
    println!("500 health hits in {took:?}: {calls} OpenSearch calls");
    // One probe per second at most (two calls each: the root and `_cluster/health`), whatever
    // the number of hits.
    let allowed = 2 * (took.as_secs_f64().ceil() as usize + 1);
    assert!(
        calls <= allowed,
        "{calls} OpenSearch calls for 500 hits in {took:?}"
    );
    let b = &bodies[0];
    assert_eq!(b["status"], "healthy", "{b}");
    assert_eq!(b["opensearch"]["status"], "connected", "{b}");
    assert_eq!(b["opensearch"]["health"], "yellow", "{b}");
    let text = b.to_string();
    assert!(!text.contains("osmem"), "the cluster name is shown: {text}");
    assert!(b["opensearch"].get("version").is_none(), "{b}");
    assert!(
        !text.contains(&proxy),
        "the OpenSearch address is shown: {text}"
    );
}
