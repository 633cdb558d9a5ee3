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

/// The `h=` column list of the user's server's `_cat/indices` request (the same fields, in order).
const LIST_INDICES_COLUMNS: &str = "index,docs.count,docs.deleted,store.size,health,status";

/// One `_cat/indices` row reduced to the six fields, in their order (fields the cluster did not
/// send are left out, as they would be in the user's server's answer).
fn list_indices_row(row: &Value) -> serde_json::Map<String, Value> {
    LIST_INDICES_FIELDS
        .iter()
        .filter_map(|f| row.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect()
}

/// A JSON object written compactly with its keys in `order` (what pydantic's `to_json` does for a
/// Python dict); written by hand because `serde_json` maps may sort their keys.
fn compact_object(fields: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (key, json)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(*key).to_string());
        out.push(':');
        out.push_str(json);
    }
    out.push('}');
    out
}

/// The compact JSON text of `{"success": true, "indices": [...]}`, rows' keys in field order,
/// written into one string (each row's six fields looked up once, no intermediate strings).
pub fn list_indices_text(rows: &[Value]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(32 + rows.len() * 160);
    out.push_str(r#"{"success":true,"indices":["#);
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        let mut first = true;
        for f in LIST_INDICES_FIELDS {
            if let Some(v) = row.get(f) {
                if !first {
                    out.push(',');
                }
                first = false;
                // The field names are plain ASCII: quoted as JSON without escapes.
                let _ = write!(out, "\"{f}\":{v}");
            }
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// The `list_indices` result exactly as the user's FastMCP 2.12 server sends it: one text block
/// holding the compact JSON of `{"success": true, "indices": [...]}`, and the same object as
/// `structuredContent`.
pub fn list_indices_result(rows: &[Value]) -> CallToolResult {
    let indices: Vec<Value> = rows
        .iter()
        .map(|r| Value::Object(list_indices_row(r)))
        .collect();
    let mut result = CallToolResult::success(vec![ContentBlock::text(list_indices_text(rows))]);
    let mut structured = serde_json::Map::new();
    structured.insert("success".into(), Value::Bool(true));
    structured.insert("indices".into(), Value::Array(indices));
    result.structured_content = Some(Value::Object(structured));
    result
}

/// A failed `list_indices`: the user's server's body `{"success": false, "error": "OpenSearch
/// error: ..."}` as text and `structuredContent`, with `isError: true` (the one documented
/// difference: the MCP specification asks tools to flag failures).
pub fn list_indices_failure(message: &str) -> CallToolResult {
    let text = compact_object(&[
        ("success", "false".to_string()),
        ("error", Value::from(message).to_string()),
    ]);
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = Some(serde_json::json!({"success": false, "error": message}));
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
        description = "List indices: {\"success\": true, \"indices\": [...]} with index, docs.count, docs.deleted, store.size, health and status of each (all strings); {\"success\": false, \"error\": ...} on failure.",
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
        let query = [("h", LIST_INDICES_COLUMNS), ("format", "json")];
        match self.backend().get(path, &query).await {
            Ok(Value::Array(rows)) => list_indices_result(&rows),
            Ok(other) => list_indices_failure(&format!(
                "Unexpected error: {}",
                BackendError::BadResponse(format!("expected a JSON array, got {other}"))
            )),
            Err(e) => list_indices_failure(&format!("OpenSearch error: {e}")),
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
    fn list_indices_has_the_fastmcp_2_12_shape() {
        let row = json!({"health":"yellow","status":"open","index":"movies","uuid":"u","pri":"1","rep":"1",
            "docs.count":"12","docs.deleted":"0","store.size":"1.5kb","pri.store.size":"1.5kb"});
        // Byte for byte what FastMCP 2.12 (pydantic_core.to_json, compact) sends for this dict.
        let expected_row = "{\"index\":\"movies\",\"docs.count\":\"12\",\"docs.deleted\":\"0\",\"store.size\":\"1.5kb\",\"health\":\"yellow\",\"status\":\"open\"}";
        assert_eq!(
            list_indices_text(&[row.clone(), row.clone()]),
            format!("{{\"success\":true,\"indices\":[{expected_row},{expected_row}]}}")
        );
        // A field the cluster did not send is left out; values are escaped as JSON.
        let odd = json!({"status":"open","index":"a\"b\\c","health":null,"docs.count":"1"});
        assert_eq!(
            list_indices_text(&[odd]),
            r#"{"success":true,"indices":[{"index":"a\"b\\c","docs.count":"1","health":null,"status":"open"}]}"#
        );
        let r = list_indices_result(&[row]);
        assert_eq!(r.content.len(), 1, "one text block");
        assert_ne!(r.is_error, Some(true));
        let s = r.structured_content.unwrap();
        assert_eq!(s["success"], true);
        assert_eq!(s["indices"][0].as_object().unwrap().len(), 6);
        assert_eq!(s["indices"][0]["store.size"], "1.5kb");
        let empty = list_indices_result(&[]);
        assert_eq!(
            empty.content[0].as_text().unwrap().text,
            "{\"success\":true,\"indices\":[]}"
        );
        assert_eq!(
            empty.structured_content.unwrap(),
            json!({"success": true, "indices": []})
        );
    }

    #[test]
    fn list_indices_failure_is_the_same_body_with_is_error() {
        let r = list_indices_failure("OpenSearch error: connection refused \"x\"");
        assert_eq!(r.is_error, Some(true));
        assert_eq!(
            r.content[0].as_text().unwrap().text,
            "{\"success\":false,\"error\":\"OpenSearch error: connection refused \\\"x\\\"\"}"
        );
        assert_eq!(r.structured_content.unwrap()["success"], false);
    }
}
