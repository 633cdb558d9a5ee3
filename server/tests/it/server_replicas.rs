//! Story: the user's bug. Several replicas behind a load balancer without affinity: a stateful
//! server answers 404 "Session not found" when a request reaches a replica that did not create
//! the session; the stateless server never fails. Also: the official Python MCP SDK client works.

use crate::{common, server_support};

use std::process::Command;

use common::{venv_bin, workspace_root, Osmem};
use serde_json::{json, Value};
use server_support::{initialize_request, mcp_post, Reply, Server, MCP_PATH};

/// A client whose every HTTP request goes to the next replica (round robin, no affinity),
/// like an ALB without sticky sessions.
struct RoundRobinClient {
    http: reqwest::Client,
    urls: Vec<String>,
    next: usize,
    session: Option<String>,
}

/// How one initialize → initialized → tools/list → tools/call round went.
enum Round {
    Ok,
    Failed(String),
}

impl RoundRobinClient {
    fn new(urls: Vec<String>) -> Self {
        RoundRobinClient {
            http: reqwest::Client::new(),
            urls,
            next: 0,
            session: None,
        }
    }

    async fn post(&mut self, body: Value) -> Reply {
        let url = self.urls[self.next % self.urls.len()].clone();
        self.next += 1;
        let reply = mcp_post(&self.http, &url, &body, self.session.as_deref(), &[]).await;
        if let Some(s) = &reply.session {
            self.session = Some(s.clone());
        }
        reply
    }

