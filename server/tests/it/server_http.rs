//! Story: the HTTP surface of `opensearch-mcp-server` behind an ALB: path aliases, the `Host`
//! allow-list (a non-localhost name works when allowed), `Origin` checks, the bearer token, the
//! body limit, and bad input (malformed JSON, wrong JSON-RPC shapes, unknown methods and tools,
//! wrong argument types) answered with JSON-RPC or tool errors, never a 5xx, the server serving on.

use crate::{common, server_support};

use std::net::SocketAddr;

use common::Osmem;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::{json, Value};
use server_support::{initialize_request, mcp_post, Server, HEALTH_PATH, MCP_PATH};

fn list_indices_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "list_indices", "arguments": {}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_localhost_host_works_when_allowed() {
    let osmem = Osmem::start_with_movies();
    let name = "mcp-alb-123.eu-west-1.elb.amazonaws.com";

    // rmcp's default allows only localhost: a request through the ALB's name is refused.
    let strict = Server::start(&osmem.url, &[]);
    let http = reqwest::Client::new();
    let host_header = [("host", name)];
    let r = mcp_post(
        &http,
        &strict.mcp_url(),
        &initialize_request(1),
        None,
        &host_header,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("Host header is not allowed"), "{}", r.body);

    // With MCP_ALLOWED_HOSTS naming the ALB, a real rmcp client that connects by that name works,
    // on the main path and on the alias.
    let allowed = Server::start(
        &osmem.url,
        &[
            ("MCP_ALLOWED_HOSTS", &format!("{name},localhost,127.0.0.1")),
            ("MCP_PATH_ALIASES", "/ossserver"),
        ],
    );
    let addr: SocketAddr = ([127, 0, 0, 1], allowed.port).into();
    for path in [MCP_PATH, "/ossserver/ossmcp"] {
        let by_name = reqwest::Client::builder()
            .resolve(name, addr)
            .build()
            .unwrap();
        let url = format!("http://{name}:{}{path}", allowed.port);
        let transport = StreamableHttpClientTransport::with_client(
            by_name,
            StreamableHttpClientTransportConfig::with_uri(url),
        );
        let client = ClientConfig::default()
            .serve(transport)
            .await
            .expect("initialize through the ALB name");
        let tools = client.list_tools(None).await.expect("tools/list").tools;
        assert_eq!(tools.len(), 16);
        let r = client
            .call_tool(CallToolRequestParams::new("list_indices"))
            .await
            .expect("tools/call");
        let text = server_support::text(&r);
        assert!(text.contains("\"index\":\"movies\""), "{text}");
        client.cancel().await.ok();
    }
    // Other names are still refused.
    let r = mcp_post(
        &http,
        &allowed.mcp_url(),
        &initialize_request(1),
        None,
        &[("host", "evil.example.com")],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // MCP_ALLOWED_HOSTS=* (what the stack files default to) accepts any name.
    let any = Server::start(&osmem.url, &[("MCP_ALLOWED_HOSTS", "*")]);
    let r = mcp_post(
        &http,
        &any.mcp_url(),
        &initialize_request(1),
        None,
        &[("host", "whatever.example.net:8443")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Health is not Host-checked: ALB health checks address the target by IP.
    let h = http
        .get(allowed.url("/ossserver/health"))
        .header("host", "10.0.3.7:9898")
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_and_bearer_token_are_enforced() {
    let osmem = Osmem::start_with_movies();
    let http = reqwest::Client::new();

    // Default: no Origin (non-browser clients) passes; any browser Origin is refused with 403.
    let server = Server::start(&osmem.url, &[]);
    let r = mcp_post(&http, &server.mcp_url(), &initialize_request(1), None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = mcp_post(
        &http,
        &server.mcp_url(),
        &initialize_request(1),
        None,
        &[("origin", "https://evil.example.com")],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // MCP_ALLOWED_ORIGINS lets one in; MCP_AUTH_TOKEN requires the bearer token.
    let token = "tok-9f8e7d6c5b4a";
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_ALLOWED_ORIGINS", "https://app.example.com"),
            ("MCP_AUTH_TOKEN", token),
        ],
    );
    let bearer = format!("Bearer {token}");
    let r = mcp_post(
        &http,
        &server.mcp_url(),
        &initialize_request(1),
        None,
        &[
            ("origin", "https://app.example.com"),
            ("authorization", &bearer),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = mcp_post(
        &http,
        &server.mcp_url(),
        &initialize_request(1),
        None,
        &[
            ("origin", "https://other.example.com"),
            ("authorization", &bearer),
        ],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = mcp_post(&http, &server.mcp_url(), &list_indices_call(2), None, &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("MCP_AUTH_TOKEN"), "{}", r.body);
    let r = mcp_post(
        &http,
        &server.mcp_url(),
        &list_indices_call(2),
        None,
        &[("authorization", "Bearer wrong-token")],
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = mcp_post(
        &http,
        &server.mcp_url(),
        &list_indices_call(2),
        None,
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Health stays open for the load balancer.
    let h = http.get(server.url(HEALTH_PATH)).send().await.unwrap();
    assert_eq!(h.status(), 200);
    assert!(!server.log_text().contains(token), "the token is logged");
}

/// POST raw bytes with the MCP headers; (status, body).
async fn post_raw(http: &reqwest::Client, url: &str, body: Vec<u8>, ct: &str) -> (u16, String) {
    let r = http
        .post(url)
        .header("content-type", ct)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_jsonrpc_errors_and_the_server_keeps_serving() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_MAX_BODY_BYTES", "4096")]);
    let url = server.mcp_url();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();

    // Malformed JSON: JSON-RPC parse error.
    let (status, body) = post_raw(
        &http,
        &url,
        b"{\"jsonrpc\":\"2.0\",".to_vec(),
        "application/json",
    )
    .await;
    statuses.push(status);
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], -32700, "{body}");

    // JSON that is not a JSON-RPC message: invalid request, keeping the id when there is one.
    for (raw, id) in [
        (json!([]), Value::Null),
        (json!({"hello": "world"}), Value::Null),
        (
            json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": "x"}),
            json!(5),
        ),
        (
            json!({"jsonrpc": "1.0", "id": 6, "method": "tools/list"}),
            json!(6),
        ),
    ] {
        let (status, body) = post_raw(
            &http,
            &url,
            raw.to_string().into_bytes(),
            "application/json",
        )
        .await;
        statuses.push(status);
        assert_eq!(status, 400, "{raw}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], -32600, "{raw}: {body}");
        assert_eq!(v["id"], id, "{raw}: {body}");
    }

    // Unknown method and unknown tool: JSON-RPC errors in a 200 reply.
    let r = mcp_post(
        &http,
        &url,
        &json!({"jsonrpc": "2.0", "id": 7, "method": "no/such"}),
        None,
        &[],
    )
    .await;
    statuses.push(r.status);
    assert_eq!(
        r.message.as_ref().unwrap()["error"]["code"],
        -32601,
        "{}",
        r.body
    );
    let r = mcp_post(
        &http,
        &url,
        &json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": {"name": "drop_index", "arguments": {"index": "movies"}}}),
        None,
        &[],
    )
    .await;
    statuses.push(r.status);
    assert_eq!(
        r.message.as_ref().unwrap()["error"]["code"],
        -32602,
        "{}",
        r.body
    );
    assert!(r.body.contains("tool not found"), "{}", r.body);

    // Wrong argument types: a tool error the model can read and correct.
    let r = mcp_post(
        &http,
        &url,
        &json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {"name": "search_index", "arguments": {"index": ["movies"], "size": "ten"}}}),
        None,
        &[],
    )
    .await;
    statuses.push(r.status);
    let result = &r.message.as_ref().unwrap()["result"];
    assert_eq!(result["isError"], true, "{}", r.body);

    // Oversize body, with and without Content-Length: 413 with a JSON-RPC error naming the limit.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{{"name":"search_index","arguments":{{"query":{{"match":{{"title":"{}"}}}}}}}}}}"#,
        "x".repeat(10_000)
    );
    let (status, body) = post_raw(&http, &url, big.clone().into_bytes(), "application/json").await;
    statuses.push(status);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("MCP_MAX_BODY_BYTES"), "{body}");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .into_bytes()
        .chunks(1000)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    statuses.push(r.status().as_u16());
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("MCP_MAX_BODY_BYTES"));

    // Wrong content type, wrong HTTP method, unknown path: 4xx.
    let (status, _) = post_raw(&http, &url, b"hello".to_vec(), "text/plain").await;
    statuses.push(status);
    assert_eq!(status, 415);
    let r = http
        .get(&url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    statuses.push(r.status().as_u16());
    assert_eq!(r.status(), 405, "stateless mode has no GET stream");
    let r = http.delete(&url).send().await.unwrap();
    statuses.push(r.status().as_u16());
    assert_eq!(r.status(), 405);
    let r = http.get(server.url("/nope")).send().await.unwrap();
    statuses.push(r.status().as_u16());
    assert_eq!(r.status(), 404);

    assert!(statuses.iter().all(|s| *s < 500), "a 5xx: {statuses:?}");

    // Still serving.
    let r = mcp_post(&http, &url, &list_indices_call(11), None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("movies"), "{}", r.body);

    // One JSON log line per request, with method, tool, outcome, status and duration.
    let log = server.log_text();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .filter(|v: &Value| v["message"] == "request")
        .collect();
    // Health polls at start-up are logged too; count the MCP requests.
    let mcp_lines = lines.iter().filter(|v| v["path"] == MCP_PATH).count();
    // Every request above except the one to /nope, plus the final call.
    let expected = statuses.len() - 1 + 1;
    assert_eq!(mcp_lines, expected, "{log}");
    let last = lines.last().unwrap();
    assert_eq!(last["method"], "POST");
    assert_eq!(last["rpc_method"], "tools/call");
    assert_eq!(last["tool"], "list_indices");
    assert_eq!(last["outcome"], "ok");
    assert_eq!(last["status"], 200);
    assert!(last["duration_ms"].as_f64().is_some());
}
