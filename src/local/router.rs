//! The listener of `mcpctl local`: each stack's path patterns like its ALB listener rule, round
//! robin over the stack's healthy replicas with no session affinity, `X-Forwarded-For` and
//! `X-Forwarded-Proto` like the ALB (not `X-Forwarded-Port`: the server does not read it),
//! responses (JSON or SSE) streamed back as they come.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::targets::TargetGroup;
use crate::model::path::path_matches;

/// Where the router reports every replica's state.
pub const STATUS_PATH: &str = "/_mcpctl/targets";
/// Largest request body forwarded (the ALB's own limit is larger; MCP requests are small).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One listener rule: path patterns and the group they forward to.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Lower is evaluated first.
    pub priority: i32,
    /// ALB path patterns.
    pub path_patterns: Vec<String>,
    /// The stack's replicas.
    pub group: Arc<TargetGroup>,
}

/// The rules, in priority order, and the HTTP client that talks to the replicas.
#[derive(Debug, Clone)]
pub struct Router {
    rules: Arc<Vec<Rule>>,
    http: reqwest::Client,
}

impl Router {
    /// A router over `rules` (sorted here by priority).
    pub fn new(mut rules: Vec<Rule>) -> Router {
        rules.sort_by_key(|r| r.priority);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client with default TLS settings builds");
        Router {
            rules: Arc::new(rules),
            http,
        }
    }

    /// The axum app serving every path.
    pub fn app(self) -> axum::Router {
        axum::Router::new().fallback(handle).with_state(self)
    }

    /// The rule whose patterns match `path`.
    pub fn rule_for(&self, path: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.path_patterns.iter().any(|p| path_matches(p, path)))
    }

    /// Every group's targets, as JSON.
    pub fn status(&self) -> serde_json::Value {
        let groups: Vec<_> = self
            .rules
            .iter()
            .map(|r| {
                json!({
                    "stack": r.group.name,
                    "path_patterns": r.path_patterns,
                    "targets": r.group.status(),
                })
            })
            .collect();
        json!({ "stacks": groups })
    }
}

async fn handle(State(router): State<Router>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path == STATUS_PATH {
        return axum::Json(router.status()).into_response();
    }
    let Some(rule) = router.rule_for(&path) else {
        return plain(
            StatusCode::NOT_FOUND,
            format!("no listener rule matches {path} (mcpctl local router)"),
        );
    };
    let group = rule.group.clone();
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return plain(StatusCode::PAYLOAD_TOO_LARGE, format!("request body: {e}")),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or(path);
    let headers = forward_headers(&parts.headers, parts.uri.authority().map(|a| a.as_str()));
    let mut tried = Vec::new();
    loop {
        let Some(i) = group.pick(&tried) else {
            let status = if tried.is_empty() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::BAD_GATEWAY
            };
            return plain(
                status,
                format!("no healthy replica of {} can take the request", group.name),
            );
        };
        let target = &group.targets[i];
        target.count_request();
        let url = format!("http://127.0.0.1:{}{}", target.port, path_and_query);
        let sent = router
            .http
            .request(parts.method.clone(), url)
            .headers(headers.clone())
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(resp) => return stream_back(resp),
            // Nothing reached the replica (its process just died): try the next one.
            Err(e) if e.is_connect() => tried.push(i),
            Err(e) => {
                return plain(
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "replica {} of {}: {}",
                        target.port,
                        group.name,
                        crate::error::source_chain(&e)
                    ),
                )
            }
        }
    }
}

/// The request headers to send on: hop-by-hop ones dropped, the original `Host` kept,
/// `X-Forwarded-For` and `X-Forwarded-Proto` added as the ALB does (`X-Forwarded-Port` is not).
fn forward_headers(incoming: &HeaderMap, authority: Option<&str>) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in incoming {
        if !is_hop_by_hop(name) {
            out.append(name.clone(), value.clone());
        }
    }
    if let (false, Some(a)) = (out.contains_key("host"), authority) {
        if let Ok(v) = HeaderValue::from_str(a) {
            out.insert("host", v);
        }
    }
    out.insert("x-forwarded-for", HeaderValue::from_static("127.0.0.1"));
    out.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    out
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}

/// The replica's response, its body streamed (SSE stays a stream).
fn stream_back(resp: reqwest::Response) -> Response {
    let mut builder = Response::builder().status(resp.status().as_u16());
    if let Some(h) = builder.headers_mut() {
        for (name, value) in resp.headers() {
            if !is_hop_by_hop(name) || name == "content-length" {
                h.append(name.clone(), value.clone());
            }
        }
    }
    builder
        .body(Body::from_stream(resp.bytes_stream()))
        .unwrap_or_else(|e| {
            plain(
                StatusCode::BAD_GATEWAY,
                format!("bad response from replica: {e}"),
            )
        })
}

fn plain(status: StatusCode, text: String) -> Response {
    (status, text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::targets::{HealthSettings, Matcher};

    fn group(name: &str) -> Arc<TargetGroup> {
        let settings = HealthSettings {
            path: "/h".into(),
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            matcher: Matcher::parse("200").unwrap(),
        };
        Arc::new(TargetGroup::new(name, settings, Vec::new()))
    }

    #[test]
    fn rules_are_matched_in_priority_order() {
        let r = Router::new(vec![
            Rule {
                priority: 110,
                path_patterns: vec!["/ossserver-stateless/*".into()],
                group: group("stateless"),
            },
            Rule {
                priority: 100,
                path_patterns: vec!["/ossserver/*".into()],
                group: group("stateful"),
            },
            Rule {
                priority: 200,
                path_patterns: vec!["/oss*".into()],
                group: group("catch"),
            },
        ]);
        assert_eq!(
            r.rule_for("/ossserver/ossmcp").unwrap().group.name,
            "stateful"
        );
        assert_eq!(
            r.rule_for("/ossserver-stateless/ossmcp")
                .unwrap()
                .group
                .name,
            "stateless"
        );
        assert_eq!(r.rule_for("/ossother").unwrap().group.name, "catch");
        assert!(r.rule_for("/health").is_none());
        let status = r.status();
        assert_eq!(status["stacks"][0]["stack"], "stateful");
    }

    #[test]
    fn hop_by_hop_headers_are_dropped_and_forwarded_ones_added() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("keep-alive"));
        h.insert("mcp-session-id", HeaderValue::from_static("abc"));
        h.insert("host", HeaderValue::from_static("alb.example.com"));
        let out = forward_headers(&h, None);
        assert!(out.get("connection").is_none());
        assert_eq!(out["mcp-session-id"], "abc");
        assert_eq!(out["host"], "alb.example.com");
        assert_eq!(out["x-forwarded-proto"], "http");
    }
}
