//! The ready document `mcpctl local` writes (`--ready-file`, `--output json`) and prints: the
//! router, each stack's URLs and replicas, OpenSearch, the logs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::router::STATUS_PATH;
use super::targets::{TargetGroup, TargetStatus};
use super::LocalStack;

/// The ready document (`--ready-file`, `--output json`): what scripts need — the router, each
/// stack's URLs and replicas, OpenSearch, the logs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    /// `http://127.0.0.1:PORT`.
    pub router: String,
    /// The router's replica status page.
    pub status_url: String,
    /// Each stack.
    pub stacks: Vec<ReadyStack>,
    /// The OpenSearch URL the replicas use.
    pub opensearch: String,
    /// True when `local` started osmem-server for it.
    pub opensearch_started: bool,
    /// Where the logs are.
    pub logs_dir: PathBuf,
    /// mcpctl's process id.
    pub pid: u32,
}

/// One stack in the [`Ready`] document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadyStack {
    /// The stack's name.
    pub name: String,
    /// Its MCP URL through the router (`None` without `MCP_PATH`).
    pub mcp_url: Option<String>,
    /// Its health URL through the router.
    pub health_url: String,
    /// The path patterns routed to it.
    pub path_patterns: Vec<String>,
    /// Its replicas.
    pub replicas: Vec<TargetStatus>,
}

/// Where everything runs, for the [`Ready`] document.
pub(super) struct Running<'a> {
    /// The stacks, in order.
    pub stacks: &'a [LocalStack],
    /// Their target groups, in the same order.
    pub groups: &'a [Arc<TargetGroup>],
    /// The router's port on 127.0.0.1.
    pub router_port: u16,
    /// The OpenSearch the replicas use.
    pub opensearch_url: &'a reqwest::Url,
    /// True when `local` started osmem-server.
    pub opensearch_started: bool,
    /// The logs directory.
    pub logs: &'a Path,
}

/// The document for the running stacks.
pub(super) fn ready_document(r: &Running<'_>) -> Ready {
    let base = format!("http://127.0.0.1:{}", r.router_port);
    let groups = r.groups;
    let stacks = r
        .stacks
        .iter()
        .zip(groups)
        .map(|(s, g)| ReadyStack {
            name: s.name.clone(),
            mcp_url: s.mcp_path().map(|p| format!("{base}{p}")),
            health_url: format!("{base}{}", s.health.path),
            path_patterns: s.path_patterns.clone(),
            replicas: g.status(),
        })
        .collect();
    Ready {
        status_url: format!("{base}{STATUS_PATH}"),
        router: base,
        stacks,
        opensearch: r.opensearch_url.as_str().trim_end_matches('/').to_string(),
        opensearch_started: r.opensearch_started,
        logs_dir: r.logs.to_path_buf(),
        pid: std::process::id(),
    }
}

/// The document as people read it.
pub(super) fn ready_text(ready: &Ready) -> String {
    let mut out = String::new();
    for s in &ready.stacks {
        let ports: Vec<String> = s.replicas.iter().map(|r| r.port.to_string()).collect();
        out.push_str(&format!(
            "{}: {}\n  health {}  ({} replicas on 127.0.0.1 ports {})\n",
            s.name,
            s.mcp_url
                .as_deref()
                .unwrap_or("(no MCP_PATH in the stack env)"),
            s.health_url,
            ports.len(),
            ports.join(", ")
        ));
    }
    let os = &ready.opensearch;
    if ready.opensearch_started {
        out.push_str(&format!(
            "opensearch: {os} (osmem-server, sample index `movies`)\n"
        ));
    } else {
        out.push_str(&format!("opensearch: {os}\n"));
    }
    out.push_str(&format!(
        "replica status: {}\nlogs: {}\nready (Ctrl-C to stop)\n",
        ready.status_url,
        ready.logs_dir.display()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_text_reads_the_typed_document() {
        let ready = Ready {
            router: "http://127.0.0.1:8080".into(),
            status_url: "http://127.0.0.1:8080/_mcpctl/targets".into(),
            stacks: vec![ReadyStack {
                name: "stateless".into(),
                mcp_url: None,
                health_url: "http://127.0.0.1:8080/h".into(),
                path_patterns: vec!["/x/*".into()],
                replicas: vec![TargetStatus {
                    port: 4001,
                    pid: 7,
                    health: super::super::targets::Health::Healthy,
                    reason: "200".into(),
                    requests: 0,
                }],
            }],
            opensearch: "http://127.0.0.1:9200".into(),
            opensearch_started: true,
            logs_dir: "/tmp/logs".into(),
            pid: 1,
        };
        let text = ready_text(&ready);
        assert!(text.starts_with(
            "stateless: (no MCP_PATH in the stack env)\n  health http://127.0.0.1:8080/h  (1 replicas on 127.0.0.1 ports 4001)\n"
        ), "{text}");
        assert!(text.contains("(osmem-server, sample index `movies`)"));
        // The document round-trips (scripts read it back).
        let json = serde_json::to_string(&ready).unwrap();
        let back: Ready = serde_json::from_str(&json).unwrap();
        assert_eq!(back.stacks[0].replicas[0].port, 4001);
    }
}
