//! Unit tests of the authentication settings: every incomplete or contradictory combination is
//! an error naming the variable.

use super::*;
use std::collections::HashMap;

const PATHS: &[&str] = &["/ossserver-stateless/ossmcp", "/ossserver/ossmcp"];

fn load(pairs: &[(&str, &str)]) -> Result<AuthConfig, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let paths: Vec<String> = PATHS.iter().map(|p| p.to_string()).collect();
    AuthConfig::from_lookup(&|k: &str| map.get(k).cloned(), &paths)
}

fn err(pairs: &[(&str, &str)]) -> ConfigError {
    load(pairs).expect_err("configuration must be refused")
}

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc";
const RESOURCE: &str = "https://mcp.example.com/ossserver-stateless/ossmcp";

#[test]
fn no_variables_means_no_auth_and_a_token_means_static() {
    assert_eq!(load(&[]).unwrap(), AuthConfig::None);
    assert_eq!(
        load(&[("MCP_AUTH_TOKEN", " tok-1 ")]).unwrap(),
        AuthConfig::StaticToken(Secret("tok-1".into()))
    );
}

#[test]
fn an_empty_or_blank_token_is_an_error_not_auth_off() {
    for v in ["", " ", "\t \n"] {
        let e = err(&[("MCP_AUTH_TOKEN", v)]);
        assert_eq!(e.variable, "MCP_AUTH_TOKEN");
        assert!(e.message.contains("empty"), "{}", e.message);
    }
    assert_eq!(
        err(&[("MCP_AUTH_TOKEN", "two words")]).variable,
        "MCP_AUTH_TOKEN"
    );
}

#[test]
fn a_cognito_setup_parses() {
    let c = load(&[
        ("MCP_OAUTH_ISSUER", ISSUER),
        ("MCP_OAUTH_CLIENT_IDS", "abc, def"),
        ("MCP_OAUTH_REQUIRED_SCOPES", "mcp/read mcp/call,mcp/read"),
        ("MCP_RESOURCE_URL", RESOURCE),
    ])
    .unwrap();
    let AuthConfig::OAuth(o) = c else {
        panic!("expected OAuth")
    };
    assert_eq!(o.issuer, ISSUER);
    assert_eq!(o.jwks_url, None);
    assert_eq!(o.client_ids, vec!["abc", "def"]);
    assert!(o.audiences.is_empty());
    assert_eq!(o.required_scopes, vec!["mcp/read", "mcp/call"]);
    assert_eq!(o.resource_url.as_str(), RESOURCE);
    assert_eq!(o.jwks_refresh, std::time::Duration::from_secs(60));
}

#[test]
fn the_jwks_refresh_interval_is_bounded() {
    let with = |v: &str| {
        load(&[
            ("MCP_OAUTH_ISSUER", ISSUER),
            ("MCP_OAUTH_CLIENT_IDS", "abc"),
            ("MCP_RESOURCE_URL", RESOURCE),
            ("MCP_OAUTH_JWKS_REFRESH_SECONDS", v),
        ])
    };
    assert!(with("5").is_ok());
    for bad in ["0", "0.5", "3601", "soon", "-1"] {
        assert_eq!(
            with(bad).unwrap_err().variable,
            "MCP_OAUTH_JWKS_REFRESH_SECONDS",
            "{bad}"
        );
    }
}

#[test]
fn oauth_without_audience_or_client_ids_is_refused() {
    let e = err(&[("MCP_OAUTH_ISSUER", ISSUER), ("MCP_RESOURCE_URL", RESOURCE)]);
    assert_eq!(e.variable, "MCP_OAUTH_AUDIENCE");
}

#[test]
fn oauth_and_static_token_together_are_refused() {
    let e = err(&[
        ("MCP_AUTH_TOKEN", "tok"),
        ("MCP_OAUTH_ISSUER", ISSUER),
        ("MCP_OAUTH_AUDIENCE", "api"),
        ("MCP_RESOURCE_URL", RESOURCE),
    ]);
    assert_eq!(e.variable, "MCP_AUTH_TOKEN");
}

