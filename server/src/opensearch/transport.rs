//! Sending one request: a reqwest client (timeouts, no proxy, no redirects), basic auth or SigV4
//! signing, and the answer read as a stream that stops past the byte budget.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningParams, SigningSettings,
};
use aws_sigv4::sign::v4;
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use url::Url;

use crate::config::Secret;

/// How requests are authenticated.
#[derive(Clone)]
pub(super) enum Auth {
    /// Nothing.
    None,
    /// HTTP basic auth.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// AWS SigV4 with cached credentials.
    SigV4 {
        /// The (cached) credential chain.
        credentials: SharedCredentialsProvider,
        /// Signing region.
        region: String,
        /// `es` or `aoss`.
        service: String,
    },
}

/// The HTTP client settings that matter for OpenSearch.
pub(super) fn client(timeout: Duration, verify_tls: bool) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(50))
        // Never follow a redirect: credentials go to the configured origin only.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .tls_danger_accept_invalid_certs(!verify_tls)
        .build()
}

/// What reading an answer gave.
pub(super) enum Read {
    /// The whole body, within the budget.
    Body(u16, Vec<u8>),
    /// The body is larger than the budget: `Some(n)` when OpenSearch said how large, `None`
    /// when reading stopped past the budget.
    TooLarge(Option<u64>),
}

/// Why a send failed before an answer was read.
#[derive(Debug, thiserror::Error)]
pub(super) enum SendError {
    /// Connection, TLS or body read failure (or timeout).
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// SigV4 signing failed (credentials, parameters).
    #[error("signing the request with SigV4 failed: {0}")]
    Signing(String),
}

/// Send `method url` with `body` (and its content type), authenticated, and read the answer
/// chunk by chunk, giving up as soon as it is larger than `max_bytes`.
pub(super) async fn send(
    http: &reqwest::Client,
    auth: &Auth,
    method: reqwest::Method,
    url: Url,
    body: Option<(bytes::Bytes, &'static str)>,
    max_bytes: usize,
) -> Result<Read, SendError> {
    let mut req = reqwest::Request::new(method, url);
    let headers = req.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let Some((bytes, content_type)) = body {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        *req.body_mut() = Some(bytes.into());
    }
    match auth {
        Auth::None => {}
        Auth::Basic { username, password } => {
            req = reqwest::RequestBuilder::from_parts(http.clone(), req)
                .basic_auth(username, Some(password.expose()))
                .build()?;
        }
        Auth::SigV4 {
            credentials,
            region,
            service,
        } => sign_v4(&mut req, credentials, region, service).await?,
    }
    let mut response = http.execute(req).await?;
    let status = response.status().as_u16();
    if let Some(len) = response.content_length() {
        if len > max_bytes as u64 {
            return Ok(Read::TooLarge(Some(len)));
        }
    }
    let mut buf = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if buf.len() + chunk.len() > max_bytes {
            // Dropping the response closes the connection: nothing more is read.
            return Ok(Read::TooLarge(None));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Read::Body(status, buf))
}

/// Sign `req` with SigV4 (headers; the payload hash in `x-amz-content-sha256`, which
/// OpenSearch Serverless requires).
async fn sign_v4(
    req: &mut reqwest::Request,
    credentials: &SharedCredentialsProvider,
    region: &str,
    service: &str,
) -> Result<(), SendError> {
    let creds = credentials
        .provide_credentials()
        .await
        .map_err(|e| SendError::Signing(format!("no AWS credentials: {e}")))?;
    let identity = creds.into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .name(service)
        .region(region)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| SendError::Signing(e.to_string()))?;
    let header_pairs: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body = req
        .body()
        .and_then(|b| b.as_bytes())
        .unwrap_or_default()
        .to_vec();
    let url = req.url().to_string();
    let signable = SignableRequest::new(
        req.method().as_str(),
        &url,
        header_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&body),
    )
    .map_err(|e| SendError::Signing(e.to_string()))?;
    let (instructions, _) = sign(signable, &SigningParams::V4(params))
        .map_err(|e| SendError::Signing(e.to_string()))?
        .into_parts();
    let (new_headers, new_query) = instructions.into_parts();
    for h in new_headers {
        let mut value = HeaderValue::from_str(h.value())
            .map_err(|e| SendError::Signing(format!("bad header {}: {e}", h.name())))?;
        value.set_sensitive(h.sensitive());
        req.headers_mut().insert(h.name(), value);
    }
    for (k, v) in new_query {
        req.url_mut().query_pairs_mut().append_pair(k, &v);
    }
    Ok(())
}
