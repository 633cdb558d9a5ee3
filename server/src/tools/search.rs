//! Search tools: search_index, count, explain, msearch.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{guards, path_error, paths, respond, tool_error, McpServer};
use crate::opensearch::path::IndexRule;
use crate::opensearch::{BackendError, RequestBody};

/// Top-level keys of a search request body; an object with none of them is a bare query clause.
const BODY_KEYS: [&str; 14] = [
    "query",
    "aggs",
    "aggregations",
    "sort",
    "_source",
    "size",
    "from",
    "highlight",
    "track_total_hits",
    "post_filter",
    "search_after",
    "fields",
    "collapse",
    "explain",
];

/// Most searches one `msearch` call may run.
const MAX_MSEARCH: usize = 50;

/// Arguments of `search_index`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// Index name or pattern. Defaults to OPENSEARCH_DEFAULT_INDEX.
    pub index: Option<String>,
    /// Query DSL: either a query clause such as {"match": {"title": "heat"}} or a whole search
    /// body such as {"query": {...}, "sort": [...], "aggs": {...}}. Matches all documents when omitted.
    pub query: Option<Value>,
    /// How many hits to return (default 10), capped at OPENSEARCH_MAX_RESULTS.
    pub size: Option<u64>,
    /// Offset of the first hit (for paging); `from + size` at most 10000 (deeper: `search_after`).
    pub from: Option<u64>,
}

/// Arguments of `count`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct CountArgs {
    /// Index name or pattern. Defaults to OPENSEARCH_DEFAULT_INDEX.
    pub index: Option<String>,
    /// Optional query clause (or {"query": {...}}) to count only matching documents.
    pub query: Option<Value>,
}

/// Arguments of `explain`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ExplainArgs {
    /// Index holding the document. Defaults to OPENSEARCH_DEFAULT_INDEX.
    pub index: Option<String>,
    /// The document id.
    pub id: String,
    /// The query clause (or {"query": {...}}) whose score to explain.
    pub query: Value,
}

/// One search of an `msearch` call.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct MsearchItem {
    /// Index for this search; defaults to the call's `index`, then OPENSEARCH_DEFAULT_INDEX.
    pub index: Option<String>,
    /// Query clause or whole search body, as for search_index.
    pub query: Option<Value>,
    /// Hits to return (default 10), capped at OPENSEARCH_MAX_RESULTS.
    pub size: Option<u64>,
}

/// Arguments of `msearch`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct MsearchArgs {
    /// Default index for searches that name none. Defaults to OPENSEARCH_DEFAULT_INDEX.
    pub index: Option<String>,
    /// The searches to run in one request (at most 50).
    pub searches: Vec<MsearchItem>,
}

/// Turn the `query` argument into a search body object (a bare clause goes under `query`).
pub fn search_body(query: Option<Value>) -> Result<Map<String, Value>, String> {
    match query {
        None | Some(Value::Null) => Ok(Map::from_iter([(
            "query".to_string(),
            json!({"match_all": {}}),
        )])),
        Some(Value::Object(obj)) if obj.is_empty() => search_body(None),
        Some(Value::Object(obj)) if obj.keys().any(|k| BODY_KEYS.contains(&k.as_str())) => Ok(obj),
        Some(Value::Object(obj)) => Ok(Map::from_iter([(
            "query".to_string(),
            Value::Object(obj),
        )])),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            // Some clients send the DSL as a JSON string.
            Ok(v @ Value::Object(_)) => search_body(Some(v)),
            _ => Err(format!(
                "`query` must be a JSON object (query DSL), got the string {s:?}; for text search use {{\"query_string\": {{\"query\": \"...\"}}}}"
            )),
        },
        Some(other) => Err(format!(
            "`query` must be a JSON object (query DSL), got {other}"
        )),
    }
}

impl McpServer {
    /// Cap `size` (argument or body) at OPENSEARCH_MAX_RESULTS.
    fn apply_size(&self, body: &mut Map<String, Value>, size: Option<u64>) {
        let wanted = size.or_else(|| body.get("size").and_then(Value::as_u64));
        body.insert("size".into(), json!(self.cap_size(wanted)));
    }

