//! CloudWatch Embedded Metric Format (EMF) in the request log line: calls and latency per tool
//! become CloudWatch metrics through the log group the task already writes, with no API call.
//! Spec: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>
//!
//! Every distinct dimension value is a billed custom metric, and the tool name comes from the
//! caller: a name the server does not have is counted as `unknown` (and a method it does not
//! know as `other`), so no request can mint new metrics.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::config::metrics::MetricsConfig;

/// The metric of each request's latency, in milliseconds.
pub const LATENCY: &str = "Latency";
/// The metric counting requests (1 per line).
pub const CALLS: &str = "Calls";
/// The dimension keys: every line is counted per service, and per service, tool and outcome.
pub const DIMENSIONS: [&str; 3] = ["service", "tool", "outcome"];

/// MCP methods counted under their own name (other methods: `other`).
const METHODS: [&str; 8] = [
    "initialize",
    "notifications/initialized",
    "ping",
    "tools/list",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "prompts/list",
];

/// Outcomes as the request log names them (anything else: `http_error`).
const OUTCOMES: [&str; 5] = ["ok", "error", "rpc_error", "aborted", "http_error"];

/// EMF settings with the server's tool names.
#[derive(Debug)]
pub struct Emf {
    namespace: String,
    service: String,
    tools: HashSet<String>,
}

impl Emf {
    /// EMF for `config`, counting `tools` (the server's tool names) by name.
    pub fn new(config: &MetricsConfig, tools: impl IntoIterator<Item = String>) -> Emf {
        Emf {
            namespace: config.namespace.clone(),
            service: config.service.clone(),
            tools: tools.into_iter().collect(),
        }
    }

    /// The bounded `tool` dimension: the tool of a `tools/call` if the server has it (else
    /// `unknown`), else the method if it is a known MCP method (else `other`).
    pub fn tool_dimension<'a>(&'a self, rpc_method: &str, tool: Option<&str>) -> &'a str {
        if rpc_method == "tools/call" {
            return tool
                .and_then(|t| self.tools.get(t))
                .map_or("unknown", String::as_str);
        }
        METHODS
            .iter()
            .find(|m| **m == rpc_method)
            .copied()
            .unwrap_or("other")
    }

    /// Add the EMF members to a request log line: `_aws` (timestamp `now_ms`, one directive),
    /// the dimension values and the metric values.
    pub fn annotate(
        &self,
        line: &mut Map<String, Value>,
        rpc_method: &str,
        tool: Option<&str>,
        outcome: &str,
        latency_ms: f64,
        now_ms: u64,
    ) {
        let tool_value = self.tool_dimension(rpc_method, tool);
        let outcome = OUTCOMES
            .iter()
            .find(|o| **o == outcome)
            .copied()
            .unwrap_or("http_error");
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": now_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["service"], DIMENSIONS],
                    "Metrics": [
                        {"Name": LATENCY, "Unit": "Milliseconds"},
                        {"Name": CALLS, "Unit": "Count"}
                    ]
                }]
            }),
        );
        line.insert("service".into(), json!(self.service));
        line.insert("tool".into(), json!(tool_value));
        line.insert("outcome".into(), json!(outcome));
        line.insert(LATENCY.into(), json!(latency_ms));
        line.insert(CALLS.into(), json!(1));
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
