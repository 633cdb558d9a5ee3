//! Story: every tool of `opensearch-mcp-server`, called through an rmcp client against a real
//! osmem-server seeded with the `movies` index, returns real content; failures are tool errors.

use crate::{common, server_support};

use common::{http_send, Osmem};
use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{json, Value};
use server_support::{call, err_text, ok_json, rmcp_client, Server, HEALTH_PATH};

/// Every tool the server must offer (the list plus the official Python server's reads).
const TOOLS: [&str; 16] = [
    "cat_nodes",
    "cluster_health",
    "count",
    "explain",
    "get_allocation",
    "get_cluster_state",
    "get_index_info",
    "get_index_mapping",
    "get_index_stats",
    "get_long_running_tasks",
    "get_nodes",
    "get_segments",
    "get_shards",
    "list_indices",
    "msearch",
    "search_index",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_indices_has_the_python_servers_shape() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let client = rmcp_client(&server.mcp_url()).await;

    let r = call(&client, "list_indices", json!({})).await;
    assert_ne!(r.is_error, Some(true));
    // As the user's FastMCP 2.12 server sends it: one text block with the compact JSON of
    // {"success": true, "indices": [...]}, each row the six fields in order, the same object
    // as structuredContent.
    assert_eq!(r.content.len(), 1, "one text block: {r:?}");
    let text = r.content[0].as_text().unwrap().text.clone();
    assert!(
        text.starts_with("{\"success\":true,\"indices\":[{\"index\":\"movies\",\"docs.count\":\"12\",\"docs.deleted\":\"0\",\"store.size\":"),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let movies = &body["indices"][0];
    let mut keys: Vec<&str> = movies
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "docs.count",
            "docs.deleted",
            "health",
            "index",
            "status",
            "store.size"
        ],
        "exactly the user's server's fields"
    );
    assert_eq!(movies["docs.deleted"], "0");
    assert_eq!(movies["status"], "open");
    let structured = r.structured_content.as_ref().expect("structuredContent");
    assert_eq!(structured, &body);

    // Health reports the cluster.
    let (status, body) = http_send("GET", &server.url(HEALTH_PATH), b"", "text/plain");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["mode"], "stateless");
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["service"], "OpenSearch MCP Server");
    assert_eq!(health["opensearch"]["status"], "connected");
    assert_eq!(health["opensearch"]["cluster_name"], "osmem");
    assert_eq!(health["opensearch"]["health"], "yellow");
    client.cancel().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_index_is_a_tool_error_not_a_protocol_error() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let client = rmcp_client(&server.mcp_url()).await;
    let r = call(
        &client,
        "get_index_mapping",
        json!({"index": "no-such-index"}),
    )
    .await;
    let msg = err_text(&r);
    assert!(msg.contains("index_not_found_exception"), "{msg}");
    assert!(msg.contains("no-such-index"), "{msg}");
    client.cancel().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_returns_real_content() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(
        &osmem.url,
        &[
            ("OPENSEARCH_DEFAULT_INDEX", "movies"),
            ("OPENSEARCH_MAX_RESULTS", "5"),
            // osmem ignores basic auth; the credentials must still never show anywhere.
            ("OPENSEARCH_USERNAME", "admin"),
            ("OPENSEARCH_PASSWORD", "S3cret-PW-value"),
        ],
    );
    let client = rmcp_client(&server.mcp_url()).await;

    // tools/list: all tools, each with an object JSON schema for its arguments.
    let tools = client.list_tools(None).await.expect("tools/list").tools;
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(names, TOOLS);
    for t in &tools {
        assert_eq!(
            t.input_schema.get("type"),
            Some(&json!("object")),
            "{}",
            t.name
        );
        assert!(
            t.description.as_deref().is_some_and(|d| d.len() > 20),
            "{}",
            t.name
        );
    }
    let search = tools.iter().find(|t| t.name == "search_index").unwrap();
    let props = search.input_schema["properties"].as_object().unwrap();
    for p in ["index", "query", "size", "from"] {
        assert!(props.contains_key(p), "search_index schema lacks {p}");
    }
    let explain = tools.iter().find(|t| t.name == "explain").unwrap();
    let required = explain.input_schema["required"].as_array().unwrap();
    assert!(required.contains(&json!("id")) && required.contains(&json!("query")));

    // cluster_health, whole cluster and one index.
    let v = ok_json(&call(&client, "cluster_health", json!({})).await);
    assert_eq!(v["cluster_name"], "osmem");
    assert_eq!(v["status"], "yellow");
    let v = ok_json(&call(&client, "cluster_health", json!({"index": "movies"})).await);
    assert_eq!(v["active_primary_shards"], 1);

    // Mapping, info and stats, using OPENSEARCH_DEFAULT_INDEX when no index is given.
    let v = ok_json(&call(&client, "get_index_mapping", json!({})).await);
    assert_eq!(
        v["movies"]["mappings"]["properties"]["title"]["type"],
        "text"
    );
    assert_eq!(
        v["movies"]["mappings"]["properties"]["genres"]["type"],
        "keyword"
    );
    let v = ok_json(&call(&client, "get_index_info", json!({"index": "movies"})).await);
    assert_eq!(v["movies"]["settings"]["index"]["number_of_shards"], "1");
    assert_eq!(
        v["movies"]["mappings"]["properties"]["year"]["type"],
        "integer"
    );
    let v = ok_json(&call(&client, "get_index_stats", json!({"metric": "docs"})).await);
    assert_eq!(v["indices"]["movies"]["primaries"]["docs"]["count"], 12);

    // search_index: a bare clause, a whole body, and size capped at OPENSEARCH_MAX_RESULTS (5).
    let v = ok_json(
        &call(
            &client,
            "search_index",
            json!({"query": {"match": {"title": "heat"}}}),
        )
        .await,
    );
    assert_eq!(v["hits"]["hits"][0]["_source"]["title"], "Heat");
    assert_eq!(v["hits"]["hits"][0]["_source"]["year"], 1995);
    let v = ok_json(
        &call(
            &client,
            "search_index",
            json!({"index": "movies", "query": {"query": {"match_all": {}}, "sort": [{"year": "asc"}]}, "size": 1}),
        )
        .await,
    );
    assert_eq!(v["hits"]["hits"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["hits"]["hits"][0]["_source"]["year"], 1977,
        "oldest first"
    );
    let v = ok_json(&call(&client, "search_index", json!({"size": 50})).await);
    assert_eq!(
        v["hits"]["hits"].as_array().unwrap().len(),
        5,
        "size capped at 5"
    );
    assert_eq!(v["hits"]["total"]["value"], 12);

    // count, all and matching.
    let v = ok_json(&call(&client, "count", json!({})).await);
    assert_eq!(v["count"], 12);
    let v = ok_json(
        &call(
            &client,
            "count",
            json!({"query": {"term": {"genres": "Comedy"}}}),
        )
        .await,
    );
    assert_eq!(v["count"], 4);

    // explain: a match and a miss.
    let v = ok_json(
        &call(
            &client,
            "explain",
            json!({"id": "6", "query": {"match": {"title": "heat"}}}),
        )
        .await,
    );
    assert_eq!(v["matched"], true);
    assert_eq!(v["_id"], "6");
    let v = ok_json(
        &call(
            &client,
            "explain",
            json!({"id": "1", "query": {"match": {"title": "heat"}}}),
        )
        .await,
    );
    assert_eq!(v["matched"], false);

    // msearch: two searches in one request, each capped.
    let v = ok_json(
        &call(
            &client,
            "msearch",
            json!({"searches": [
                {"query": {"term": {"year": 1995}}, "size": 2},
                {"index": "movies", "query": {"match": {"title": "matrix"}}},
            ]}),
        )
        .await,
    );
    let responses = v["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0]["hits"]["hits"].as_array().unwrap().len(), 2);
    assert_eq!(responses[0]["hits"]["total"]["value"], 5);
    assert_eq!(
        responses[1]["hits"]["hits"][0]["_source"]["title"],
        "The Matrix"
    );

    // Shards and segments of the index.
    let v = ok_json(&call(&client, "get_shards", json!({"index": "movies"})).await);
    let primary = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["prirep"] == "p")
        .unwrap();
    assert_eq!(primary["state"], "STARTED");
    assert_eq!(primary["docs"], "12");
    let v = ok_json(&call(&client, "get_segments", json!({"index": "movies"})).await);
    assert_eq!(v[0]["index"], "movies");
    assert_eq!(v[0]["docs.count"], "12");

    // Nodes, allocation, tasks, cluster state.
    let v = ok_json(&call(&client, "cat_nodes", json!({})).await);
    assert_eq!(v[0]["name"], "osmem-node");
    assert_eq!(v[0]["cluster_manager"], "*");
    let v = ok_json(&call(&client, "get_nodes", json!({})).await);
    assert_eq!(v["nodes"]["osmem-node"]["version"], "3.8.0");
    let v = ok_json(
        &call(
            &client,
            "get_nodes",
            json!({"node_id": "osmem-node", "metric": "os"}),
        )
        .await,
    );
    assert_eq!(v["_nodes"]["successful"], 1);
    let v = ok_json(&call(&client, "get_allocation", json!({})).await);
    let node = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == "osmem-node")
        .unwrap();
    assert_eq!(node["shards"], "1");
    let v = ok_json(&call(&client, "get_long_running_tasks", json!({"limit": 1})).await);
    let tasks = v.as_array().unwrap();
    assert_eq!(tasks.len(), 1, "limit 1: {v}");
    assert!(
        tasks[0]["action"].as_str().unwrap().contains("tasks"),
        "{v}"
    );
    let v = ok_json(
        &call(
            &client,
            "get_cluster_state",
            json!({"metric": "metadata", "index": "movies"}),
        )
        .await,
    );
    assert_eq!(v["cluster_name"], "osmem");
    assert!(v["metadata"]["indices"]["movies"].is_object(), "{v}");

    // The config resource: the connection, never credentials.
    let resources = client
        .list_resources(None)
        .await
        .expect("resources/list")
        .resources;
    assert!(resources.iter().any(|r| r.uri == "config://opensearch"));
    let read = client
        .read_resource(ReadResourceRequestParams::new("config://opensearch"))
        .await
        .expect("resources/read");
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("config resource is text: {read:?}");
    };
    let cfg: Value = serde_json::from_str(text).unwrap();
    assert_eq!(cfg["host"], "127.0.0.1");
    assert_eq!(cfg["port"], osmem.port);
    assert_eq!(cfg["default_index"], "movies");
    assert_eq!(cfg["max_results"], 5);
    assert_eq!(cfg["timeout"], 5.0);
    assert_eq!(
        cfg.as_object().unwrap().len(),
        5,
        "only the five fields: {cfg}"
    );
    assert!(!text.contains("S3cret-PW-value") && !text.contains("admin"));

    client.cancel().await.ok();
    let log = server.log_text();
    assert!(
        !log.contains("S3cret-PW-value"),
        "the password is logged:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tool_input_and_backend_errors_are_tool_errors() {
    let osmem = Osmem::start_with_movies();
    // No OPENSEARCH_DEFAULT_INDEX here.
    let server = Server::start(&osmem.url, &[]);
    let client = rmcp_client(&server.mcp_url()).await;

    let msg = err_text(&call(&client, "search_index", json!({"query": {"match_all": {}}})).await);
    assert!(msg.contains("OPENSEARCH_DEFAULT_INDEX"), "{msg}");

    let msg = err_text(
        &call(
            &client,
            "search_index",
            json!({"index": "movies", "query": {"nonsense_clause": {}}}),
        )
        .await,
    );
    assert!(
        msg.contains("search_index failed") && msg.contains("HTTP 400"),
        "{msg}"
    );
    assert!(msg.contains("unknown query [nonsense_clause]"), "{msg}");

    let msg = err_text(
        &call(
            &client,
            "search_index",
            json!({"index": "movies", "query": 42}),
        )
        .await,
    );
    assert!(msg.contains("must be a JSON object"), "{msg}");

    // Wrong argument types: a tool error naming the problem, not a protocol failure.
    let msg = err_text(
        &call(
            &client,
            "search_index",
            json!({"index": "movies", "size": "ten"}),
        )
        .await,
    );
    assert!(msg.contains("size") || msg.contains("u64"), "{msg}");
    let msg = err_text(&call(&client, "explain", json!({"index": "movies"})).await);
    assert!(msg.contains("id"), "{msg}");

    // Names that would change the request path are refused before any request.
    let msg = err_text(
        &call(
            &client,
            "get_index_info",
            json!({"index": "../_cluster/state"}),
        )
        .await,
    );
    assert!(msg.contains("not a valid index name"), "{msg}");
    let msg = err_text(
        &call(
            &client,
            "get_cluster_state",
            json!({"metric": "everything"}),
        )
        .await,
    );
    assert!(msg.contains("not a cluster state metric"), "{msg}");
    let msg = err_text(&call(&client, "msearch", json!({"searches": []})).await);
    assert!(msg.contains("empty"), "{msg}");

    // osmem does not implement node stats (`_nodes/.../stats` answers 400
    // unsupported_operation_exception): the request goes out and its error comes back as a tool
    // error with OpenSearch's reason.
    let msg = err_text(&call(&client, "get_nodes", json!({"metric": "stats"})).await);
    assert!(
        msg.contains("get_nodes failed") && msg.contains("unsupported_operation_exception"),
        "{msg}"
    );

    // After all that, the server still serves.
    let v = ok_json(&call(&client, "count", json!({"index": "movies"})).await);
    assert_eq!(v["count"], 12);
    client.cancel().await.ok();
}
