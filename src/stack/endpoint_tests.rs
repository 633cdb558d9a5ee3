//! Loading `load_balancer` listener settings and `auth:`: defaults, the archive round trip,
//! and every mistake caught at load.

use super::*;
use crate::stack::{load_with_env, to_yaml, Stack};

const CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";

/// Load the repo's stateless stack with `extra` appended.
fn load(extra: &str) -> Result<Stack, String> {
    crate::stack::stateless_for_test(extra)
}

fn https(extra: &str) -> String {
    format!("load_balancer:\n  listener_protocol: HTTPS\n  certificate_arn: {CERT}\n{extra}")
}

const AUTH: &str = "auth:\n  issuer: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC\n  client_ids: [client-a]\n";

#[test]
fn https_defaults_to_port_443_and_round_trips_through_the_archive_form() {
    let s = load(&format!(
        "{}{AUTH}  scopes: [mcp/read]\n",
        https("  domain_names: [MCP.example.com]\n")
    ))
    .unwrap();
    assert_eq!(s.load_balancer.listener_port, 443);
    assert_eq!(s.load_balancer.listener_protocol, ListenerProtocol::Https);
    assert_eq!(s.load_balancer.certificate_arn.as_deref(), Some(CERT));
    assert_eq!(s.load_balancer.domain_names, vec!["mcp.example.com"]);
    let a = s.auth.clone().unwrap();
    assert_eq!(a.client_ids, vec!["client-a"]);
    assert_eq!(a.scopes, vec!["mcp/read"]);

    // `cleanup` archives a stack with to_yaml; loading it back gives the same stack.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("stack.yaml"), to_yaml(&s)).unwrap();
    let back = load_with_env(
        d.path().join("stack.yaml").to_str().unwrap(),
        d.path(),
        &|_| None,
    )
    .unwrap();
    assert_eq!(back.load_balancer, s.load_balancer);
    assert_eq!(back.auth, s.auth);
}

#[test]
fn every_listener_mistake_is_caught_at_load() {
    let cases = [
        ("load_balancer:\n  listener_protocol: HTTPS\n".to_string(), "needs `load_balancer.certificate_arn`"),
        (format!("load_balancer:\n  certificate_arn: {CERT}\n"), "only used with `listener_protocol: HTTPS`"),
        ("load_balancer:\n  listener_protocol: TLS\n".to_string(), "write `HTTP` or `HTTPS`"),
        ("load_balancer:\n  listener_protocol: HTTPS\n  certificate_arn: arn:aws:iam::123456789012:server-certificate/x\n".to_string(), "is not an ACM certificate ARN"),
        (https("  domain_names: ['*.example.com']\n"), "is not a domain name"),
        (https("  listener_port: 80\n"), "set `listener_port: 443`"),
    ];
    for (text, want) in cases {
        let e = load(&text).unwrap_err();
        assert!(e.contains(want), "{text}\n=> {e}");
        assert!(e.contains("s.yaml:"), "has a position: {e}");
    }
}

#[test]
fn every_auth_mistake_is_caught_at_load() {
    let cases = [
        // Bearer tokens in clear text.
        (AUTH.to_string(), "plain HTTP listener"),
        (
            https("auth:\n  issuer: https://issuer.example.com\n"),
            "needs `audience`",
        ),
        (
            https("auth:\n  issuer: http://issuer.example.com\n  audience: [x]\n"),
            "must be an https:// URL",
        ),
        (https("auth:\n  audience: [x]\n"), "needs `issuer`"),
        (
            https(&format!("{AUTH}env:\n  MCP_AUTH_TOKEN: abc\n")),
            "cannot be combined with OAuth",
        ),
        (
            https(&format!(
                "{AUTH}  resource_url: https://mcp.example.com/other\n"
            )),
            "must end in the stack's MCP path",
        ),
        (
            https(&format!("{AUTH}  scopes: ['a b']\n")),
            "is not an OAuth scope",
        ),
        (
            https(&format!(
                "{AUTH}routing:\n  path_patterns: [/a/*, /b/*, /c/*]\n"
            )),
            "over the ALB's limit of 5",
        ),
    ];
    for (text, want) in cases {
        let e = load(&text).unwrap_err();
        assert!(e.contains(want), "{text}\n=> {e}");
    }
    // TLS ending in front of the ALB: an https resource URL makes plain HTTP acceptable.
    let s = load(&format!(
        "{AUTH}  resource_url: https://mcp.example.com/ossserver-stateless/ossmcp\n"
    ))
    .unwrap();
    assert!(s.auth.is_some());
}

#[test]
fn urls_must_be_https_except_loopback_test_issuers() {
    assert!(https_url(
        "k",
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X"
    )
    .is_ok());
    assert!(https_url("k", "http://127.0.0.1:5000/us-east-1_X").is_ok());
    assert!(https_url("k", "http://issuer.example.com").is_err());
    assert!(https_url("k", "https://u:p@issuer.example.com").is_err());
    assert!(https_url("k", "not a url").is_err());
}

#[test]
fn domain_names_and_certificates_are_checked() {
    assert!(domain_name("mcp.example.com").is_ok());
    assert!(domain_name("*.example.com").is_err());
    assert!(domain_name("https://mcp.example.com").is_err());
    assert!(domain_name("localhost").is_err());
    assert!(certificate_arn(
        "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
    )
    .is_ok());
    assert!(certificate_arn("arn:aws:iam::123456789012:server-certificate/x").is_err());
    assert!(scope("mcp:read").is_ok());
    assert!(scope("two words").is_err());
}

#[test]
fn auth_env_names_the_server_settings() {
    let a = Auth {
        issuer: "https://issuer.example.com".into(),
        jwks_url: None,
        audience: vec![],
        client_ids: vec!["a1".into(), "b2".into()],
        scopes: vec!["mcp:read".into(), "mcp:call".into()],
        resource_url: None,
    };
    let env = a.env("https://mcp.example.com/ossserver-stateless/ossmcp");
    assert!(env.contains(&("MCP_OAUTH_CLIENT_IDS".into(), "a1,b2".into())));
    assert!(env.contains(&(
        "MCP_OAUTH_REQUIRED_SCOPES".into(),
        "mcp:read mcp:call".into()
    )));
    assert!(!env.iter().any(|(k, _)| k == "MCP_OAUTH_AUDIENCE"));
    assert_eq!(
        metadata_patterns(&["/ossserver-stateless/*".into()]),
        vec!["/.well-known/oauth-protected-resource/ossserver-stateless/*".to_string()]
    );
}
