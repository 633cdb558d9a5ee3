//! The one OpenSearch client of the process: built once at start-up (basic auth or SigV4),
//! shared by every request, with a per-call deadline (`OPENSEARCH_TIMEOUT`) and bounded retries
//! on connection errors and 502/503/504 (`OPENSEARCH_MAX_RETRIES`).

use std::time::Duration;

use opensearch::auth::Credentials;
use opensearch::cert::CertificateValidation;
use opensearch::http::headers::{HeaderMap, HeaderValue, CONTENT_TYPE};
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::http::Method;
use serde_json::Value;

use crate::config::{OpenSearchAuth, OpenSearchConfig};
use crate::credentials::CachedCredentials;

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
    client: opensearch::OpenSearch,
    url: String,
    timeout: Duration,
    max_retries: u32,
}

impl Backend {
    /// Build the client from the configuration. With `iam`, loads the standard AWS credential
    /// chain once; credentials are cached and refreshed before they expire (no client rebuild).
    pub async fn connect(cfg: &OpenSearchConfig) -> anyhow::Result<Backend> {
        let url = cfg.url();
        let pool = SingleNodeConnectionPool::new(url::Url::parse(&url)?);
        let mut builder = TransportBuilder::new(pool)
            .timeout(cfg.timeout)
            .disable_proxy();
        if cfg.use_ssl && !cfg.ssl_verify {
            builder = builder.cert_validation(CertificateValidation::None);
        }
        builder = match &cfg.auth {
            OpenSearchAuth::None => builder,
            OpenSearchAuth::Basic { username, password } => builder.auth(Credentials::Basic(
                username.clone(),
                password.expose().to_string(),
            )),
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
                let cached = CachedCredentials::shared(chain);
                builder
                    .auth(Credentials::AwsSigV4(cached, region))
                    .service_name(service)
            }
        };
        let transport = builder.build()?;
        Ok(Backend {
            client: opensearch::OpenSearch::new(transport),
            url,
            timeout: cfg.timeout,
            max_retries: cfg.max_retries,
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
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, BackendError> {
        self.request(Method::Get, path, query, None, self.timeout)
            .await
    }

    /// `POST path` with a body → JSON.
    pub async fn post(&self, path: &str, body: RequestBody) -> Result<Value, BackendError> {
        self.request(Method::Post, path, &[], Some(body), self.timeout)
            .await
    }

    /// Send one request, retrying connection failures and 502/503/504, all within `deadline`.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<RequestBody>,
        deadline: Duration,
    ) -> Result<Value, BackendError> {
        let attempt_all = async {
            let mut attempt = 0u32;
            loop {
                let result = self.send_once(method, path, query, body.as_ref()).await;
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
    fn transport_error(&self, e: &opensearch::Error) -> BackendError {
        if e.is_timeout() {
            BackendError::Timeout(self.timeout)
        } else {
            BackendError::Unreachable {
                url: self.url.clone(),
                reason: error_chain(e),
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&RequestBody>,
    ) -> Result<Value, BackendError> {
        let mut headers = HeaderMap::new();
        let bytes: Option<Vec<u8>> = match body {
            None => None,
            Some(RequestBody::Json(v)) => Some(serde_json::to_vec(v).unwrap_or_default()),
            Some(RequestBody::NdJson(s)) => {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-ndjson"),
                );
                Some(s.clone().into_bytes())
            }
        };
        let query = if query.is_empty() { None } else { Some(query) };
        let response = self
            .client
            .send(method, path, headers, query, bytes, None)
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status_code().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if !(200..300).contains(&status) {
            return Err(BackendError::Status {
                status,
                reason: error_reason(&text),
            });
        }
        serde_json::from_str(&text).map_err(|_| BackendError::BadResponse(truncate(&text, 300)))
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
