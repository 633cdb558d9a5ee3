//! The functional probe behind `mcpctl verify URL` and `mcpctl call`: an rmcp client that checks
//! health, initializes, lists the tools and calls each read-only one, timing every step.

use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    ProtocolVersion, Tool,
};
use rmcp::service::{ClientInitializeError, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpError,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde::Serialize;
use serde_json::Value;

use super::arguments::{arguments_for, Hints};
use super::driver::McpHttp;
use super::endpoint::health_url;
use super::outcome::{Failure, OutcomeKind};
use crate::error::source_chain;

/// How to reach the endpoint.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The MCP endpoint.
    pub url: reqwest::Url,
    /// Health URL (default: the MCP path's sibling `health`).
    pub health_url: Option<reqwest::Url>,
    /// Protocol version to ask for in `initialize`.
    pub protocol_version: String,
    /// Limit for each step.
    pub timeout: Duration,
    /// Bearer token, if the server wants one.
    pub bearer: Option<String>,
    /// Extra headers on every request (`--header`).
    pub headers: reqwest::header::HeaderMap,
}

/// One step of the probe and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// What was checked (`health`, `initialize`, `tools/list`, `tools/call NAME`).
    pub name: String,
    /// `pass`, `fail` or `skip`.
    pub status: StepStatus,
    /// How long it took, in milliseconds.
    pub millis: f64,
    /// What was seen: a summary on success, the reason on failure.
    pub detail: String,
}

/// The verdict of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// It worked.
    Pass,
    /// It did not.
    Fail,
    /// Not attempted (e.g. a tool not marked read-only).
    Skip,
}

/// The whole probe.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// The endpoint probed.
    pub url: String,
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// True when no step failed.
    pub passed: bool,
}

/// An initialized rmcp client session.
pub type McpClient = RunningService<RoleClient, ClientConfig>;

/// Connect with rmcp: `initialize` + `notifications/initialized` over streamable HTTP. Expired
/// sessions are reported, not silently re-created.
pub async fn connect(opts: &ProbeOptions) -> Result<McpClient, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(opts.url.as_str())
        .reinit_on_expired_session(false);
    if let Some(token) = &opts.bearer {
        config = config.auth_header(token.clone());
    }
    if !opts.headers.is_empty() {
        config = config.custom_headers(
            opts.headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let version: ProtocolVersion =
        serde_json::from_value(Value::String(opts.protocol_version.clone()))
            .map_err(|e| format!("bad protocol version {:?}: {e}", opts.protocol_version))?;
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("mcpctl", env!("CARGO_PKG_VERSION")),
    )
    .with_protocol_version(version);
    match tokio::time::timeout(opts.timeout, info.serve(transport)).await {
        Err(_) => Err(format!("no answer within {:?}", opts.timeout)),
        Ok(Err(e)) => {
            let (text, cannot_connect) = match &e {
                ClientInitializeError::TransportError { error, .. } => {
                    transport_error_text(error.error.as_ref())
                }
                other => (other.to_string(), false),
            };
            let url = &opts.url;
            let message = if cannot_connect {
                format!("{text} — is the server running, and is the host and port of {url} right?")
            } else if let Some(found) = diagnose(opts).await {
                found
            } else {
                format!("{text} — is {url} an MCP streamable HTTP endpoint?")
            };
            Err(one_line(&message, 400))
        }
        Ok(Ok(client)) => Ok(client),
    }
}

/// Replay the handshake with the precise driver to say which request failed and how (rmcp
/// often reports only "Transport channel closed"). Tries a few times: behind a load balancer
/// the failure may depend on which replica answers.
async fn diagnose(opts: &ProbeOptions) -> Option<String> {
    let driver = McpHttp::new(
        reqwest::Client::new(),
        opts.url.clone(),
        &opts.protocol_version,
        opts.timeout,
        opts.bearer.clone(),
    )
    .with_headers(opts.headers.clone());
    for _ in 0..3 {
        let session = match driver.initialize().await {
            Ok(s) => s,
            Err(f) => return Some(format!("initialize: {f}{}", hint_for(&f))),
        };
        let failed = match driver.initialized(&session).await {
            Err(f) => Some(("notifications/initialized", f)),
            Ok(()) => driver
                .list_tools(&session)
                .await
                .err()
                .map(|f| ("tools/list", f)),
        };
        driver.close(&session).await;
        if let Some((method, f)) = failed {
            let issued = match &session.id {
                Some(id) => format!(" (after initialize issued session {id})"),
                None => String::new(),
            };
            return Some(format!("{method}{issued}: {f}{}", hint_for(&f)));
        }
    }
    None
}

