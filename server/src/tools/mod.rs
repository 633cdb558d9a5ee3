//! The MCP server: read-only OpenSearch tools (one file per family) and the
//! `config://opensearch` resource.
//!
//! Stateless mode builds one [`McpServer`] per POST, so it is a single `Arc` clone: the
//! OpenSearch client, the tool router and the server info are built once per process.

mod aggs;
mod cluster;
mod guards;
mod indices;
mod paths;
mod search;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, ErrorData, RoleServer, ServerHandler};
use serde_json::{json, Value};

use crate::config::OpenSearchConfig;
use crate::http::ToolOutcome;
use crate::opensearch::path::{IndexExpr, IndexRule, PathError};
use crate::opensearch::{Backend, BackendError, RequestPath};

/// URI of the configuration resource.
pub const CONFIG_RESOURCE_URI: &str = "config://opensearch";

/// Everything a request needs, built once per process.
pub struct AppState {
    /// The shared OpenSearch client.
    pub backend: Backend,
    default_index: Option<String>,
    max_results: u32,
    allow_scripts: bool,
    search_timeout: String,
    config_json: String,
    tools: ToolRouter<McpServer>,
    info: ServerConfig,
}

impl AppState {
    /// Build the state: tool router, server info and the config resource text.
    pub fn new(backend: Backend, cfg: &OpenSearchConfig) -> Arc<AppState> {
        let tools =
            McpServer::indices_router() + McpServer::search_router() + McpServer::cluster_router();
        let info = ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        // The user's server's name, so clients see no change; the version tells the builds apart.
        .with_server_info(Implementation::new(
            crate::health::SERVICE_NAME,
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Read-only tools for an OpenSearch cluster: list and inspect indices, search, count, \
             explain, and cluster, node and shard information."
                .to_string(),
        );
        // Never credentials: host, port, default index, result cap, timeout.
        let config_json = json!({
            "host": cfg.host,
            "port": cfg.port,
            "default_index": cfg.default_index,
            "max_results": cfg.max_results,
            "timeout": cfg.timeout.as_secs_f64(),
        })
        .to_string();
        Arc::new(AppState {
            backend,
            default_index: cfg.default_index.clone(),
            max_results: cfg.max_results,
            allow_scripts: cfg.allow_scripts,
            search_timeout: guards::search_timeout(cfg.timeout),
            config_json,
            tools,
            info,
        })
    }

    /// Names of all tools, sorted.
    pub fn tool_names(&self) -> Vec<String> {
        self.tools
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect()
    }
}

/// The MCP handler: one per session (stateful) or per request (stateless); cheap to clone.
#[derive(Clone)]
pub struct McpServer {
    state: Arc<AppState>,
}

impl McpServer {
    /// A handler over the shared state.
    pub fn new(state: Arc<AppState>) -> McpServer {
        McpServer { state }
    }

    fn backend(&self) -> &Backend {
        &self.state.backend
    }

    /// The index to use: the argument, else `OPENSEARCH_DEFAULT_INDEX` (checked with `rule`).
    fn index_or_default(
        &self,
        index: Option<String>,
        rule: IndexRule,
    ) -> Result<IndexExpr, CallToolResult> {
        let index = match non_empty(index) {
            Some(i) => i,
            None => self.state.default_index.clone().ok_or_else(|| {
                tool_error(
                    "no index given and OPENSEARCH_DEFAULT_INDEX is not set; pass the `index` argument",
                )
            })?,
        };
        IndexExpr::parse(&index, rule).map_err(path_error)
    }

    /// `size` capped at `OPENSEARCH_MAX_RESULTS`.
    fn cap_size(&self, size: Option<u64>) -> u64 {
        size.unwrap_or(10).min(self.state.max_results as u64)
    }
}

#[tool_handler(router = self.state.tools)]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        self.state.info.clone()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // The request log shows whether the tool succeeded; the slot rides in the HTTP parts.
        let outcome = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<ToolOutcome>())
            .cloned();
        // When the client hangs up, rmcp cancels the context: drop the call (and with it the
        // OpenSearch request and whatever of its answer was read) instead of finishing it.
        let cancelled = context.ct.clone();
        let tcc = ToolCallContext::new(self, request, context);
        let result = tokio::select! {
            r = self.state.tools.call(tcc) => r,
            _ = cancelled.cancelled() => Err(ErrorData::internal_error(
                "the call was cancelled: the client went away",
                None,
            )),
        };
        if let Some(o) = outcome {
            o.set(match &result {
                Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => "error",
                Ok(_) => "ok",
                Err(_) => "rpc_error",
            });
        }
        result
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![Resource::new(
            CONFIG_RESOURCE_URI,
            "opensearch-config",
        )
        .with_description(
            "The OpenSearch connection this server uses: host, port, default_index, max_results, timeout (never credentials)",
        )
        .with_mime_type("application/json")]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != CONFIG_RESOURCE_URI {
            return Err(ErrorData::resource_not_found(
                format!(
                    "unknown resource {}; this server has {CONFIG_RESOURCE_URI}",
                    request.uri
                ),
                None,
            ));
        }
        Ok(
            ReadResourceResult::new(vec![ResourceContents::TextResourceContents {
                uri: CONFIG_RESOURCE_URI.into(),
                mime_type: Some("application/json".into()),
                text: self.state.config_json.clone(),
                meta: None,
            }])
            .into(),
        )
    }
}

/// A successful tool result holding `value` as JSON text.
fn json_result(value: &Value) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(value.to_string())])
}

/// A failed tool result (`isError: true`) with a message for the caller.
fn tool_error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// A failed OpenSearch call as a tool result, saying which tool and what went wrong.
fn backend_error(what: &str, e: BackendError) -> CallToolResult {
    tool_error(format!("{what} failed: {e}"))
}

/// Turn a backend answer into a tool result.
fn respond(what: &str, r: Result<Value, BackendError>) -> CallToolResult {
    match r {
        Ok(v) => json_result(&v),
        Err(e) => backend_error(what, e),
    }
}

/// An argument that cannot be part of a request path, as a tool error (nothing was sent).
fn path_error(e: PathError) -> CallToolResult {
    tool_error(e.to_string())
}

/// `None` for a missing, empty or blank argument.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// A GET of `path` (or the argument's refusal) answered as the tool's result.
async fn get_json(
    backend: &Backend,
    what: &str,
    path: Result<RequestPath, PathError>,
    query: &[(&str, &str)],
) -> CallToolResult {
    match path {
        Ok(p) => respond(what, backend.get(p, query).await),
        Err(e) => path_error(e),
    }
}
