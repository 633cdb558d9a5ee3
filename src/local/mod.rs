//! `mcpctl local`: stacks on this machine, the way the ALB runs them in AWS.
//!
//! * [`supervisor`] starts N replicas of the server per stack (the stack's env, each on its own
//!   port), an `osmem-server` seeded with sample data when no OpenSearch is given, and stops
//!   every child on Ctrl-C / SIGTERM (own process groups, SIGTERM then SIGKILL, and
//!   `PR_SET_PDEATHSIG` so nothing outlives mcpctl).
//! * [`targets`] is the target group: health checks with the stack's thresholds and matcher,
//!   round robin over healthy replicas, a replica that exits deregistered at once (as ECS does).
//! * [`router`] is the listener: each stack's path patterns (`crate::model::path`) like its listener rule,
//!   no session affinity, `/_mcpctl/targets` shows every replica's state.
//! * [`run`] wires them together for `mcpctl local` (started in order by `start`) and writes
//!   the typed [`ready::Ready`] document.

pub mod opensearch;
mod ports;
pub mod ready;
pub mod router;
pub mod run;
mod start;
pub mod supervisor;
pub mod targets;

use crate::stack::Stack;

/// What `local` needs from a stack file.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalStack {
    /// The stack's name (`stateless`).
    pub name: String,
    /// The container environment from the stack file, in order.
    pub env: Vec<(String, String)>,
    /// The listener rule's path patterns (`/ossserver-stateless/*`).
    pub path_patterns: Vec<String>,
    /// The listener rule's priority (lower wins), if the stack sets one.
    pub priority: Option<i32>,
    /// The target group's health check.
    pub health: targets::HealthSettings,
}

impl LocalStack {
    /// The parts of a loaded stack that `local` uses.
    pub fn from_stack(stack: &Stack) -> Result<LocalStack, String> {
        let hc = &stack.health_check;
        Ok(LocalStack {
            name: stack.name.clone(),
            env: stack
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            path_patterns: stack.routing.path_patterns.clone(),
            priority: stack.routing.priority,
            health: targets::HealthSettings {
                path: hc.path.clone(),
                healthy_threshold: hc.healthy_threshold.max(1) as u32,
                unhealthy_threshold: hc.unhealthy_threshold.max(1) as u32,
                matcher: targets::Matcher::parse(&hc.matcher)
                    .map_err(|e| format!("stack {}: health_check.matcher: {e}", stack.name))?,
            },
        })
    }

    /// The MCP path (`MCP_PATH` from the env), where clients connect through the router.
    pub fn mcp_path(&self) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == crate::stack::MCP_PATH_ENV)
            .map(|(_, v)| v.as_str())
    }
}