fn hint_for(f: &Failure) -> &'static str {
    match f.kind {
        OutcomeKind::SessionNotFound => {
            " — the request reached a replica that does not know the session: a stateful MCP \
             server behind a load balancer without session affinity (run it with MCP_STATELESS=true)"
        }
        OutcomeKind::Unauthorized => {
            " — the server wants a valid bearer token: pass --bearer-token-env VAR with the token \
             in $VAR (a 403 means the token lacks a scope the server requires)"
        }
        OutcomeKind::BadResponse | OutcomeKind::HttpError => {
            " — is this URL an MCP streamable HTTP endpoint?"
        }
        _ => "",
    }
}

/// Call one tool; `Err` is a transport or JSON-RPC failure, a tool error is `Ok` with `is_error`.
pub async fn call(
    client: &McpClient,
    tool: &str,
    arguments: Value,
    timeout: Duration,
) -> Result<CallToolResult, String> {
    let mut params = CallToolRequestParams::new(tool.to_string());
    params.arguments = match arguments {
        Value::Object(map) => Some(map),
        Value::Null => None,
        other => return Err(format!("tool arguments must be a JSON object, got {other}")),
    };
    match tokio::time::timeout(timeout, client.call_tool(params)).await {
        Err(_) => Err(format!("no answer within {timeout:?}")),
        Ok(Err(ServiceError::TransportSend(e))) => Err(transport_error_text(e.error.as_ref()).0),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(result)) => Ok(result),
    }
}

/// The text blocks of a tool result, joined.
pub fn result_text(result: &CallToolResult) -> String {
    let texts: Vec<String> = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    if texts.is_empty() {
        if let Some(s) = &result.structured_content {
            return s.to_string();
        }
    }
    texts.join("\n")
}

/// Run every step against the endpoint. Never panics; each failure is a failed step.
pub async fn probe(opts: &ProbeOptions) -> ProbeReport {
    let mut steps = Vec::new();
    steps.push(check_health(opts).await);

    let started = Instant::now();
    let client = match connect(opts).await {
        Ok(client) => {
            let detail = match client.peer_info() {
                Some(info) => format!(
                    "{} {}, protocol {}",
                    info.server_info
                        .as_ref()
                        .map(|i| i.name.as_str())
                        .unwrap_or("server"),
                    info.server_info
                        .as_ref()
                        .map(|i| i.version.as_str())
                        .unwrap_or(""),
                    info.protocol_version
                ),
                None => "initialized".to_string(),
            };
            steps.push(step("initialize", StepStatus::Pass, started, detail));
            client
        }
        Err(e) => {
            steps.push(step("initialize", StepStatus::Fail, started, e));
            return finish(opts, steps);
        }
    };

    let started = Instant::now();
    let tools = match tokio::time::timeout(opts.timeout, client.list_all_tools()).await {
        Ok(Ok(tools)) => {
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
            let detail = format!("{} tools: {}", tools.len(), names.join(", "));
            steps.push(step("tools/list", StepStatus::Pass, started, detail));
            tools
        }
        Ok(Err(e)) => {
            steps.push(step("tools/list", StepStatus::Fail, started, e.to_string()));
            Vec::new()
        }
        Err(_) => {
            let detail = format!("no answer within {:?}", opts.timeout);
            steps.push(step("tools/list", StepStatus::Fail, started, detail));
            Vec::new()
        }
    };

    let mut hints = Hints::default();
    for tool in call_order(&tools) {
        let name = format!("tools/call {}", tool.name);
        if !is_read_only(tool) {
            steps.push(Step {
                name,
                status: StepStatus::Skip,
                millis: 0.0,
                detail: "not marked read-only (annotations.readOnlyHint)".to_string(),
            });
            continue;
        }
        let args = arguments_for(&tool.input_schema, &hints);
        let started = Instant::now();
        match call(&client, &tool.name, args.clone(), opts.timeout).await {
            Ok(result) => {
                let text = result_text(&result);
                if result.is_error == Some(true) {
                    let detail = format!("isError with {args}: {}", one_line(&text, 160));
                    steps.push(step(&name, StepStatus::Fail, started, detail));
                } else {
                    hints.learn_result(&result);
                    let detail = format!("{args} → {}", one_line(&text, 100));
                    steps.push(step(&name, StepStatus::Pass, started, detail));
                }
            }
            Err(e) => steps.push(step(
                &name,
                StepStatus::Fail,
                started,
                format!("{args}: {e}"),
            )),
        }
    }
    let _ = client.cancel().await;
    finish(opts, steps)
}

