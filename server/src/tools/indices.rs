//! Index tools: list_indices, get_index_mapping, get_index_info, get_index_stats, get_shards,
//! get_segments.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::Value;

use super::{get_json, non_empty, path_error, paths, McpServer};
use crate::opensearch::path::IndexRule;
use crate::opensearch::BackendError;

/// The fields (and their order) the Python server returned for each index.
pub const LIST_INDICES_FIELDS: [&str; 6] = [
    "index",
    "docs.count",
    "docs.deleted",
    "store.size",
    "health",
    "status",
];

/// Arguments of `list_indices`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ListIndicesArgs {
    /// Only indices matching this name or pattern (e.g. `logs-*`); all indices when omitted.
    pub index: Option<String>,
}

/// Arguments naming one index (or pattern); `OPENSEARCH_DEFAULT_INDEX` when omitted.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct IndexArgs {
    /// Index name or pattern. Defaults to OPENSEARCH_DEFAULT_INDEX.
    pub index: Option<String>,
}

/// Arguments of `get_index_stats`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct IndexStatsArgs {
    /// Index name or pattern. Defaults to OPENSEARCH_DEFAULT_INDEX.
    pub index: Option<String>,
    /// Only these stats groups, comma-separated (e.g. `docs,store,search`); all when omitted.
    pub metric: Option<String>,
}

/// Arguments of `get_shards` and `get_segments`: an optional filter, no default index.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct OptionalIndexArgs {
    /// Only this index or pattern; every index when omitted.
    pub index: Option<String>,
}

/// One index as the Python FastMCP server rendered it: a JSON object of the six fields, in
/// order, indented by two spaces (pydantic's `to_json(indent=2)`). Written by hand because
/// `serde_json` maps sort their keys.
pub fn list_indices_text(row: &Value) -> String {
    let mut out = String::from("{\n");
    for (j, field) in LIST_INDICES_FIELDS.iter().enumerate() {
        if j > 0 {
            out.push_str(",\n");
        }
        let value = row.get(*field).unwrap_or(&Value::Null);
        out.push_str("  ");
        out.push_str(&Value::from(*field).to_string());
        out.push_str(": ");
        out.push_str(&value.to_string());
    }
    out.push_str("\n}");
    out
}

/// The `list_indices` result exactly as the Python FastMCP server sent it for a tool returning a
/// list of dicts: one text block per index, and `structuredContent` `{"result": [...]}`.
pub fn list_indices_result(rows: &[Value]) -> CallToolResult {
    let content = rows
        .iter()
        .map(|r| ContentBlock::text(list_indices_text(r)))
        .collect();
    let structured: Vec<Value> = rows
        .iter()
        .map(|r| {
            Value::Object(
                LIST_INDICES_FIELDS
                    .iter()
                    .map(|f| (f.to_string(), r.get(*f).cloned().unwrap_or(Value::Null)))
                    .collect(),
            )
        })
        .collect();
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(serde_json::json!({ "result": structured }));
    result
}

impl McpServer {
    /// A `_cat/{api}[/{index}]?format=json` call answered as the tool's result.
    async fn cat_json(
        &self,
        tool: &str,
        api: &'static str,
        index: Option<String>,
    ) -> CallToolResult {
        let path = paths::cat(api, non_empty(index).as_deref());
        get_json(self.backend(), tool, path, &[("format", "json")]).await
    }
}

