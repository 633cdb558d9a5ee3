//! Authentication of the MCP endpoint: none, the static `MCP_AUTH_TOKEN` (compared in constant
//! time), or OAuth 2.1 access tokens (the MCP authorization spec: this server is a resource
//! server; it validates JWTs from one issuer and publishes RFC 9728 metadata).
//!
//! `http.rs` calls [`Auth::check`] first thing in the MCP guard and merges [`Auth::routes`];
//! the request log reads the token's subject from the [`Subject`] slot it puts in the request.
//! Tokens are never logged.

pub mod challenge;
pub mod header;
pub mod jwks;
pub mod metadata;
pub mod validator;
pub mod verified;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Router;
use subtle::ConstantTimeEq;

use crate::config::{AuthConfig, Config, Secret};
use challenge::{ChallengeParams, Rejection};
use jwks::Jwks;
use validator::Validator;

/// The longest subject written to the request log.
const MAX_SUBJECT_CHARS: usize = 256;

/// The authenticated caller's subject (`sub`), for the request log. The log middleware puts an
/// empty slot in the request; [`Auth::check`] fills it.
#[derive(Clone, Default)]
pub struct Subject(Arc<OnceLock<String>>);

impl Subject {
    /// The subject, if a token with one was accepted.
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    fn set(&self, sub: &str) {
        let clean: String = sub
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_SUBJECT_CHARS)
            .collect();
        let _ = self.0.set(clean);
    }
}

struct OAuth {
    validator: Validator,
    mcp_paths: Vec<String>,
    /// Served MCP path → its metadata URL.
    metadata_urls: HashMap<String, String>,
    default_metadata_url: String,
    scope: String,
}

enum Mode {
    None,
    Static(Secret),
    OAuth(Arc<OAuth>),
}

/// The MCP endpoint's authentication, built from [`AuthConfig`].
pub struct Auth {
    mode: Mode,
}

const STATIC_HINT: &str = "send Authorization: Bearer <MCP_AUTH_TOKEN>";
const OAUTH_HINT: &str = "send Authorization: Bearer <access token> from the authorization \
                          server named in the resource metadata";

impl Auth {
    /// Authentication for `cfg.auth`, on the MCP endpoint at `MCP_PATH` and its aliases. With
    /// OAuth (inside a Tokio runtime), the JWKS is fetched at once in the background, so a
    /// wrong issuer or JWKS URL shows in the log at start-up, and again every
    /// `MCP_OAUTH_JWKS_REFRESH_SECONDS`.
    pub fn new(cfg: &Config) -> Auth {
        let mut mcp_paths = vec![cfg.mcp_path.clone()];
        mcp_paths.extend(cfg.alias_paths(&cfg.mcp_path));
        Auth::with_paths(&cfg.auth, mcp_paths)
    }

    fn with_paths(cfg: &AuthConfig, mcp_paths: Vec<String>) -> Auth {
        let mode = match cfg {
            AuthConfig::None => Mode::None,
            AuthConfig::StaticToken(t) => Mode::Static(t.clone()),
            AuthConfig::OAuth(o) => {
                let jwks = Arc::new(Jwks::new(&o.issuer, o.jwks_url.clone()));
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    let _guard = rt.enter();
                    jwks.keep_fresh(o.jwks_refresh);
                }
                let metadata_urls = mcp_paths
                    .iter()
                    .map(|p| (p.clone(), metadata::metadata_url(o, p)))
                    .collect();
                let default_path = mcp_paths.first().map(String::as_str).unwrap_or("/");
                Mode::OAuth(Arc::new(OAuth {
                    default_metadata_url: metadata::metadata_url(o, default_path),
                    metadata_urls,
                    scope: o.required_scopes.join(" "),
                    mcp_paths,
                    validator: Validator::new((**o).clone(), jwks),
                }))
            }
        };
        Auth { mode }
    }

    /// The RFC 9728 metadata routes (none without OAuth).
    pub fn routes(&self) -> Router {
        match &self.mode {
            Mode::OAuth(o) => metadata::routes(o.validator.config(), &o.mcp_paths),
            _ => Router::new(),
        }
    }

    /// Let the request through (`Ok`), or the response that refuses it. On success with OAuth,
    /// the token's subject goes into the request's [`Subject`] slot.
    /// (Only `Sync` parts of the request are held across the await: the future is `Send`.)
    pub fn check<'a>(
        &'a self,
        req: &'a Request,
    ) -> impl Future<Output = Result<(), Response>> + Send + 'a {
        let subject = req.extensions().get::<Subject>().cloned();
        self.check_parts(req.headers(), req.uri().path(), subject)
    }

    async fn check_parts(
        &self,
        headers: &HeaderMap,
        path: &str,
        subject: Option<Subject>,
    ) -> Result<(), Response> {
        match &self.mode {
            Mode::None => Ok(()),
            Mode::Static(secret) => check_static(secret, headers).map_err(|r| {
                r.response(&ChallengeParams {
                    hint: STATIC_HINT,
                    ..Default::default()
                })
            }),
            Mode::OAuth(o) => {
                let refuse = |r: Rejection| {
                    let url = o.metadata_urls.get(path).unwrap_or(&o.default_metadata_url);
                    tracing::debug!(message = "request refused", reason = ?r);
                    r.response(&ChallengeParams {
                        resource_metadata: Some(url.clone()),
                        scope: &o.scope,
                        hint: OAUTH_HINT,
                    })
                };
                let token = header::bearer(headers).map_err(|e| refuse(Rejection::Header(e)))?;
                let claims = o.validator.validate(token).await.map_err(refuse)?;
                if let (Some(slot), Some(sub)) = (subject, &claims.sub) {
                    slot.set(sub);
                }
                Ok(())
            }
        }
    }
}

/// The static token, compared in constant time.
fn check_static(secret: &Secret, headers: &HeaderMap) -> Result<(), Rejection> {
    let given = header::bearer(headers).map_err(Rejection::Header)?;
    if bool::from(given.as_bytes().ct_eq(secret.expose().as_bytes())) {
        Ok(())
    } else {
        Err(Rejection::InvalidToken("wrong bearer token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;

    fn req(auth: &[&str]) -> Request {
        let mut b = Request::builder().uri("/mcp");
        for a in auth {
            b = b.header("authorization", *a);
        }
        b.body(Body::empty()).expect("request")
    }

    #[tokio::test]
    async fn the_static_token_accepts_any_case_of_bearer_and_refuses_duplicates() {
        let auth = Auth::with_paths(&AuthConfig::StaticToken(Secret("tok-1".into())), vec![]);
        assert!(auth.check(&req(&["Bearer tok-1"])).await.is_ok());
        assert!(auth.check(&req(&["bearer tok-1"])).await.is_ok());
        assert!(auth.check(&req(&["BEARER  tok-1"])).await.is_ok());
        let r = auth
            .check(&req(&["Bearer tok-2"]))
            .await
            .expect_err("wrong");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = auth.check(&req(&[])).await.expect_err("missing");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = auth
            .check(&req(&["Bearer tok-1", "Bearer tok-1"]))
            .await
            .expect_err("two headers");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = auth
            .check(&req(&["Bearer wrong", "Bearer tok-1"]))
            .await
            .expect_err("two headers, second right");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn subjects_are_bounded_and_free_of_control_characters() {
        let s = Subject::default();
        s.set(&format!("a\nb{}", "x".repeat(1000)));
        let got = s.get().expect("set");
        assert!(got.starts_with("abx"));
        assert_eq!(got.chars().count(), MAX_SUBJECT_CHARS);
    }
}
