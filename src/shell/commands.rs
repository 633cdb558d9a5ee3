//! What each shell command does, over the probe's MCP client ([`McpHttp`], which sees every
//! response header, so `replicas` can show `X-Served-By`). Each command returns the text to
//! print, or an error message; the loop in `mod.rs` prints them and counts failures.

use std::fmt::Write;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

use super::arguments::{missing_required, parse_answer, Missing};
use super::completion::ToolNames;
use super::format::{health_summary, indices_table, result_text};
use super::replicas::ReplicaLog;
use super::stress;
use crate::probe::check::one_line;
use crate::probe::driver::{McpHttp, Reply, Session};
use crate::probe::outcome::{Failure, OutcomeKind};

/// Asks the person at the terminal for a value; `None` when there is nobody to ask, or they
/// cancelled (Ctrl-C, Ctrl-D).
pub trait Ask {
    /// Show `prompt` and read one answer.
    fn ask(&mut self, prompt: &str) -> Option<String>;
}

/// How the shell reaches the server.
pub struct Endpoint {
    /// The MCP client (with the bearer token and `--header`s).
    pub client: McpHttp,
    /// The health URL.
    pub health_url: reqwest::Url,
    /// `--header`s, also sent to the health URL.
    pub headers: HeaderMap,
    /// Limit for each request.
    pub timeout: Duration,
}

/// The shell's state: the session, the tools seen, the replicas that answered.
pub struct Shell {
    endpoint: Endpoint,
    http: reqwest::Client,
    session: Option<Session>,
    tools: Option<Vec<Value>>,
    tool_names: ToolNames,
    replicas: ReplicaLog,
}

impl Shell {
    /// A shell over `endpoint`; `tool_names` is shared with the tab completion.
    pub fn new(endpoint: Endpoint, tool_names: ToolNames) -> Result<Shell, String> {
        let http = reqwest::Client::builder()
            .timeout(endpoint.timeout)
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(Shell {
            endpoint,
            http,
            session: None,
            tools: None,
            tool_names,
            replicas: ReplicaLog::default(),
        })
    }

    /// Open the session (initialize + initialized) unless one is open.
    pub async fn ensure_session(&mut self) -> Result<Session, String> {
        if let Some(s) = &self.session {
            return Ok(s.clone());
        }
        let client = &self.endpoint.client;
        let session = client.initialize().await.map_err(|f| {
            self.replicas.record(f.served_by.clone());
            format!("initialize: {f}")
        })?;
        self.replicas.record(session.served_by.clone());
        client
            .initialized(&session)
            .await
            .map_err(|f| format!("notifications/initialized: {f}"))?;
        self.session = Some(session.clone());
        Ok(session)
    }

    /// The tools (`tools/list`, fetched once).
    pub async fn ensure_tools(&mut self) -> Result<Vec<Value>, String> {
        if let Some(t) = &self.tools {
            return Ok(t.clone());
        }
        let session = self.ensure_session().await?;
        let reply = self
            .endpoint
            .client
            .request(Some(&session), "tools/list", serde_json::json!({}))
            .await;
        let reply = self.note(reply)?;
        let tools = reply
            .result
            .get("tools")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Ok(mut names) = self.tool_names.lock() {
            *names = tools
                .iter()
                .filter_map(tool_name)
                .map(str::to_string)
                .collect();
        }
        self.tools = Some(tools.clone());
        Ok(tools)
    }

    /// `health`: the health endpoint's verdict and body.
    pub async fn health(&mut self) -> Result<String, String> {
        let url = self.endpoint.health_url.clone();
        let resp = self
            .http
            .get(url.clone())
            .headers(self.endpoint.headers.clone())
            .send()
            .await
            .map_err(|e| format!("GET {url}: {}", crate::error::source_chain(&e)))?;
        let status = resp.status();
        self.replicas
            .record(crate::probe::driver::served_by(resp.headers()));
        let body = resp
            .text()
            .await
            .map_err(|e| format!("GET {url}: reading the body: {e}"))?;
        let parsed: Option<Value> = serde_json::from_str(&body).ok();
        let summary = parsed.as_ref().map(health_summary).unwrap_or_default();
        let text = format!(
            "GET {url}: HTTP {}{summary}\n{}",
            status.as_u16(),
            parsed
                .as_ref()
                .and_then(|v| serde_json::to_string_pretty(v).ok())
                .unwrap_or_else(|| one_line(&body, 400))
        );
        let cluster_error = parsed
            .as_ref()
            .and_then(|v| v.pointer("/opensearch/status"))
            .and_then(Value::as_str)
            == Some("error");
        if status.is_success() && !cluster_error {
            Ok(text)
        } else {
            Err(text)
        }
    }

    /// `tools`: one line per tool.
    pub async fn tools(&mut self) -> Result<String, String> {
        let tools = self.ensure_tools().await?;
        let mut out = format!("{} tools:", tools.len());
        for t in &tools {
            let desc = t.get("description").and_then(Value::as_str).unwrap_or("");
            let _ = write!(
                out,
                "\n  {:<22} {}",
                tool_name(t).unwrap_or("?"),
                one_line(desc, 90)
            );
        }
        Ok(out)
    }

