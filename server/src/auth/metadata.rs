//! RFC 9728 OAuth 2.0 Protected Resource Metadata, served unauthenticated at
//! `/.well-known/oauth-protected-resource<path>` (the path-inserted form) for `MCP_PATH` and
//! each alias, and the URL of that document for the `WWW-Authenticate` challenge.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::config::OAuthConfig;

/// The well-known prefix of RFC 9728 §3.1.
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The resource identifier for an MCP `path`: `MCP_RESOURCE_URL` itself for its own path, the
/// same origin with `path` for the aliases (RFC 9728 §3.3: `resource` must be the URL the
/// metadata was asked for).
pub fn resource_for(cfg: &OAuthConfig, path: &str) -> String {
    if cfg.resource_url.path() == path {
        cfg.resource_url.as_str().to_string()
    } else {
        format!("{}{path}", origin(cfg))
    }
}

/// `scheme://host[:port]` of `MCP_RESOURCE_URL`.
pub fn origin(cfg: &OAuthConfig) -> String {
    cfg.resource_url.origin().ascii_serialization()
}

/// The metadata URL for an MCP `path`, for `resource_metadata="…"`.
pub fn metadata_url(cfg: &OAuthConfig, path: &str) -> String {
    format!("{}{WELL_KNOWN}{path}", origin(cfg))
}

/// The metadata document for an MCP `path`.
pub fn document(cfg: &OAuthConfig, path: &str) -> Value {
    json!({
        "resource": resource_for(cfg, path),
        "authorization_servers": [cfg.issuer],
        "scopes_supported": cfg.required_scopes,
        "bearer_methods_supported": ["header"],
    })
}

/// `GET /.well-known/oauth-protected-resource<path>` for each MCP path.
pub fn routes(cfg: &OAuthConfig, mcp_paths: &[String]) -> Router {
    let mut router = Router::new();
    for p in mcp_paths {
        let body = document(cfg, p).to_string();
        router = router.route(
            &format!("{WELL_KNOWN}{p}"),
            get(move || {
                let body = body.clone();
                async move { json_response(body) }
            }),
        );
    }
    router
}

fn json_response(body: String) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(resource: &str) -> OAuthConfig {
        OAuthConfig {
            issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc".into(),
            jwks_url: None,
            audiences: vec![],
            client_ids: vec!["app".into()],
            required_scopes: vec!["mcp/call".into()],
            resource_url: url::Url::parse(resource).expect("url"),
            jwks_refresh: std::time::Duration::from_secs(60),
        }
    }

    #[test]
    fn the_document_names_the_resource_and_issuer() {
        let c = cfg("https://mcp.example.com/a/ossmcp");
        assert_eq!(
            document(&c, "/a/ossmcp"),
            json!({
                "resource": "https://mcp.example.com/a/ossmcp",
                "authorization_servers": ["https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"],
                "scopes_supported": ["mcp/call"],
                "bearer_methods_supported": ["header"],
            })
        );
        assert_eq!(
            document(&c, "/b/ossmcp")["resource"],
            "https://mcp.example.com/b/ossmcp"
        );
    }

    #[test]
    fn the_metadata_url_inserts_the_well_known_path_before_the_resource_path() {
        let c = cfg("https://mcp.example.com:8443/a/ossmcp");
        assert_eq!(
            metadata_url(&c, "/a/ossmcp"),
            "https://mcp.example.com:8443/.well-known/oauth-protected-resource/a/ossmcp"
        );
        let c = cfg("https://mcp.example.com:443/a/ossmcp");
        assert_eq!(origin(&c), "https://mcp.example.com");
    }
}
