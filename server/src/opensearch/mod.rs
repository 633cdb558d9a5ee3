//! The one OpenSearch client of the process: built once at start-up (basic auth or SigV4),
//! shared by every request, with a per-call deadline (`OPENSEARCH_TIMEOUT`), bounded retries
//! on connection errors and 502/503/504 (`OPENSEARCH_MAX_RETRIES`), and a byte budget per
//! answer (`MCP_MAX_RESPONSE_BYTES`, read as a stream that stops past it).
//!
//! Requests go only to paths built by [`path::RequestPath`] on the configured origin: the URL
//! is checked before anything is sent, and redirects are never followed.

pub mod path;
mod transport;

use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::config::{OpenSearchAuth, OpenSearchConfig};
use crate::credentials::CachedCredentials;
pub use path::{PathError, RequestPath};
use transport::{Auth, Read, SendError};

/// HTTP methods the tools use (all reads; `POST` carries a search body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

/// Why an OpenSearch call failed, in words a tool result can show.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// No answer within the deadline.
    #[error("OpenSearch did not answer within {0:?} (OPENSEARCH_TIMEOUT)")]
    Timeout(Duration),
    /// The connection failed (refused, DNS, TLS, signing).
    #[error("cannot reach OpenSearch at {url}: {reason}")]
    Unreachable {
        /// Base URL (no credentials).
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// OpenSearch answered with an error status.
    #[error("OpenSearch returned HTTP {status}: {reason}")]
    Status {
        /// HTTP status.
        status: u16,
        /// `type: reason` from the error body, or the body itself.
        reason: String,
    },
    /// The answer was not JSON.
    #[error("OpenSearch returned a response that is not JSON: {0}")]
    BadResponse(String),
    /// The answer is larger than the byte budget; it was not read past the budget.
    #[error("the answer is too large: {} (MCP_MAX_RESPONSE_BYTES is {limit}); narrow it: ask for fewer hits (`size`), only some fields (`_source`: [\"field\", ...] in the query body), or use `count` for totals", match .size { Some(n) => format!("{n} bytes"), None => format!("more than {limit} bytes") })]
    TooLarge {
        /// The size OpenSearch announced, when it did.
        size: Option<u64>,
        /// The budget.
        limit: usize,
    },
    /// The request path would not stay on the configured OpenSearch; nothing was sent.
    #[error(transparent)]
    Refused(#[from] PathError),
}

/// A request body.
pub enum RequestBody {
    /// `application/json`
    Json(Value),
    /// `application/x-ndjson` (for `_msearch`)
    NdJson(String),
}

/// The shared OpenSearch client.
#[derive(Clone)]
pub struct Backend {
    http: reqwest::Client,
    auth: Auth,
    base: Url,
    url: String,
    timeout: Duration,
    max_retries: u32,
    max_response_bytes: usize,
}

impl Backend {
    /// Build the client from the configuration. With `iam`, loads the standard AWS credential
    /// chain once; credentials are cached and refreshed before they expire (no client rebuild).
    pub async fn connect(cfg: &OpenSearchConfig) -> anyhow::Result<Backend> {
        let url = cfg.url();
        let base = Url::parse(&url)?;
        let http = transport::client(cfg.timeout, !cfg.use_ssl || cfg.ssl_verify)?;
        let auth = match &cfg.auth {
            OpenSearchAuth::None => Auth::None,
            OpenSearchAuth::Basic { username, password } => Auth::Basic {
                username: username.clone(),
                password: password.clone(),
            },
            OpenSearchAuth::Iam { service } => {
                let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                let region = sdk.region().cloned().ok_or_else(|| {
                    anyhow::anyhow!(
                        "OPENSEARCH_USE_IAM: no AWS region found; set AWS_REGION (ECS sets it for tasks)"
                    )
                })?;
                let chain = sdk.credentials_provider().ok_or_else(|| {
                    anyhow::anyhow!("OPENSEARCH_USE_IAM: the AWS credential chain is empty")
                })?;
                Auth::SigV4 {
                    credentials: CachedCredentials::shared(chain),
                    region: region.to_string(),
                    service: service.clone(),
                }
            }
        };
        Ok(Backend {
            http,
            auth,
            base,
            url,
            timeout: cfg.timeout,
            max_retries: cfg.max_retries,
            max_response_bytes: cfg.max_response_bytes,
        })
    }

    /// The base URL (never holds credentials).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The per-call deadline.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET path?query` → JSON.
    pub async fn get(
        &self,
        path: impl Into<RequestPath>,
        query: &[(&str, &str)],
    ) -> Result<Value, BackendError> {
        self.request(Method::Get, path, query, None, self.timeout)
            .await
    }

    /// `POST path?query` with a body → JSON.
    pub async fn post(
        &self,
        path: impl Into<RequestPath>,
        query: &[(&str, &str)],
        body: RequestBody,
    ) -> Result<Value, BackendError> {
        self.request(Method::Post, path, query, Some(body), self.timeout)
            .await
    }

    /// Send one request, retrying connection failures and 502/503/504, all within `deadline`.
    /// The URL is built and checked first (same origin, the path's exact segments); a path that
    /// fails the check is refused without a connection.
    pub async fn request(
        &self,
        method: Method,
        path: impl Into<RequestPath>,
        query: &[(&str, &str)],
        body: Option<RequestBody>,
        deadline: Duration,
    ) -> Result<Value, BackendError> {
        let mut url = path.into().url(&self.base)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let body = match body {
            None => None,
            Some(RequestBody::Json(v)) => Some((
                bytes::Bytes::from(
                    serde_json::to_vec(&v).map_err(|e| BackendError::BadResponse(e.to_string()))?,
                ),
                "application/json",
            )),
            Some(RequestBody::NdJson(s)) => Some((bytes::Bytes::from(s), "application/x-ndjson")),
        };
        let attempt_all = async {
            let mut attempt = 0u32;
            loop {
                let result = self.send_once(method, &url, body.clone()).await;
                let retryable = match &result {
                    Err(BackendError::Unreachable { .. }) => true,
                    Err(BackendError::Status { status, .. }) => matches!(status, 502..=504),
                    _ => false,
                };
                if !retryable || attempt >= self.max_retries {
                    return result;
                }
                tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
                attempt += 1;
            }
        };
        match tokio::time::timeout(deadline, attempt_all).await {
            Ok(r) => r,
            Err(_) => Err(BackendError::Timeout(deadline)),
        }
    }

    /// A failed send or body read: a timeout, or OpenSearch unreachable (with the cause).
    fn transport_error(&self, e: &SendError) -> BackendError {
        match e {
            SendError::Http(h) if h.is_timeout() => BackendError::Timeout(self.timeout),
            e => BackendError::Unreachable {
                url: self.url.clone(),
                reason: error_chain(e),
            },
        }
    }

    async fn send_once(
        &self,
        method: Method,
        url: &Url,
        body: Option<(bytes::Bytes, &'static str)>,
    ) -> Result<Value, BackendError> {
        let method = match method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let read = transport::send(
            &self.http,
            &self.auth,
            method,
            url.clone(),
            body,
            self.max_response_bytes,
        )
        .await
        .map_err(|e| self.transport_error(&e))?;
        let (status, bytes) = match read {
            Read::Body(status, bytes) => (status, bytes),
            Read::TooLarge(size) => {
                return Err(BackendError::TooLarge {
                    size,
                    limit: self.max_response_bytes,
                })
            }
        };
        if !(200..300).contains(&status) {
            return Err(BackendError::Status {
                status,
                reason: error_reason(&String::from_utf8_lossy(&bytes)),
            });
        }
        serde_json::from_slice(&bytes)
            .map_err(|_| BackendError::BadResponse(truncate(&String::from_utf8_lossy(&bytes), 300)))
    }
}

/// The error and its sources on one line (reqwest hides the useful part in `source()`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        cur = s.source();
    }
    out
}

/// `type: reason` from an OpenSearch error body, or the body itself (shortened).
pub fn error_reason(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return truncate(body.trim(), 300);
    };
    match v.get("error") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(e)) => {
            let ty = e.get("type").and_then(Value::as_str).unwrap_or("error");
            let reason = e.get("reason").and_then(Value::as_str).unwrap_or("");
            if reason.is_empty() {
                ty.to_string()
            } else {
                format!("{ty}: {reason}")
            }
        }
        _ => truncate(body.trim(), 300),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_from_opensearch_error_bodies() {
        let body = r#"{"error":{"root_cause":[],"type":"index_not_found_exception","reason":"no such index [nope]"},"status":404}"#;
        assert_eq!(
            error_reason(body),
            "index_not_found_exception: no such index [nope]"
        );
        assert_eq!(
            error_reason(r#"{"error":"no handler found for uri [/_tasks] and method [GET]"}"#),
            "no handler found for uri [/_tasks] and method [GET]"
        );
        assert_eq!(error_reason("Bad Gateway"), "Bad Gateway");
        assert_eq!(error_reason(&"x".repeat(400)).chars().count(), 301);
    }
}