    /// The guard rails every search body passes: no scripts (unless allowed), `from + size`
    /// within the result window, aggregations within their bounds, and the server-side
    /// `timeout`.
    fn guard(&self, body: &mut Map<String, Value>) -> Result<(), String> {
        guards::check_window(body)?;
        // Checked on the whole body: `query`, `aggs`, `sort`, `script_fields`... at any depth.
        guards::check_body_scripts(body, self.state.allow_scripts)?;
        // Documents through `top_hits`/`inner_hits` and buckets within documented limits.
        super::aggs::bound(body, u64::from(self.state.max_results))?;
        guards::set_timeout(body, &self.state.search_timeout);
        Ok(())
    }

    /// Only the `query` of a body (for count and explain), checked for scripts.
    fn query_only(&self, query: Value) -> Result<Value, String> {
        let mut b = search_body(Some(query))?;
        let q = b
            .remove("query")
            .unwrap_or_else(|| json!({"match_all": {}}));
        guards::check_scripts(&q, self.state.allow_scripts)?;
        Ok(q)
    }
}

/// A `_search` answer with `size: 0` as the `_count` answer it stands for:
/// `{"count": N, "_shards": {...}}` (plus `timed_out: true` when the count is partial).
fn count_answer(v: Value) -> Result<Value, BackendError> {
    let count = v
        .pointer("/hits/total/value")
        .and_then(Value::as_u64)
        .ok_or_else(|| BackendError::BadResponse(format!("no hits.total.value in {v}")))?;
    let mut out =
        json!({ "count": count, "_shards": v.get("_shards").cloned().unwrap_or(Value::Null) });
    if v.get("timed_out") == Some(&Value::Bool(true)) {
        out["timed_out"] = Value::Bool(true);
    }
    Ok(out)
}

