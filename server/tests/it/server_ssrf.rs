//! Story (issue 9, items 1, 2 and 7): no tool argument can send a request, or the OpenSearch
//! credentials, anywhere but the configured OpenSearch API paths; bad OPENSEARCH_* values stop
//! the server at start-up.
//!
//! A capture listener on 127.0.0.1 stands for the attacker's host: every attack names it in
//! every scheme spelling, and the test asserts that no connection ever reached it.

use crate::{common, server_support};

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{server_bin, Osmem};
use serde_json::{json, Value};
use server_support::capture::Capture;
use server_support::{call, err_text, ok_json, rmcp_client, Server};

/// The tools of the issue, with arguments that put `index` in the path.
fn index_calls(index: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("search_index", json!({"index": index})),
        ("count", json!({"index": index})),
        (
            "explain",
            json!({"index": index, "id": "1", "query": {"match_all": {}}}),
        ),
        ("get_index_mapping", json!({"index": index})),
        ("get_index_info", json!({"index": index})),
        ("get_index_stats", json!({"index": index})),
        // And every other tool that takes an index.
        ("list_indices", json!({"index": index})),
        ("get_shards", json!({"index": index})),
        ("get_segments", json!({"index": index})),
        ("cluster_health", json!({"index": index})),
        (
            "get_cluster_state",
            json!({"metric": "metadata", "index": index}),
        ),
        (
            "msearch",
            json!({"searches": [{"index": index, "query": {"match_all": {}}}]}),
        ),
    ]
}

/// Every spelling of "another host" in an index argument.
fn attacker_indices(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for scheme in [
        "http:", "HTTP:", "https:", "ftp:", "http://", "//", "hTtP:/",
    ] {
        out.push(format!("{scheme}127.0.0.1:{port}"));
        out.push(format!("{scheme}127.0.0.1:{port}/x"));
    }
    out.push(format!("127.0.0.1:{port}"));
    out.push(format!("..%2F..%2F127.0.0.1:{port}"));
    out.push(format!("http%3A127.0.0.1:{port}"));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_arguments_cannot_reach_another_host() {
    let osmem = Osmem::start_with_movies();
    let attacker = Capture::start();
    let creds = [
        ("OPENSEARCH_USERNAME", "admin"),
        ("OPENSEARCH_PASSWORD", "S3cret-PW-ssrf"),
    ];
    // OpenSearch on plain HTTP (osmem), and on HTTPS that is not there (the repro).
    let on_osmem = Server::start(&osmem.url, &creds);
    let on_https = Server::start("https://127.0.0.1:1", &creds);
    for server in [&on_osmem, &on_https] {
        let client = rmcp_client(&server.mcp_url()).await;
        for index in attacker_indices(attacker.port) {
            for (tool, args) in index_calls(&index) {
                let r = call(&client, tool, args).await;
                let msg = err_text(&r);
                assert!(
                    msg.contains("not a valid index name"),
                    "{tool} {index}: {msg}"
                );
            }
        }
        client.cancel().await.ok();
    }
    // Give any stray connection time to land, then check none did.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        attacker.connections(),
        0,
        "a request reached the attacker's listener: {}",
        attacker.sent_text()
    );
    // The server on osmem still works.
    let client = rmcp_client(&on_osmem.mcp_url()).await;
    let v = ok_json(&call(&client, "count", json!({"index": "movies"})).await);
    assert_eq!(v["count"], 12);
    client.cancel().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_do_not_escape_their_api() {
    let osmem = Osmem::start_with_movies();
    // A relay in front of osmem records the request lines the server sends.
    let relay = Capture::start_relay(Some(osmem.port));
    let server = Server::start(&relay.url, &[]);
    let client = rmcp_client(&server.mcp_url()).await;
    let before = relay.request_lines().len();

    for (tool, args, what) in [
        (
            "get_nodes",
            json!({"node_id": "..", "metric": "_refresh"}),
            "node id",
        ),
        ("get_nodes", json!({"node_id": "."}), "node id"),
        ("get_nodes", json!({"metric": ".."}), "metric"),
        (
            "get_index_stats",
            json!({"index": "movies", "metric": ".."}),
            "metric",
        ),
        (
            "explain",
            json!({"index": "movies", "id": "..", "query": {"match_all": {}}}),
            "document id",
        ),
        (
            "explain",
            json!({"index": "movies", "id": ".", "query": {"match_all": {}}}),
            "document id",
        ),
        ("get_index_info", json!({"index": ".."}), "index name"),
    ] {
        let msg = err_text(&call(&client, tool, args.clone()).await);
        assert!(msg.contains(what), "{tool} {args}: {msg}");
    }
    assert_eq!(
        relay.request_lines().len(),
        before,
        "a refused argument was sent: {:?}",
        relay.request_lines()
    );

    // Encoded dots are just characters of one id: the request stays on movies/_explain.
    for id in ["%2e%2e", "%2E%2E", "..%2f_refresh", "a/../../_refresh"] {
        let r = call(
            &client,
            "explain",
            json!({"index": "movies", "id": id, "query": {"match_all": {}}}),
        )
        .await;
        let text = server_support::text(&r);
        // osmem: no such document (a tool error or matched: false), never another API's answer.
        assert!(
            text.contains("not_found") || text.contains("\"matched\":false"),
            "{id}: {text}"
        );
    }
    let lines = relay.request_lines();
    let sent: Vec<&String> = lines[before..].iter().collect();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(
        sent[0], "POST /movies/_explain/%252e%252e HTTP/1.1",
        "{sent:?}"
    );
    assert_eq!(sent[2], "POST /movies/_explain/..%252f_refresh HTTP/1.1");
    assert_eq!(
        sent[3],
        "POST /movies/_explain/a%2F..%2F..%2F_refresh HTTP/1.1"
    );
    for line in &lines {
        assert!(
            // The encoded arguments end in `_refresh` inside one segment; the refresh API
            // itself would be a path segment of its own.
            !line.contains("/_refresh ") && !line.starts_with("GET /_flush"),
            "{line}"
        );
    }
    client.cancel().await.ok();
}

/// Run the binary with `env` only, bounded; (exit code, stderr).
fn run_with_env(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = Command::new(server_bin())
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            use std::io::Read;
            if let Some(mut e) = child.stderr.take() {
                e.read_to_string(&mut err).ok();
            }
            return (status.code(), err);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("opensearch-mcp-server with {env:?} did not exit within 10s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_opensearch_values_stop_startup_naming_the_variable() {
    for (var, value) in [
        ("OPENSEARCH_HOST", "localhost:notaport"),
        ("OPENSEARCH_HOST", "http://localhost:"),
        ("OPENSEARCH_HOST", "localhost:0"),
        ("OPENSEARCH_DEFAULT_INDEX", "../_cluster"),
        ("OPENSEARCH_DEFAULT_INDEX", "http:evil"),
        ("OPENSEARCH_DEFAULT_INDEX", "a/b"),
        ("OPENSEARCH_ALLOW_SCRIPTS", "sometimes"),
        ("MCP_MAX_RESPONSE_BYTES", "huge"),
    ] {
        let (code, err) =
            run_with_env(&[("MCP_HOST", "127.0.0.1"), ("MCP_PORT", "1"), (var, value)]);
        assert_eq!(code, Some(2), "{var}={value}: {err}");
        assert!(
            err.contains("configuration error") && err.contains(var) && err.contains(value),
            "{var}={value}: {err}"
        );
    }
}