    /// `describe TOOL`: description, input schema, annotations.
    pub async fn describe(&mut self, tool: &str) -> Result<String, String> {
        let t = self.find_tool(tool).await?;
        let pretty = |v: Option<&Value>| {
            v.and_then(|v| serde_json::to_string_pretty(v).ok())
                .unwrap_or_else(|| "none".into())
        };
        Ok(format!(
            "{tool}\n  {}\ninput schema:\n{}\nannotations:\n{}",
            t.get("description").and_then(Value::as_str).unwrap_or(""),
            pretty(t.get("inputSchema")),
            pretty(t.get("annotations"))
        ))
    }

    /// The required arguments of `tool` that `given` lacks.
    pub async fn missing(
        &mut self,
        tool: &str,
        given: &Map<String, Value>,
    ) -> Result<Vec<Missing>, String> {
        let t = self.find_tool(tool).await?;
        let schema = t
            .get("inputSchema")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Ok(missing_required(&schema, given))
    }

    /// `call TOOL [JSON]`: ask for the missing required arguments (if someone can answer),
    /// then call and print the result (JSON text pretty-printed).
    pub async fn call(
        &mut self,
        tool: &str,
        mut arguments: Map<String, Value>,
        ask: &mut dyn Ask,
    ) -> Result<String, String> {
        let missing = self.missing(tool, &arguments).await?;
        for m in missing {
            let value = loop {
                let Some(answer) = ask.ask(&m.prompt()) else {
                    return Err(format!(
                        "{tool} needs the argument {:?} ({}); give it in the JSON, e.g. call {tool} {{\"{}\": ...}}",
                        m.name, m.kind, m.name
                    ));
                };
                match parse_answer(&m.kind, &answer) {
                    Ok(v) => break v,
                    Err(e) => eprintln!("{}: {e}", m.name),
                }
            };
            arguments.insert(m.name, value);
        }
        let reply = self.call_tool(tool, Value::Object(arguments)).await?;
        Ok(result_text(&reply.result))
    }

    /// `list`: `list_indices` as a table.
    pub async fn list(&mut self) -> Result<String, String> {
        let reply = self
            .call_tool("list_indices", Value::Object(Map::new()))
            .await?;
        let body = reply.result.get("structuredContent").cloned().or_else(|| {
            let text = reply.result.pointer("/content/0/text")?.as_str()?;
            serde_json::from_str(text).ok()
        });
        match body {
            Some(b) if b.get("success") == Some(&Value::Bool(false)) => Err(format!(
                "list_indices: {}",
                b.get("error").and_then(Value::as_str).unwrap_or("failed")
            )),
            Some(b) if b.get("indices").is_some_and(Value::is_array) => Ok(indices_table(
                b["indices"].as_array().map(Vec::as_slice).unwrap_or(&[]),
            )),
            _ => Ok(result_text(&reply.result)),
        }
    }

    /// `stress N`: N concurrent `list_indices` calls on this shell's session.
    pub async fn stress(&mut self, n: usize) -> Result<String, String> {
        let session = self.ensure_session().await?;
        let r = stress::run(&self.endpoint.client, &session, "list_indices", n).await;
        for a in &r.answers {
            self.replicas.record(a.clone());
        }
        if r.tally.count(OutcomeKind::SessionNotFound) > 0 {
            self.session = None;
        }
        let text = stress::text(&r);
        if r.passed() {
            Ok(text)
        } else {
            Err(text)
        }
    }

    /// `session`: what `initialize` negotiated.
    pub async fn session(&mut self) -> Result<String, String> {
        let s = self.ensure_session().await?;
        Ok(format!(
            "server: {}\nprotocol version: {}\nsession id: {}\ninitialize answered by: {}",
            s.server,
            s.protocol_version,
            s.id.as_deref()
                .unwrap_or("none (the server is stateless: it issued no Mcp-Session-Id)"),
            s.served_by
                .as_deref()
                .unwrap_or("unknown (no X-Served-By header)")
        ))
    }

    /// `replicas`: who answered the last calls.
    pub fn replicas(&self) -> String {
        self.replicas.text()
    }

    async fn find_tool(&mut self, tool: &str) -> Result<Value, String> {
        let tools = self.ensure_tools().await?;
        tools
            .into_iter()
            .find(|t| tool_name(t) == Some(tool))
            .ok_or_else(|| format!("the server has no tool {tool:?}; type tools for the list"))
    }

    async fn call_tool(&mut self, tool: &str, arguments: Value) -> Result<Reply, String> {
        let session = self.ensure_session().await?;
        let answer = self
            .endpoint
            .client
            .call_tool(&session, tool, &arguments)
            .await;
        self.note(answer).map_err(|e| format!("{tool}: {e}"))
    }

    /// Record who answered; forget a session the server lost.
    fn note(&mut self, answer: Result<Reply, Failure>) -> Result<Reply, String> {
        match answer {
            Ok(reply) => {
                self.replicas.record(reply.served_by.clone());
                Ok(reply)
            }
            Err(f) => {
                self.replicas.record(f.served_by.clone());
                if f.kind == OutcomeKind::SessionNotFound {
                    self.session = None;
                    return Err(format!(
                        "{f} — this replica does not know the session (a new one opens with \
                         the next command)"
                    ));
                }
                Err(f.to_string())
            }
        }
    }
}

fn tool_name(t: &Value) -> Option<&str> {
    t.get("name").and_then(Value::as_str)
}
