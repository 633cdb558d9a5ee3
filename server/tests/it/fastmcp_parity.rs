//! Parity with the server users run today: a FastMCP 2.12.3 server over opensearch-py 3.0
//! (`tests/python/fastmcp_parity_server.py`, built from the facts in issue 16) and
//! `opensearch-mcp-server`, side by side against the same osmem.
//!
//! "Identical" here means: `list_indices`' text block byte for byte and its `structuredContent`
//! as JSON; the health body's user-visible values (`status`, `service`, `opensearch.status`,
//! `cluster_name`, `version`, `health`); `config://opensearch` as JSON values; `serverInfo.name`.
//! On an OpenSearch failure both send `{"success": false, "error": "OpenSearch error: ..."}`;
//! ours adds `isError: true` (the one documented difference) and the error texts themselves
//! differ (they quote each client library's own exception).
//!
//! FastMCP 2.12.3 needs `mcp<2`, which conflicts with the venv's `mcp==2.3.0`, so it lives in
//! `$MCPCTL_VENV/fastmcp-parity` (requirements-fastmcp.txt, installed by scripts/setup-venv)
//! and is put on `PYTHONPATH` for this one server.

use crate::{common, server_support};

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use server_support::*;

/// The FastMCP server on a free port, reading the same osmem; its MCP URL and health URL.
struct FastMcp {
    mcp_url: String,
    health_url: String,
    _guard: ChildGuard,
}

impl FastMcp {
    fn start(osmem: &Osmem) -> FastMcp {
        let target = venv().join("fastmcp-parity");
        assert!(
            target.join("fastmcp").is_dir(),
            "{} has no fastmcp: run scripts/setup-venv (it installs requirements-fastmcp.txt there)",
            target.display()
        );
        let port = free_port();
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(workspace_root().join("tests/python/fastmcp_parity_server.py"))
            .env("PYTHONPATH", &target)
            .env("MCP_PORT", port.to_string())
            .env("OPENSEARCH_HOST", "127.0.0.1")
            .env("OPENSEARCH_PORT", osmem.port.to_string())
            .env("OPENSEARCH_TIMEOUT", "5") // as server_support starts ours
            .env("FASTMCP_LOG_LEVEL", "WARNING")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let guard = ChildGuard::spawn("fastmcp_parity_server.py", &mut cmd);
        assert!(
            wait_for_port(port, Duration::from_secs(60)),
            "the FastMCP server did not listen on {port}"
        );
        FastMcp {
            mcp_url: format!("http://127.0.0.1:{port}{MCP_PATH}"),
            health_url: format!("http://127.0.0.1:{port}{HEALTH_PATH}"),
            _guard: guard,
        }
    }
}

/// Ours, configured exactly as the FastMCP server (host and port apart, as the user's env).
fn ours(osmem: &Osmem) -> Server {
    let port = osmem.port.to_string();
    Server::start(
        &osmem.url,
        &[("OPENSEARCH_HOST", "127.0.0.1"), ("OPENSEARCH_PORT", &port)],
    )
}

async fn rpc(http: &reqwest::Client, url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let reply = mcp_post(http, url, &body, None, &[]).await;
    assert_eq!(reply.status, 200, "{url} {method}: {}", reply.body);
    let message = reply
        .message
        .unwrap_or_else(|| panic!("{url} {method}: no JSON-RPC reply in {}", reply.body));
    message["result"].clone()
}

async fn health(http: &reqwest::Client, url: &str) -> Value {
    let resp = http.get(url).send().await.expect("GET health");
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.expect("health is JSON")
}