    /// One full client round; the first failing step ends it.
    async fn round(&mut self, n: u64) -> Round {
        self.session = None;
        let init = self.post(initialize_request(n * 10)).await;
        if init.status != 200
            || init
                .message
                .as_ref()
                .and_then(|m| m.get("result"))
                .is_none()
        {
            return Round::Failed(format!("initialize: HTTP {} {}", init.status, init.body));
        }
        let notified = self
            .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        if notified.status != 202 {
            return Round::Failed(format!(
                "notifications/initialized: HTTP {} {}",
                notified.status, notified.body
            ));
        }
        let list = self
            .post(json!({"jsonrpc": "2.0", "id": n * 10 + 1, "method": "tools/list"}))
            .await;
        let listed = list
            .message
            .as_ref()
            .and_then(|m| m.pointer("/result/tools"))
            .and_then(Value::as_array)
            .map(|t| t.len())
            .unwrap_or(0);
        if list.status != 200 || listed != 16 {
            return Round::Failed(format!("tools/list: HTTP {} {}", list.status, list.body));
        }
        let called = self
            .post(
                json!({"jsonrpc": "2.0", "id": n * 10 + 2, "method": "tools/call",
                "params": {"name": "list_indices", "arguments": {}}}),
            )
            .await;
        let text = called
            .message
            .as_ref()
            .and_then(|m| m.pointer("/result/content/0/text"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if called.status != 200 || !text.contains("\"index\":\"movies\"") {
            return Round::Failed(format!(
                "tools/call list_indices: HTTP {} {}",
                called.status, called.body
            ));
        }
        Round::Ok
    }
}

fn three_replicas(osmem: &Osmem, env: &[(&str, &str)]) -> Vec<Server> {
    (0..3).map(|_| Server::start(&osmem.url, env)).collect()
}

fn requests_served(server: &Server) -> usize {
    server
        .log_text()
        .lines()
        .filter(|l| l.contains("\"message\":\"request\"") && l.contains("\"method\":\"POST\""))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_replicas_never_fail_without_affinity() {
    let osmem = Osmem::start_with_movies();
    let replicas = three_replicas(&osmem, &[]);
    let mut client = RoundRobinClient::new(replicas.iter().map(|s| s.mcp_url()).collect());
    let rounds = 40;
    let mut failures = Vec::new();
    for n in 0..rounds {
        if let Round::Failed(why) = client.round(n).await {
            failures.push(why);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {rounds} rounds failed, first: {}",
        failures.len(),
        failures[0]
    );
    // Every replica took its share of the 160 requests: no affinity was needed.
    for (i, r) in replicas.iter().enumerate() {
        let served = requests_served(r);
        assert!(served >= 50, "replica {i} served only {served} requests");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateful_replicas_answer_session_not_found_without_affinity() {
    let osmem = Osmem::start_with_movies();
    let replicas = three_replicas(&osmem, &[("MCP_STATELESS", "false")]);

    // With affinity (every request to one replica) stateful mode works: the failure below is
    // the missing affinity, not a broken server.
    let mut sticky = RoundRobinClient::new(vec![replicas[0].mcp_url()]);
    for n in 0..3 {
        if let Round::Failed(why) = sticky.round(n).await {
            panic!("a sticky client failed against one stateful replica: {why}");
        }
    }

    // Without affinity: the session is created on one replica, the next request lands on another.
    let mut client = RoundRobinClient::new(replicas.iter().map(|s| s.mcp_url()).collect());
    let rounds = 6;
    let mut not_found = 0;
    for n in 0..rounds {
        match client.round(n).await {
            Round::Ok => {}
            Round::Failed(why) => {
                assert!(why.contains("HTTP 404"), "unexpected failure: {why}");
                assert!(
                    why.contains("Session not found"),
                    "unexpected failure: {why}"
                );
                not_found += 1;
            }
        }
    }
    assert_eq!(
        not_found, rounds,
        "every round should hit a replica that does not know the session"
    );
    let (status, body) = {
        // And the failure is exactly the user's: HTTP 404 "Session not found".
        let http = reqwest::Client::new();
        let init = mcp_post(
            &http,
            &replicas[0].mcp_url(),
            &initialize_request(1),
            None,
            &[],
        )
        .await;
        let session = init.session.expect("a stateful server issues a session id");
        let other = mcp_post(
            &http,
            &replicas[1].mcp_url(),
            &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
            Some(&session),
            &[],
        )
        .await;
        (other.status, other.body)
    };
    assert_eq!(status, 404);
    assert!(body.contains("Session not found"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_protocol_clients_get_no_session_even_from_a_stateful_server() {
    // rmcp follows the 2026-07-28 revision, which removed sessions: a request carrying that
    // version's per-request metadata is served without a session whatever MCP_STATELESS says.
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_STATELESS", "false")]);
    let http = reqwest::Client::new();
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
    "name": "count", "arguments": {"index": "movies"},
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    }}});
    let reply = mcp_post(
        &http,
        &server.mcp_url(),
        &body,
        None,
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "count"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.session.is_none());
    let text = reply.message.unwrap()["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("\"count\":12"), "{text}");
}

fn python_interop(url: &str) -> Value {
    let out = Command::new(venv_bin("python"))
        .arg(workspace_root().join("tests/python/mcp_interop.py"))
        .arg(url)
        .output()
        .expect("run the Python MCP SDK client");
    assert!(
        out.status.success(),
        "Python MCP SDK client failed against {url}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "interop output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn the_official_python_sdk_client_interoperates() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_PATH_ALIASES", "/ossserver")]);
    // The stateless path and the alias the old production path maps to.
    for path in [MCP_PATH, "/ossserver/ossmcp"] {
        let v = python_interop(&server.url(path));
        assert_eq!(v["server_name"], "OpenSearch MCP Server", "{v}");
        assert!(
            v["protocol_version"].as_str().unwrap().starts_with("20"),
            "{v}"
        );
        assert_eq!(v["tools"].as_array().unwrap().len(), 16, "{v}");
        assert_eq!(v["list_indices"]["is_error"], false, "{v}");
        // One text block with {"success": true, "indices": [...]}, as the user's server sends it.
        let body: Value =
            serde_json::from_str(v["list_indices"]["text"][0].as_str().unwrap()).unwrap();
        let movies = &body["indices"][0];
        assert_eq!(movies["index"], "movies");
        assert_eq!(movies["docs.count"], "12");
        assert_eq!(v["search_index"]["is_error"], false, "{v}");
        let hits: Value =
            serde_json::from_str(v["search_index"]["text"][0].as_str().unwrap()).unwrap();
        assert_eq!(hits["hits"]["hits"][0]["_source"]["title"], "Heat");
        assert_eq!(v["missing_index"]["is_error"], true, "{v}");
        assert!(v["missing_index"]["text"][0]
            .as_str()
            .unwrap()
            .contains("index_not_found_exception"));
    }
}
