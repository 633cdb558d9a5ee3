//! Story: operating `opensearch-mcp-server`. OpenSearch going away or hanging gives tool errors
//! within OPENSEARCH_TIMEOUT while health stays 200 (503 only with `?strict=true`); bad
//! environment values stop start-up naming the variable; SIGTERM lets requests in flight finish;
//! `--check-health` answers for the container health check.

use crate::{common, server_support};

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, server_bin, Osmem};
use serde_json::{json, Value};
use server_support::{
    call, err_text, initialize_request, mcp_post, ok_json, rmcp_client, Server, HEALTH_PATH,
};

/// An "OpenSearch" that accepts connections and never answers (a hung cluster).
struct BlackHole {
    url: String,
    _listener: TcpListener,
}

impl BlackHole {
    fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // The kernel completes handshakes into the backlog; nobody ever reads or writes.
        BlackHole {
            url,
            _listener: listener,
        }
    }
}

async fn health(server: &Server, query: &str) -> (u16, Value, Duration) {
    let start = Instant::now();
    let r = reqwest::Client::new()
        .get(server.url(&format!("{HEALTH_PATH}{query}")))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap(), start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opensearch_stopping_mid_run_gives_tool_errors_and_health_stays_up() {
    let mut osmem = Osmem::start_with_movies();
    let server = Server::start(
        &osmem.url,
        &[("OPENSEARCH_TIMEOUT", "3"), ("OPENSEARCH_MAX_RETRIES", "2")],
    );
    let client = rmcp_client(&server.mcp_url()).await;
    let v = ok_json(&call(&client, "count", json!({"index": "movies"})).await);
    assert_eq!(v["count"], 12);

    osmem.stop();

    for (tool, args) in [
        ("list_indices", json!({})),
        ("search_index", json!({"index": "movies"})),
        ("cluster_health", json!({})),
    ] {
        let start = Instant::now();
        let msg = err_text(&call(&client, tool, args).await);
        // list_indices answers as the user's server does: {"success":false,"error":"OpenSearch error: ..."}.
        let said = if tool == "list_indices" {
            "{\"success\":false,\"error\":\"OpenSearch error: ".to_string()
        } else {
            format!("{tool} failed")
        };
        assert!(msg.contains(&said), "{msg}");
        assert!(msg.contains("cannot reach OpenSearch"), "{msg}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{tool} took {:?}",
            start.elapsed()
        );
    }
    // Health answers from a probe at most one second old (so health hits cannot hammer
    // OpenSearch): let any probe from before the stop expire.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body, _) = health(&server, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["status"], "healthy",
        "the process is up, as the user's server says"
    );
    assert_eq!(body["opensearch"]["status"], "error");
    assert!(
        body["opensearch"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{body}"
    );
    let (status, body, _) = health(&server, "?strict=true").await;
    assert_eq!(status, 503, "{body}");

    // The MCP side keeps serving what needs no cluster.
    assert_eq!(client.list_tools(None).await.unwrap().tools.len(), 16);
    client.cancel().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_opensearch_is_cut_off_at_opensearch_timeout() {
    let hole = BlackHole::start();
    let server = Server::start(&hole.url, &[("OPENSEARCH_TIMEOUT", "1.5")]);
    let client = rmcp_client(&server.mcp_url()).await;
    let start = Instant::now();
    let msg = err_text(&call(&client, "list_indices", json!({})).await);
    let took = start.elapsed();
    assert!(msg.contains("did not answer within 1.5s"), "{msg}");
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(4),
        "took {took:?}"
    );

    // Health answers 200 quickly (its probe has its own short deadline).
    let (status, body, took) = health(&server, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["opensearch"]["status"], "error");
    assert!(took < Duration::from_secs(4), "health took {took:?}");
    client.cancel().await.ok();
}

/// Run the binary with `env` (and nothing else), bounded; (exit code, stderr).
fn run_with_env(env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(server_bin())
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child.stderr.take().unwrap().read_to_string(&mut err).ok();
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
fn bad_environment_values_stop_startup_naming_the_variable() {
    let cases: &[(&str, &str)] = &[
        ("MCP_PORT", "98x98"),
        ("MCP_STATELESS", "sometimes"),
        ("MCP_PATH", "no-leading-slash"),
        ("MCP_ALLOWED_HOSTS", "bad host"),
        ("MCP_MAX_BODY_BYTES", "lots"),
        ("OPENSEARCH_HOST", "ftp://search.example.com"),
        ("OPENSEARCH_PORT", "70000"),
        ("OPENSEARCH_USE_SSL", "perhaps"),
        ("OPENSEARCH_USE_IAM", "maybe"),
        ("OPENSEARCH_TIMEOUT", "0"),
        ("OPENSEARCH_MAX_RESULTS", "-3"),
        ("OPENSEARCH_MAX_RETRIES", "lots"),
        ("OPENSEARCH_SERVICE", "lambda"),
    ];
    for (var, value) in cases {
        let (code, err) = run_with_env(&[(var, value)], &[]);
        assert_eq!(code, Some(2), "{var}={value}: {err}");
        assert!(
            err.contains("configuration error") && err.contains(var) && err.contains(value),
            "{var}={value}: {err}"
        );
    }
    // A password without a user names what is missing, and never prints the password.
    let (code, err) = run_with_env(&[("OPENSEARCH_PASSWORD", "hunter2-secret")], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("OPENSEARCH_USERNAME") && !err.contains("hunter2-secret"),
        "{err}"
    );
    // IAM without a region: exit 1 saying what to set.
    let (code, err) = run_with_env(
        &[
            ("OPENSEARCH_USE_IAM", "true"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent"),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("OPENSEARCH_USE_IAM") && err.contains("AWS_REGION"),
        "{err}"
    );
    // A port already taken: exit 1 naming MCP_HOST/MCP_PORT.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, err) = run_with_env(&[("MCP_HOST", "127.0.0.1"), ("MCP_PORT", &port)], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("MCP_PORT"), "{err}");
    // Unknown arguments: usage, exit 2.
    let (code, err) = run_with_env(&[], &["--bogus"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--check-health"), "{err}");
}

fn sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM {pid}");
}

/// Wait (bounded) for the server process to exit; its exit code.
fn wait_exit(server: &mut Server, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = server.guard.child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "the server did not exit within {within:?}; log:\n{}",
        server.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_requests_in_flight_finish_then_exits() {
    // A hung cluster makes a tool call take OPENSEARCH_TIMEOUT (2 s): SIGTERM arrives mid-call.
    let hole = BlackHole::start();
    let mut server = Server::start(
        &hole.url,
        &[("OPENSEARCH_TIMEOUT", "2"), ("MCP_SHUTDOWN_TIMEOUT", "10")],
    );
    let url = server.mcp_url();
    let in_flight = tokio::spawn(async move {
        let http = reqwest::Client::new();
        mcp_post(
            &http,
            &url,
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "list_indices", "arguments": {}}}),
            None,
            &[],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let signalled = Instant::now();
    sigterm(server.guard.pid());

    let reply = in_flight.await.unwrap();
    assert_eq!(
        reply.status, 200,
        "the request in flight completed: {}",
        reply.body
    );
    let result = &reply.message.unwrap()["result"];
    assert_eq!(result["isError"], true);
    assert!(result["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("did not answer"));

    let code = tokio::task::block_in_place(|| wait_exit(&mut server, Duration::from_secs(8)));
    assert_eq!(code, Some(0));
    assert!(
        signalled.elapsed() < Duration::from_secs(6),
        "{:?}",
        signalled.elapsed()
    );
    let log = server.log_text();
    assert!(
        log.contains("\"shutdown started\"") && log.contains("\"signal\":\"SIGTERM\""),
        "{log}"
    );
    assert!(log.contains("\"shutdown complete\""), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_not_held_up_by_open_session_streams_in_stateful_mode() {
    let osmem = Osmem::start_with_movies();
    let mut server = Server::start(
        &osmem.url,
        &[("MCP_STATELESS", "false"), ("MCP_SHUTDOWN_TIMEOUT", "20")],
    );
    let http = reqwest::Client::new();
    let init = mcp_post(&http, &server.mcp_url(), &initialize_request(1), None, &[]).await;
    let session = init.session.expect("stateful mode issues a session");
    // A client's standalone SSE stream stays open until the server ends it.
    let stream = http
        .get(server.mcp_url())
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let signalled = Instant::now();
    sigterm(server.guard.pid());
    let code = tokio::task::block_in_place(|| wait_exit(&mut server, Duration::from_secs(10)));
    assert_eq!(code, Some(0));
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "shutdown waited for the stream: {:?}",
        signalled.elapsed()
    );
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_health_flag_answers_for_the_container() {
    let mut osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[("MCP_PATH", "/custom/mcp")]);
    let port = server.port.to_string();
    let env = [("MCP_PORT", port.as_str()), ("MCP_PATH", "/custom/mcp")];
    let (code, err) = run_with_env(&env, &["--check-health"]);
    assert_eq!(code, Some(0), "{err}");
    // The process stays healthy while OpenSearch is away (no restart loops).
    osmem.stop();
    let (code, err) = run_with_env(&env, &["--check-health"]);
    assert_eq!(code, Some(0), "{err}");
    // Nothing listening: unhealthy.
    let idle = free_port().to_string();
    let (code, err) = run_with_env(&[("MCP_PORT", idle.as_str())], &["--check-health"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("unhealthy"), "{err}");
}