#[test]
fn oauth_settings_without_an_issuer_are_refused() {
    for var in [
        "MCP_OAUTH_JWKS_URL",
        "MCP_OAUTH_AUDIENCE",
        "MCP_OAUTH_CLIENT_IDS",
        "MCP_OAUTH_REQUIRED_SCOPES",
        "MCP_RESOURCE_URL",
    ] {
        let e = err(&[(var, "https://x.example.com/a")]);
        assert_eq!(e.variable, var);
        assert!(e.message.contains("MCP_OAUTH_ISSUER"), "{}", e.message);
        assert_eq!(err(&[(var, " ")]).variable, var, "empty {var}");
    }
}

#[test]
fn urls_must_be_https_except_loopback() {
    let with = |issuer: &str, jwks: &str, resource: &str| {
        load(&[
            ("MCP_OAUTH_ISSUER", issuer),
            ("MCP_OAUTH_JWKS_URL", jwks),
            ("MCP_OAUTH_AUDIENCE", "api"),
            ("MCP_RESOURCE_URL", resource),
        ])
    };
    let jwks = "https://idp.example.com/jwks.json";
    assert!(with(ISSUER, jwks, RESOURCE).is_ok());
    assert!(with(
        "http://127.0.0.1:8080/pool",
        "http://localhost:8080/k",
        "http://[::1]:9/ossserver/ossmcp"
    )
    .is_ok());
    let e = with("http://idp.example.com", jwks, RESOURCE).unwrap_err();
    assert_eq!(e.variable, "MCP_OAUTH_ISSUER");
    let e = with(ISSUER, "http://10.0.0.1/jwks", RESOURCE).unwrap_err();
    assert_eq!(e.variable, "MCP_OAUTH_JWKS_URL");
    let e = with(ISSUER, "file:///etc/passwd", RESOURCE).unwrap_err();
    assert_eq!(e.variable, "MCP_OAUTH_JWKS_URL");
    let e = with(ISSUER, "https://u:p@idp.example.com/k", RESOURCE).unwrap_err();
    assert_eq!(e.variable, "MCP_OAUTH_JWKS_URL");
    let e = with(ISSUER, jwks, "ftp://mcp.example.com/ossserver/ossmcp").unwrap_err();
    assert_eq!(e.variable, "MCP_RESOURCE_URL");
}

#[test]
fn the_resource_url_must_name_a_served_path() {
    let with = |resource: &str| {
        load(&[
            ("MCP_OAUTH_ISSUER", ISSUER),
            ("MCP_OAUTH_AUDIENCE", "api"),
            ("MCP_RESOURCE_URL", resource),
        ])
    };
    assert!(with("https://mcp.example.com/ossserver/ossmcp").is_ok());
    for bad in [
        "https://mcp.example.com/",
        "https://mcp.example.com/other/ossmcp",
        "https://mcp.example.com/ossserver/ossmcp?x=1",
    ] {
        assert_eq!(with(bad).unwrap_err().variable, "MCP_RESOURCE_URL", "{bad}");
    }
    let e = load(&[("MCP_OAUTH_ISSUER", ISSUER), ("MCP_OAUTH_AUDIENCE", "api")]).unwrap_err();
    assert_eq!(e.variable, "MCP_RESOURCE_URL");
}

#[test]
fn scopes_with_quotes_are_refused() {
    let e = err(&[
        ("MCP_OAUTH_ISSUER", ISSUER),
        ("MCP_OAUTH_AUDIENCE", "api"),
        ("MCP_OAUTH_REQUIRED_SCOPES", "a\"b"),
        ("MCP_RESOURCE_URL", RESOURCE),
    ]);
    assert_eq!(e.variable, "MCP_OAUTH_REQUIRED_SCOPES");
}
