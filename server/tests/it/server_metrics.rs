//! Story: with `MCP_METRICS_NAMESPACE` the server's request log lines are CloudWatch Embedded
//! Metric Format documents (checked against the specification by testkit's checker): calls and
//! latency per service, tool and outcome. A tool the server does not have is counted as
//! `unknown`, so callers cannot mint new (billed) metrics. Without the namespace no line has
//! `_aws`.

use crate::{common, server_support};

use std::time::{Duration, Instant};

use common::{emf, Osmem};
use serde_json::{json, Value};
use server_support::{initialize_request, mcp_post, Server};

fn call(id: u64, tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": {}}})
}

/// The log lines with `_aws`, once `want` of them are there (the line is written when the body
/// is done, just after the client has it).
fn emf_lines(server: &Server, want: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<Value> = server
            .log_text()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("_aws").is_some())
            .collect();
        if lines.len() >= want || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn traffic(server: &Server) {
    let http = reqwest::Client::new();
    let url = server.mcp_url();
    assert_eq!(
        mcp_post(&http, &url, &initialize_request(1), None, &[])
            .await
            .status,
        200
    );
    let ok = mcp_post(&http, &url, &call(2, "list_indices"), None, &[]).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let long = "x".repeat(3000);
    let bad = mcp_post(&http, &url, &call(3, &long), None, &[]).await;
    assert_eq!(bad.status, 200, "{}", bad.body);
    // Health is not an MCP request: no metrics line.
    let h = http
        .get(server.url("/ossserver-stateless/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_lines_are_emf_documents_with_bounded_dimensions() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_METRICS_NAMESPACE", "OpenSearchMCP"),
            ("MCP_METRICS_SERVICE", "opensearch-mcp-server-stateless"),
        ],
    );
    traffic(&server).await;
    let lines = emf_lines(&server, 3);
    assert_eq!(lines.len(), 3, "{}", server.log_text());
    for l in &lines {
        emf::check(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert_eq!(
            l["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "OpenSearchMCP"
        );
        assert_eq!(l["service"], "opensearch-mcp-server-stateless");
        assert_eq!(l["Calls"], 1);
        assert!(l["Latency"].as_f64().unwrap() >= 0.0);
        assert_eq!(l["message"], "request");
    }
    let dims: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["tool"].as_str().unwrap().into(),
                l["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        dims.contains(&("initialize".into(), "ok".into())),
        "{dims:?}"
    );
    assert!(
        dims.contains(&("list_indices".into(), "ok".into())),
        "{dims:?}"
    );
    let unknown = lines
        .iter()
        .find(|l| l["tool"] == "unknown")
        .expect("the unknown tool");
    assert_ne!(unknown["outcome"], "ok");
    // The caller's name is kept for debugging, cut short, outside the dimensions.
    assert_eq!(unknown["requested_tool"].as_str().unwrap().len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_namespace_no_line_carries_metrics() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    traffic(&server).await;
    std::thread::sleep(Duration::from_millis(300));
    let text = server.log_text();
    assert!(text.contains("\"message\":\"request\""), "{text}");
    assert!(!text.contains("_aws"), "{text}");
}
