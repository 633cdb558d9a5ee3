//! Helpers for the `opensearch-mcp-server` integration tests (`server/tests/server_*.rs`, and
//! the `mcpctl` integration tests in `tests/it/` through `#[path]`): start the server binary
//! on a free port against an osmem, wait for health, talk MCP to it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

pub mod capture;

use crate::common::{free_port, server_bin, ChildGuard};

/// The default MCP path.
pub const MCP_PATH: &str = "/ossserver-stateless/ossmcp";
/// The default health path.
pub const HEALTH_PATH: &str = "/ossserver-stateless/health";

/// A running `opensearch-mcp-server`, killed on drop; its stdout goes to `log`.
pub struct Server {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The process.
    pub guard: ChildGuard,
    /// Its stdout (the JSON request log).
    pub log: PathBuf,
    /// The health path it serves.
    pub health_path: String,
    dir: tempfile::TempDir,
}

impl Server {
    /// Start against `opensearch_url` with extra environment, and wait until health answers.
    /// If the free port was taken by another process meanwhile (tests run in parallel), start
    /// again on another one.
    pub fn start(opensearch_url: &str, env: &[(&str, &str)]) -> Server {
        for _attempt in 0..3 {
            let mut s = Server::spawn(opensearch_url, env);
            if s.wait_healthy(Duration::from_secs(15)) {
                return s;
            }
            let exited = s.guard.child.try_wait().ok().flatten().is_some();
            if exited && s.stderr_text().contains("cannot listen") {
                continue;
            }
            panic!(
                "opensearch-mcp-server did not become healthy on port {}; stderr:\n{}\nlog:\n{}",
                s.port,
                s.stderr_text(),
                s.log_text()
            );
        }
        panic!("opensearch-mcp-server could not get a free port in 3 attempts");
    }

    /// Start without waiting.
    pub fn spawn(opensearch_url: &str, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).expect("log file");
        let err = std::fs::File::create(dir.path().join("server.err")).expect("stderr file");
        let mut cmd = Command::new(server_bin());
        cmd.env_clear()
            .env("MCP_HOST", "127.0.0.1")
            .env("MCP_PORT", port.to_string())
            .env("OPENSEARCH_HOST", opensearch_url)
            .env("OPENSEARCH_TIMEOUT", "5")
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let guard = ChildGuard::spawn("opensearch-mcp-server", &mut cmd);
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        let health_path = get("MCP_HEALTH_PATH").unwrap_or_else(|| match get("MCP_PATH") {
            Some(p) => format!("{}/health", p.rsplit_once('/').map(|x| x.0).unwrap_or("")),
            None => HEALTH_PATH.to_string(),
        });
        Server {
            port,
            health_path,
            base: format!("http://127.0.0.1:{port}"),
            guard,
            log,
            dir,
        }
    }

    /// Poll the health endpoint until it answers 200 (bounded); false if it never does or the
    /// process exits.
    pub fn wait_healthy(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.guard.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if get_status(self.port, &self.health_path) == Some(200) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// What the server wrote to stderr.
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.err")).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The MCP endpoint URL.
    pub fn mcp_url(&self) -> String {
        self.url(MCP_PATH)
    }

    /// What the server printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// `GET path` on 127.0.0.1:port; the status, or `None` if nothing answered properly.
fn get_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// An rmcp client connected to `url`.
pub async fn rmcp_client(url: &str) -> RunningService<RoleClient, ClientConfig> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string()),
    );
    ClientConfig::default()
        .serve(transport)
        .await
        .expect("rmcp client connects and initializes")
}

/// Call `tool` with JSON `args` through `client`.
pub async fn call(
    client: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    args: Value,
) -> CallToolResult {
    let args = match args {
        Value::Object(m) => m,
        Value::Null => Default::default(),
        other => panic!("tool arguments must be an object, got {other}"),
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("tools/call {tool} failed at the protocol level: {e}"))
}

/// The text of a tool result's first content block.
pub fn text(r: &CallToolResult) -> String {
    r.content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_else(|| panic!("tool result has no text content: {r:?}"))
}

/// A successful tool result's text parsed as JSON (panics with the text on `isError`).
pub fn ok_json(r: &CallToolResult) -> Value {
    let t = text(r);
    assert_ne!(r.is_error, Some(true), "tool failed: {t}");
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("tool text is not JSON ({e}): {t}"))
}

/// A failed tool result's message (panics if the tool succeeded).
pub fn err_text(r: &CallToolResult) -> String {
    let t = text(r);
    assert_eq!(r.is_error, Some(true), "expected a tool error, got: {t}");
    t
}

/// What one raw MCP POST got back.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Mcp-Session-Id` response header, if any.
    pub session: Option<String>,
    /// The JSON-RPC message (from a JSON body or the SSE `data:` event), if any.
    pub message: Option<Value>,
    /// The raw body.
    pub body: String,
}

/// The protocol version of the user's clients (sessions exist up to this revision family).
pub const USER_PROTOCOL: &str = "2025-06-18";

/// POST one JSON-RPC message as an MCP client does (Accept both, optional session and version
/// headers, extra headers), and read the reply whether it is JSON or an SSE stream.
pub async fn mcp_post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    session: Option<&str>,
    extra: &[(&str, &str)],
) -> Reply {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    let version_given = extra
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("mcp-protocol-version"));
    if body["method"] != "initialize" && !version_given {
        req = req.header("mcp-protocol-version", USER_PROTOCOL);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let resp = req
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    let session = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let sse = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let text = resp.text().await.unwrap_or_default();
    let message = if sse {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|m| m.get("id").is_some())
    } else {
        serde_json::from_str(&text).ok()
    };
    Reply {
        status,
        session,
        message,
        body: text,
    }
}

/// `initialize` as the user's clients send it.
pub fn initialize_request(id: u64) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": USER_PROTOCOL, "capabilities": {},
        "clientInfo": {"name": "round-robin-test", "version": "1"}}})
}