#[tool_router(router = search_router, vis = "pub(super)")]
impl McpServer {
    /// Search an index with query DSL.
    #[tool(
        description = "Search an index with OpenSearch query DSL. Returns the search response (hits with _source, total, aggregations). `size` is capped at OPENSEARCH_MAX_RESULTS; `index` defaults to OPENSEARCH_DEFAULT_INDEX.",
        annotations(read_only_hint = true)
    )]
    pub async fn search_index(&self, Parameters(args): Parameters<SearchArgs>) -> CallToolResult {
        let index = match self.index_or_default(args.index, IndexRule::Pattern) {
            Ok(i) => i,
            Err(e) => return e,
        };
        let path = match paths::on_index(index.as_str(), "_search") {
            Ok(p) => p,
            Err(e) => return path_error(e),
        };
        let mut body = match search_body(args.query) {
            Ok(b) => b,
            Err(e) => return tool_error(e),
        };
        self.apply_size(&mut body, args.size);
        if let Some(from) = args.from {
            body.insert("from".into(), json!(from));
        }
        if let Err(e) = self.guard(&mut body) {
            return tool_error(e);
        }
        respond(
            "search_index",
            self.backend()
                .post(path, &[], RequestBody::Json(Value::Object(body)))
                .await,
        )
    }

    /// Count documents, optionally matching a query.
    #[tool(
        description = "Count the documents in an index, optionally only those matching a query. `index` defaults to OPENSEARCH_DEFAULT_INDEX.",
        annotations(read_only_hint = true)
    )]
    pub async fn count(&self, Parameters(args): Parameters<CountArgs>) -> CallToolResult {
        let index = match self.index_or_default(args.index, IndexRule::Pattern) {
            Ok(i) => i,
            Err(e) => return e,
        };
        let path = match paths::on_index(index.as_str(), "_search") {
            Ok(p) => p,
            Err(e) => return path_error(e),
        };
        let query = match self.query_only(args.query.unwrap_or(Value::Null)) {
            Ok(q) => q,
            Err(e) => return tool_error(e),
        };
        // `_count` takes no `timeout`: count with a `size: 0` search that does.
        let body = json!({
            "query": query,
            "size": 0,
            "track_total_hits": true,
            "timeout": self.state.search_timeout,
        });
        let answer = self
            .backend()
            .post(path, &[], RequestBody::Json(body))
            .await
            .and_then(count_answer);
        respond("count", answer)
    }

    /// Explain how a document scores (or why it does not match) for a query.
    #[tool(
        description = "Explain how one document scores for a query, or why it does not match. `index` defaults to OPENSEARCH_DEFAULT_INDEX.",
        annotations(read_only_hint = true)
    )]
    pub async fn explain(&self, Parameters(args): Parameters<ExplainArgs>) -> CallToolResult {
        let index = match self.index_or_default(args.index, IndexRule::Single) {
            Ok(i) => i,
            Err(e) => return e,
        };
        let path = match paths::explain(index.as_str(), &args.id) {
            Ok(p) => p,
            Err(e) => return path_error(e),
        };
        let query = match self.query_only(args.query) {
            Ok(q) => q,
            Err(e) => return tool_error(e),
        };
        respond(
            "explain",
            self.backend()
                .post(path, &[], RequestBody::Json(json!({ "query": query })))
                .await,
        )
    }

    /// Run several searches in one request.
    #[tool(
        description = "Run several searches in one request (_msearch). Each search has its own index (default: the call's `index`, then OPENSEARCH_DEFAULT_INDEX), query and size (capped at OPENSEARCH_MAX_RESULTS). Returns one response per search.",
        annotations(read_only_hint = true)
    )]
    pub async fn msearch(&self, Parameters(args): Parameters<MsearchArgs>) -> CallToolResult {
        if args.searches.is_empty() {
            return tool_error("`searches` is empty; give at least one {\"query\": ...}");
        }
        if args.searches.len() > MAX_MSEARCH {
            return tool_error(format!(
                "{} searches is too many for one call; at most {MAX_MSEARCH}",
                args.searches.len()
            ));
        }
        let default_index = args.index;
        let mut ndjson = String::new();
        for (n, item) in args.searches.into_iter().enumerate() {
            // The index goes into the NDJSON header, not the path; still an index expression.
            let index = match self.index_or_default(
                item.index.or_else(|| default_index.clone()),
                IndexRule::Pattern,
            ) {
                Ok(i) => i,
                Err(e) => return e,
            };
            let mut body = match search_body(item.query) {
                Ok(b) => b,
                Err(e) => return tool_error(format!("search {n}: {e}")),
            };
            self.apply_size(&mut body, item.size);
            if let Err(e) = self.guard(&mut body) {
                return tool_error(format!("search {n}: {e}"));
            }
            ndjson.push_str(&json!({ "index": index.as_str() }).to_string());
            ndjson.push('\n');
            ndjson.push_str(&Value::Object(body).to_string());
            ndjson.push('\n');
        }
        respond(
            "msearch",
            self.backend()
                .post("_msearch", &[], RequestBody::NdJson(ndjson))
                .await,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_clauses_go_under_query_and_bodies_stay() {
        let b = search_body(Some(json!({"match": {"title": "heat"}}))).unwrap();
        assert_eq!(
            Value::Object(b),
            json!({"query": {"match": {"title": "heat"}}})
        );
        let b = search_body(Some(
            json!({"query": {"term": {"year": 1995}}, "sort": ["year"]}),
        ))
        .unwrap();
        assert!(b.contains_key("sort"));
        let b = search_body(None).unwrap();
        assert_eq!(Value::Object(b), json!({"query": {"match_all": {}}}));
        let b = search_body(Some(json!("{\"match_all\":{}}"))).unwrap();
        assert_eq!(Value::Object(b), json!({"query": {"match_all": {}}}));
        assert!(search_body(Some(json!(5))).is_err());
        assert!(search_body(Some(json!("heat"))).is_err());
    }
}
