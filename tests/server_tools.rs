//! Story: every tool of `opensearch-mcp-server`, called through an rmcp client against a real
//! osmem-server seeded with the `movies` index, returns real content; failures are tool errors.

mod common;
mod server_support;

use common::{http_send, Osmem};
use serde_json::{json, Value};
use server_support::{call, err_text, ok_json, rmcp_client, Server, HEALTH_PATH};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_indices_has_the_python_servers_shape() {
    let osmem = Osmem::start_with_movies();
    let server = Server::start(&osmem.url, &[]);
    let client = rmcp_client(&server.mcp_url()).await;

    let r = call(&client, "list_indices", json!({})).await;
    let text = server_support::text(&r);
    let rows = ok_json(&r);
    let rows = rows.as_array().expect("an array of indices");
    let movies = rows
        .iter()
        .find(|r| r["index"] == "movies")
        .unwrap_or_else(|| panic!("movies is listed: {text}"));
    let keys: Vec<&str> = movies
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "docs.count",
        "docs.deleted",
        "health",
        "index",
        "status",
        "store.size",
    ];
    expected.sort();
    assert_eq!(keys, expected, "exactly the Python server's fields");
    assert_eq!(movies["docs.count"], "12");
    assert_eq!(movies["docs.deleted"], "0");
    assert_eq!(movies["status"], "open");
    // The text keeps the Python server's field order.
    assert!(
        text.starts_with(
            r#"[{"index":"movies","docs.count":"12","docs.deleted":"0","store.size":"#
        ),
        "{text}"
    );

    // Health reports the cluster.
    let (status, body) = http_send("GET", &server.url(HEALTH_PATH), b"", "text/plain");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["mode"], "stateless");
    assert_eq!(health["service"], "opensearch-mcp-server");
    assert_eq!(health["opensearch"]["status"], "ok");
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