/// The health values the user's dashboards and CLI read.
fn user_visible(h: &Value) -> Value {
    let mut os = h["opensearch"].clone();
    if let Some(o) = os.as_object_mut() {
        o.retain(|k, _| ["status", "cluster_name", "version", "health"].contains(&k.as_str()));
    }
    json!({"status": h["status"], "service": h["service"], "opensearch": os})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_indices_health_and_config_are_identical_to_the_users_fastmcp_server() {
    let mut osmem = Osmem::start_with_movies();
    let (status, body) = http_send(
        "PUT",
        &format!("{}/ratings", osmem.url),
        br#"{"mappings":{"properties":{"stars":{"type":"float"}}}}"#,
        "application/json",
    );
    assert_eq!(status, 200, "{body}");
    let server = ours(&osmem);
    let theirs = FastMcp::start(&osmem);
    let http = reqwest::Client::new();
    let our_url = server.mcp_url();

    // serverInfo.name
    let init = |url: String| {
        let http = http.clone();
        async move {
            let r = mcp_post(&http, &url, &initialize_request(1), None, &[]).await;
            r.message.expect("initialize reply")["result"]["serverInfo"]["name"].clone()
        }
    };
    assert_eq!(
        init(our_url.clone()).await,
        init(theirs.mcp_url.clone()).await
    );
    assert_eq!(init(our_url.clone()).await, "OpenSearch MCP Server");

    // list_indices: one text block, byte for byte; the same structuredContent.
    let call = json!({"name": "list_indices", "arguments": {}});
    let a = rpc(&http, &our_url, "tools/call", call.clone()).await;
    let b = rpc(&http, &theirs.mcp_url, "tools/call", call.clone()).await;
    let text = |r: &Value| {
        r["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(a["content"].as_array().map(Vec::len), Some(1), "{a}");
    assert_eq!(b["content"].as_array().map(Vec::len), Some(1), "{b}");
    assert_eq!(text(&a), text(&b), "the text blocks differ");
    assert!(
        text(&a).starts_with(r#"{"success":true,"indices":[{"index":"#),
        "{}",
        text(&a)
    );
    assert_eq!(a["structuredContent"], b["structuredContent"]);
    assert_eq!(
        a["structuredContent"]["indices"].as_array().map(Vec::len),
        Some(2)
    );
    assert_ne!(a["isError"], json!(true));
    assert_eq!(b["isError"], json!(false));

    // Health: the user's values.
    // Our health answers from a probe at most one second old (so health hits cannot hammer
    // OpenSearch): let the probe from before the stop expire.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let ha = health(&http, &server.url(HEALTH_PATH)).await;
    let hb = health(&http, &theirs.health_url).await;
    assert_eq!(
        user_visible(&ha),
        user_visible(&hb),
        "ours {ha}\ntheirs {hb}"
    );
    assert_eq!(ha["opensearch"]["status"], "connected");
    assert_eq!(ha["mode"], "stateless", "our extra fields stay");

    // config://opensearch
    let read = json!({"uri": "config://opensearch"});
    let ca = rpc(&http, &our_url, "resources/read", read.clone()).await;
    let cb = rpc(&http, &theirs.mcp_url, "resources/read", read).await;
    let config = |r: &Value| -> Value {
        serde_json::from_str(r["contents"][0]["text"].as_str().unwrap_or("null")).unwrap()
    };
    assert_eq!(config(&ca), config(&cb), "ours {ca}\ntheirs {cb}");

    // OpenSearch gone: the same failure body; isError is the documented difference.
    osmem.stop();
    let a = rpc(&http, &our_url, "tools/call", call.clone()).await;
    let b = rpc(&http, &theirs.mcp_url, "tools/call", call).await;
    for (who, r) in [("ours", &a), ("theirs", &b)] {
        let body: Value = serde_json::from_str(&text(r)).unwrap_or(Value::Null);
        assert_eq!(body["success"], false, "{who}: {r}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("OpenSearch error: ")),
            "{who}: {r}"
        );
        assert_eq!(r["structuredContent"], body, "{who}: {r}");
    }
    assert_eq!(a["isError"], true);
    assert_eq!(b["isError"], false);
    // Our health answers from a probe at most one second old (so health hits cannot hammer
    // OpenSearch): let the probe from before the stop expire.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let ha = health(&http, &server.url(HEALTH_PATH)).await;
    let hb = health(&http, &theirs.health_url).await;
    for h in [&ha, &hb] {
        assert_eq!(h["status"], "healthy", "{h}");
        assert_eq!(h["service"], "OpenSearch MCP Server", "{h}");
        assert_eq!(h["opensearch"]["status"], "error", "{h}");
        assert!(h["opensearch"]["error"].is_string(), "{h}");
    }
}
