//! The `X-Served-By` response header: a short, non-secret id of the replica that answered, so
//! clients (`mcpctl verify`, `mcpctl shell`) can see calls spread over replicas.
//!
//! The id is, in order: `MCP_REPLICA_ID` (set by `mcpctl local`, which runs several replicas on
//! one host), the ECS task id (the last segment of the task ARN from the task metadata endpoint
//! `ECS_CONTAINER_METADATA_URI_V4`, read once at start-up under a short deadline), else the host
//! name. `MCP_SERVED_BY=false` turns the header off. Every candidate is checked against a short
//! plain alphabet, so nothing odd ever reaches a response header.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

/// The response header's name.
pub const HEADER: &str = "x-served-by";

/// Longest accepted id.
pub const MAX_ID_LEN: usize = 64;

/// Longest the start-up read of the task metadata may take.
const METADATA_TIMEOUT: Duration = Duration::from_secs(2);

/// Largest task metadata document read (it is a few kilobytes).
const METADATA_MAX_BYTES: usize = 256 * 1024;

/// What `MCP_SERVED_BY` and `MCP_REPLICA_ID` ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServedBy {
    /// No header (`MCP_SERVED_BY=false`).
    Off,
    /// Find the id at start-up: the ECS task id, else the host name.
    Auto,
    /// This id (`MCP_REPLICA_ID`, or the id found at start-up).
    Id(String),
}

impl ServedBy {
    /// The header value, when the header is on and the id is known.
    pub fn header_value(&self) -> Option<HeaderValue> {
        match self {
            ServedBy::Id(id) => HeaderValue::from_str(id).ok(),
            _ => None,
        }
    }
}

/// An id is 1 to [`MAX_ID_LEN`] characters of letters, digits, `.`, `_` and `-`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Settle [`ServedBy::Auto`] into an id (ECS task id, else host name); others pass through.
pub async fn resolve(wanted: ServedBy) -> ServedBy {
    if wanted != ServedBy::Auto {
        return wanted;
    }
    if let Some(base) = std::env::var("ECS_CONTAINER_METADATA_URI_V4")
        .ok()
        .filter(|v| !v.is_empty())
    {
        match ecs_task_id(&base).await {
            Ok(id) => return ServedBy::Id(id),
            Err(e) => tracing::warn!(
                message = "X-Served-By: no ECS task id from the task metadata endpoint; using the host name",
                error = %e
            ),
        }
    }
    match host_name() {
        Some(h) => ServedBy::Id(h),
        None => {
            tracing::warn!(message = "X-Served-By: no usable host name; the header is off");
            ServedBy::Off
        }
    }
}

/// `GET {base}/task` and take the last segment of `TaskARN`.
async fn ecs_task_id(base: &str) -> Result<String, String> {
    let mut url = reqwest::Url::parse(base).map_err(|e| format!("not a URL: {e}"))?;
    url.path_segments_mut()
        .map_err(|_| "not a base URL".to_string())?
        .pop_if_empty()
        .push("task");
    let http = reqwest::Client::builder()
        .timeout(METADATA_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let resp = http.get(url).send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status().as_u16()));
    }
    if resp
        .content_length()
        .is_some_and(|n| n > METADATA_MAX_BYTES as u64)
    {
        return Err("task metadata too large".into());
    }
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    if bytes.len() > METADATA_MAX_BYTES {
        return Err("task metadata too large".into());
    }
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    task_id_from_metadata(&doc).ok_or_else(|| "no usable TaskARN in the task metadata".into())
}

/// The task id from a task metadata document: the last `/` segment of `TaskARN`.
pub fn task_id_from_metadata(doc: &Value) -> Option<String> {
    let arn = doc.get("TaskARN")?.as_str()?;
    let id = arn.rsplit('/').next()?;
    is_valid_id(id).then(|| id.to_string())
}

/// The host name (kernel's, else `HOSTNAME`), when it is a valid id.
fn host_name() -> Option<String> {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    [kernel, std::env::var("HOSTNAME").ok()]
        .into_iter()
        .flatten()
        .map(|h| h.trim().to_string())
        .find(|h| is_valid_id(h))
}

/// Middleware adding `X-Served-By` to every response.
pub async fn add_header(State(value): State<HeaderValue>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response.headers_mut().insert(HEADER, value);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_task_id_is_the_arns_last_segment() {
        let doc = json!({"TaskARN": "arn:aws:ecs:us-east-1:123456789012:task/prod-cluster/0f1e2d3c4b5a69788796a5b4c3d2e1f0"});
        assert_eq!(
            task_id_from_metadata(&doc).as_deref(),
            Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
        );
        assert_eq!(task_id_from_metadata(&json!({})), None);
        assert_eq!(
            task_id_from_metadata(&json!({"TaskARN": "arn:x:task/c/bad id\r\nX: y"})),
            None
        );
    }

    #[test]
    fn ids_are_short_and_plain() {
        assert!(is_valid_id("stateless-2"));
        assert!(is_valid_id("ip-10-0-1-17.ec2.internal"));
        for bad in ["", "a b", "a\r\nb", "a/b", &"x".repeat(MAX_ID_LEN + 1)] {
            assert!(!is_valid_id(bad), "{bad:?}");
        }
        assert!(ServedBy::Off.header_value().is_none());
        assert!(ServedBy::Auto.header_value().is_none());
        assert_eq!(
            ServedBy::Id("r1".into()).header_value().unwrap(),
            HeaderValue::from_static("r1")
        );
    }

    #[tokio::test]
    async fn start_up_reads_the_ecs_task_metadata_endpoint() {
        use axum::routing::get;
        let app = axum::Router::new().route(
            "/v4/abc/task",
            get(|| async {
                axum::Json(
                    json!({"Cluster": "c", "TaskARN": "arn:aws:ecs:eu-west-1:1:task/c/7a8b9c"}),
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let id = ecs_task_id(&format!("http://{addr}/v4/abc")).await.unwrap();
        assert_eq!(id, "7a8b9c");
        assert!(ecs_task_id(&format!("http://{addr}/v4/nothing"))
            .await
            .unwrap_err()
            .contains("404"));
    }
}
