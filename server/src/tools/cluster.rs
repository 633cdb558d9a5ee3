//! Cluster tools: cluster_health, get_cluster_state, cat_nodes, get_nodes, get_allocation,
//! get_long_running_tasks.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::Value;

use super::{backend_error, get_json, json_result, non_empty, paths, respond, McpServer};

/// Cluster state metrics OpenSearch accepts.
const STATE_METRICS: [&str; 9] = [
    "_all",
    "version",
    "master_node",
    "cluster_manager_node",
    "nodes",
    "routing_table",
    "routing_nodes",
    "metadata",
    "blocks",
];

/// Arguments of `cluster_health`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ClusterHealthArgs {
    /// Health of only this index or pattern; the whole cluster when omitted.
    pub index: Option<String>,
}

/// Arguments of `get_cluster_state`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ClusterStateArgs {
    /// Only these parts, comma-separated: version, cluster_manager_node, nodes, routing_table,
    /// routing_nodes, metadata, blocks (all when omitted).
    pub metric: Option<String>,
    /// Limit metadata and routing to this index or pattern (needs `metric`).
    pub index: Option<String>,
}

/// Arguments of `get_nodes`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct NodesArgs {
    /// Node ids or names, comma-separated (e.g. `_local`); all nodes when omitted.
    pub node_id: Option<String>,
    /// Only these info groups, comma-separated (e.g. `os,jvm,plugins`); all when omitted.
    pub metric: Option<String>,
}

/// Arguments of `get_long_running_tasks`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct LongRunningTasksArgs {
    /// How many tasks to return, longest-running first (default 10).
    pub limit: Option<u32>,
}

/// Sort `_cat/tasks` rows longest-running first (earliest `start_time`) and keep `limit`.
pub fn longest_running(mut rows: Vec<Value>, limit: usize) -> Vec<Value> {
    let start = |r: &Value| -> u64 {
        match r.get("start_time") {
            Some(Value::String(s)) => s.parse().unwrap_or(u64::MAX),
            Some(Value::Number(n)) => n.as_u64().unwrap_or(u64::MAX),
            _ => u64::MAX,
        }
    };
    rows.sort_by_key(start);
    rows.truncate(limit);
    rows
}

#[tool_router(router = cluster_router, vis = "pub(super)")]
impl McpServer {
    /// Cluster health: status, nodes, shards.
    #[tool(
        description = "Get cluster health (status green/yellow/red, node and shard counts), optionally for one index or pattern.",
        annotations(read_only_hint = true)
    )]
    pub async fn cluster_health(
        &self,
        Parameters(args): Parameters<ClusterHealthArgs>,
    ) -> CallToolResult {
        let path = paths::cluster_health(non_empty(args.index).as_deref());
        get_json(self.backend(), "cluster_health", path, &[]).await
    }

    /// Cluster state, optionally some metrics only.
    #[tool(
        description = "Get the cluster state (nodes, routing table, metadata, blocks), optionally only some `metric` parts and one index.",
        annotations(read_only_hint = true)
    )]
    pub async fn get_cluster_state(
        &self,
        Parameters(args): Parameters<ClusterStateArgs>,
    ) -> CallToolResult {
        // Spaces after commas are accepted and dropped, as before.
        let metric = non_empty(args.metric).map(|m| m.replace(' ', ""));
        let index = non_empty(args.index);
        if let Some(m) = &metric {
            if let Some(bad) = m.split(',').find(|p| !STATE_METRICS.contains(p)) {
                return super::tool_error(format!(
                    "'{bad}' is not a cluster state metric; use some of {}",
                    STATE_METRICS.join(", ")
                ));
            }
        }
        let path = paths::cluster_state(metric.as_deref(), index.as_deref());
        get_json(self.backend(), "get_cluster_state", path, &[]).await
    }

    /// One line per node: name, ip, roles, heap, cpu, load.
    #[tool(
        description = "List nodes (_cat/nodes): name, ip, roles, cluster manager, heap and RAM use, CPU, load.",
        annotations(read_only_hint = true)
    )]
    pub async fn cat_nodes(&self) -> CallToolResult {
        respond(
            "cat_nodes",
            self.backend()
                .get("_cat/nodes", &[("format", "json")])
                .await,
        )
    }

    /// Detailed node information (_nodes).
    #[tool(
        description = "Get detailed node information (_nodes): version, roles, OS, JVM, plugins; optionally for some nodes and `metric` groups.",
        annotations(read_only_hint = true)
    )]
    pub async fn get_nodes(&self, Parameters(args): Parameters<NodesArgs>) -> CallToolResult {
        let path = paths::nodes(
            non_empty(args.node_id).as_deref(),
            non_empty(args.metric).as_deref(),
        );
        get_json(self.backend(), "get_nodes", path, &[]).await
    }

    /// Disk allocation per node.
    #[tool(
        description = "Show shard allocation and disk use per node (_cat/allocation): shards, disk used/available/total, percent.",
        annotations(read_only_hint = true)
    )]
    pub async fn get_allocation(&self) -> CallToolResult {
        respond(
            "get_allocation",
            self.backend()
                .get("_cat/allocation", &[("format", "json")])
                .await,
        )
    }

    /// The tasks that have been running longest.
    #[tool(
        description = "List the longest-running tasks in the cluster (_cat/tasks, detailed), longest first, at most `limit` (default 10).",
        annotations(read_only_hint = true)
    )]
    pub async fn get_long_running_tasks(
        &self,
        Parameters(args): Parameters<LongRunningTasksArgs>,
    ) -> CallToolResult {
        let limit = args.limit.unwrap_or(10).clamp(1, 1000) as usize;
        match self
            .backend()
            .get("_cat/tasks", &[("format", "json"), ("detailed", "true")])
            .await
        {
            Ok(Value::Array(rows)) => json_result(&Value::Array(longest_running(rows, limit))),
            Ok(other) => json_result(&other),
            Err(e) => backend_error("get_long_running_tasks", e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn longest_running_first() {
        let rows = vec![
            json!({"task_id": "b", "start_time": "200"}),
            json!({"task_id": "a", "start_time": "100"}),
            json!({"task_id": "c", "start_time": "300"}),
        ];
        let out = longest_running(rows, 2);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["task_id"], "a");
        assert_eq!(out[1]["task_id"], "b");
    }
}