#[tool_router(router = indices_router, vis = "pub(super)")]
impl McpServer {
    /// List indices with their document counts, size, health and status.
    #[tool(
        description = "List indices: for each, index, docs.count, docs.deleted, store.size, health, status (one JSON text block per index, as the Python server returned them).",
        annotations(read_only_hint = true)
    )]
    pub async fn list_indices(
        &self,
        Parameters(args): Parameters<ListIndicesArgs>,
    ) -> CallToolResult {
        let path = match paths::cat("indices", non_empty(args.index).as_deref()) {
            Ok(p) => p,
            Err(e) => return path_error(e),
        };
        match self.backend().get(path, &[("format", "json")]).await {
            Ok(Value::Array(rows)) => list_indices_result(&rows),
            Ok(other) => super::backend_error(
                "list_indices",
                BackendError::BadResponse(format!("expected a JSON array, got {other}")),
            ),
            Err(e) => super::backend_error("list_indices", e),
        }
    }

    /// The mapping (field names and types) of an index.
    #[tool(
        description = "Get the mapping (fields and their types) of an index. `index` defaults to OPENSEARCH_DEFAULT_INDEX.",
        annotations(read_only_hint = true)
    )]
    pub async fn get_index_mapping(
        &self,
        Parameters(args): Parameters<IndexArgs>,
    ) -> CallToolResult {
        let index = match self.index_or_default(args.index, IndexRule::Pattern) {
            Ok(i) => i,
            Err(e) => return e,
        };
        let path = paths::on_index(index.as_str(), "_mapping");
        get_json(self.backend(), "get_index_mapping", path, &[]).await
    }

    /// Settings, mappings and aliases of an index.
    #[tool(
        description = "Get an index's settings, mappings and aliases. `index` defaults to OPENSEARCH_DEFAULT_INDEX.",
        annotations(read_only_hint = true)
    )]
    pub async fn get_index_info(&self, Parameters(args): Parameters<IndexArgs>) -> CallToolResult {
        let index = match self.index_or_default(args.index, IndexRule::Pattern) {
            Ok(i) => i,
            Err(e) => return e,
        };
        let path = paths::index_info(index.as_str());
        get_json(self.backend(), "get_index_info", path, &[]).await
    }

    /// Statistics of an index (docs, store, indexing, search...).
    #[tool(
        description = "Get index statistics (docs, store, indexing, search, ...), optionally only some `metric` groups. `index` defaults to OPENSEARCH_DEFAULT_INDEX.",
        annotations(read_only_hint = true)
    )]
    pub async fn get_index_stats(
        &self,
        Parameters(args): Parameters<IndexStatsArgs>,
    ) -> CallToolResult {
        let index = match self.index_or_default(args.index, IndexRule::Pattern) {
            Ok(i) => i,
            Err(e) => return e,
        };
        let path = paths::index_stats(index.as_str(), non_empty(args.metric).as_deref());
        get_json(self.backend(), "get_index_stats", path, &[]).await
    }

    /// Shards: which node holds each primary and replica, state, docs and size.
    #[tool(
        description = "List shards (index, shard, primary/replica, state, docs, store, node), optionally for one index or pattern.",
        annotations(read_only_hint = true)
    )]
    pub async fn get_shards(
        &self,
        Parameters(args): Parameters<OptionalIndexArgs>,
    ) -> CallToolResult {
        self.cat_json("get_shards", "shards", args.index).await
    }

    /// Lucene segments per shard.
    #[tool(
        description = "List Lucene segments per shard (docs, size, committed, searchable), optionally for one index or pattern.",
        annotations(read_only_hint = true)
    )]
    pub async fn get_segments(
        &self,
        Parameters(args): Parameters<OptionalIndexArgs>,
    ) -> CallToolResult {
        self.cat_json("get_segments", "segments", args.index).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_indices_has_the_python_fastmcp_shape() {
        let row = json!({"health":"yellow","status":"open","index":"movies","uuid":"u","pri":"1","rep":"1",
            "docs.count":"12","docs.deleted":"0","store.size":"1.5kb","pri.store.size":"1.5kb"});
        // Byte for byte what FastMCP (pydantic_core.to_json(indent=2)) sent for this index.
        assert_eq!(
            list_indices_text(&row),
            "{\n  \"index\": \"movies\",\n  \"docs.count\": \"12\",\n  \"docs.deleted\": \"0\",\n  \"store.size\": \"1.5kb\",\n  \"health\": \"yellow\",\n  \"status\": \"open\"\n}"
        );
        let r = list_indices_result(&[row.clone(), row]);
        assert_eq!(r.content.len(), 2, "one block per index");
        let s = r.structured_content.unwrap();
        assert_eq!(s["result"].as_array().unwrap().len(), 2);
        assert_eq!(s["result"][0].as_object().unwrap().len(), 6);
        assert_eq!(s["result"][0]["store.size"], "1.5kb");
        let empty = list_indices_result(&[]);
        assert!(empty.content.is_empty());
        assert_eq!(empty.structured_content.unwrap(), json!({"result": []}));
    }
}