/// `GET` the health URL; 200 passes.
async fn check_health(opts: &ProbeOptions) -> Step {
    let url = opts
        .health_url
        .clone()
        .unwrap_or_else(|| health_url(&opts.url));
    let started = Instant::now();
    let name = format!("health {}", url.path());
    let http = match reqwest::Client::builder().timeout(opts.timeout).build() {
        Ok(c) => c,
        Err(e) => return step(&name, StepStatus::Fail, started, e.to_string()),
    };
    match http
        .get(url.clone())
        .headers(opts.headers.clone())
        .send()
        .await
    {
        Err(e) => {
            let detail = if e.is_timeout() {
                format!("no answer within {:?}", opts.timeout)
            } else if e.is_connect() {
                format!("cannot connect to {}: {}", url, source_chain(&e))
            } else {
                source_chain(&e)
            };
            step(&name, StepStatus::Fail, started, detail)
        }
        Ok(resp) => {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            let verdict = if status.is_success() {
                StepStatus::Pass
            } else {
                StepStatus::Fail
            };
            step(
                &name,
                verdict,
                started,
                format!("HTTP {} {}", status.as_u16(), one_line(&body, 120)),
            )
        }
    }
}

/// `list_indices` first (it names an index), then search tools (they name a document), then
/// the rest alphabetically.
pub(crate) fn call_order(tools: &[Tool]) -> Vec<&Tool> {
    let rank = |t: &Tool| match t.name.as_ref() {
        n if n.contains("list_indices") => 0,
        n if n.contains("search") => 1,
        _ => 2,
    };
    let mut sorted: Vec<&Tool> = tools.iter().collect();
    sorted.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.name.cmp(&b.name)));
    sorted
}

/// A tool is called only when the server marks it read-only.
pub(crate) fn is_read_only(tool: &Tool) -> bool {
    tool.annotations
        .as_ref()
        .and_then(|a| a.read_only_hint)
        .unwrap_or(false)
}

fn step(name: &str, status: StepStatus, started: Instant, detail: String) -> Step {
    Step {
        name: name.to_string(),
        status,
        millis: started.elapsed().as_secs_f64() * 1000.0,
        detail,
    }
}

fn finish(opts: &ProbeOptions, steps: Vec<Step>) -> ProbeReport {
    let passed = steps.iter().all(|s| s.status != StepStatus::Fail);
    ProbeReport {
        url: opts.url.to_string(),
        steps,
        passed,
    }
}

/// The text of an rmcp transport error with its causes, and whether it means "cannot connect".
fn transport_error_text(error: &(dyn std::error::Error + Send + Sync + 'static)) -> (String, bool) {
    match error.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
        Some(StreamableHttpError::Client(e)) => (source_chain(e), e.is_connect()),
        _ => (source_chain(error), false),
    }
}

/// Collapse whitespace, replace control characters and cut to `limit` characters.
pub fn one_line(text: &str, limit: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat: String = flat
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    match flat.char_indices().nth(limit) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_flattens_and_cuts() {
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("\u{0}x\u{7}", 10), "?x?");
    }

    #[test]
    fn tools_are_called_list_indices_first_then_search() {
        let tool = |n: &str| Tool::new(n.to_string(), "d", serde_json::Map::new());
        let tools = vec![
            tool("count"),
            tool("search_index"),
            tool("list_indices"),
            tool("cat_nodes"),
        ];
        let order: Vec<&str> = call_order(&tools).iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            order,
            ["list_indices", "search_index", "cat_nodes", "count"]
        );
        assert!(!is_read_only(&tools[0]));
    }
}
