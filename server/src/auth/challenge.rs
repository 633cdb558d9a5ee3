//! What a refused request gets: the status, the `WWW-Authenticate` challenge (RFC 6750 §3 with
//! the RFC 9728 `resource_metadata` parameter) and a JSON body saying what to do.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::header::HeaderError;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No usable `Authorization` header (missing, duplicated, malformed).
    Header(HeaderError),
    /// A token that is not valid for this server; the reason is safe to show (never the token).
    InvalidToken(&'static str),
    /// A valid token without every required scope.
    InsufficientScope,
    /// The issuer's keys cannot be had right now, so no token can be checked.
    Unavailable,
}

/// Where the challenge points and which scopes it asks for.
#[derive(Debug, Clone, Default)]
pub struct ChallengeParams<'a> {
    /// The RFC 9728 metadata URL for the requested path (OAuth only).
    pub resource_metadata: Option<String>,
    /// The required scopes, space-separated (empty: none).
    pub scope: &'a str,
    /// A hint for the JSON body, e.g. `send Authorization: Bearer <MCP_AUTH_TOKEN>`.
    pub hint: &'a str,
}

/// An RFC 7230 quoted-string: `"` and `\` escaped, control characters dropped.
pub fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `Bearer k="v", …` from the parameters that are set, in the given order.
pub fn www_authenticate(params: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", quote(v))))
        .collect();
    if parts.is_empty() {
        "Bearer".to_string()
    } else {
        format!("Bearer {}", parts.join(", "))
    }
}

impl Rejection {
    /// The HTTP answer for this rejection.
    pub fn response(&self, p: &ChallengeParams<'_>) -> Response {
        let rm = p.resource_metadata.as_deref();
        let scope = (!p.scope.is_empty()).then_some(p.scope);
        let (status, challenge, message) = match self {
            Rejection::Header(HeaderError::Missing) => (
                StatusCode::UNAUTHORIZED,
                Some(www_authenticate(&[("resource_metadata", rm)])),
                format!("missing bearer token: {}", p.hint),
            ),
            Rejection::Header(HeaderError::Duplicate) => (
                StatusCode::BAD_REQUEST,
                Some(www_authenticate(&[
                    ("resource_metadata", rm),
                    ("error", Some("invalid_request")),
                    (
                        "error_description",
                        Some("more than one Authorization header"),
                    ),
                ])),
                "more than one Authorization header: send exactly one".to_string(),
            ),
            Rejection::Header(HeaderError::Malformed(why)) => (
                StatusCode::UNAUTHORIZED,
                Some(www_authenticate(&[("resource_metadata", rm)])),
                format!("{why} ({})", p.hint),
            ),
            Rejection::InvalidToken(why) => (
                StatusCode::UNAUTHORIZED,
                Some(www_authenticate(&[
                    ("resource_metadata", rm),
                    ("error", Some("invalid_token")),
                    ("error_description", Some(why)),
                ])),
                format!("invalid bearer token: {why} ({})", p.hint),
            ),
            Rejection::InsufficientScope => (
                StatusCode::FORBIDDEN,
                Some(www_authenticate(&[
                    ("resource_metadata", rm),
                    ("error", Some("insufficient_scope")),
                    ("scope", scope),
                ])),
                format!(
                    "the token lacks a required scope: ask the authorization server for '{}'",
                    p.scope
                ),
            ),
            Rejection::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "cannot check tokens now: the authorization server's signing keys (JWKS) \
                 could not be fetched; try again shortly"
                    .to_string(),
            ),
        };
        let mut r = (status, axum::Json(json!({ "error": message }))).into_response();
        if let Some(c) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge_of(r: &Response) -> &str {
        r.headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    const RM: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/a/mcp";

    fn params() -> ChallengeParams<'static> {
        ChallengeParams {
            resource_metadata: Some(RM.into()),
            scope: "mcp/read mcp/call",
            hint: "get a token",
        }
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("a\r\nb"), "\"ab\"");
        assert_eq!(www_authenticate(&[("x", None)]), "Bearer");
    }

    #[test]
    fn a_missing_token_gets_the_metadata_url_only() {
        let r = Rejection::Header(HeaderError::Missing).response(&params());
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            challenge_of(&r),
            format!("Bearer resource_metadata=\"{RM}\"")
        );
    }

    #[test]
    fn a_bad_token_says_invalid_token() {
        let r = Rejection::InvalidToken("token expired").response(&params());
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            challenge_of(&r),
            format!(
                "Bearer resource_metadata=\"{RM}\", error=\"invalid_token\", \
                 error_description=\"token expired\""
            )
        );
    }

    #[test]
    fn a_missing_scope_is_403_with_the_scope() {
        let r = Rejection::InsufficientScope.response(&params());
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            challenge_of(&r),
            format!(
                "Bearer resource_metadata=\"{RM}\", error=\"insufficient_scope\", \
                 scope=\"mcp/read mcp/call\""
            )
        );
    }

    #[test]
    fn duplicates_are_400_and_static_mode_has_a_bare_challenge() {
        let r = Rejection::Header(HeaderError::Duplicate).response(&params());
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(challenge_of(&r).contains("invalid_request"));
        let r = Rejection::Header(HeaderError::Missing).response(&ChallengeParams::default());
        assert_eq!(challenge_of(&r), "Bearer");
        let r = Rejection::Unavailable.response(&params());
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(challenge_of(&r), "");
    }
}
