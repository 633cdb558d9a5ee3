//! `mcpctl verify --bearer-token-env` against the server as an OAuth 2.1 resource server, with a
//! real RS256 access token from Amazon Cognito in moto: the configured app client's token passes
//! the probe; without a token, and with the other app client's, the probe reports 401 with the
//! hint and exit 1. The token is never printed.

use std::process::{Command, Output};

use crate::common::*;
use crate::server_support::*;

const RESOURCE: &str = "https://mcp.example.test/ossserver-stateless/ossmcp";

fn verify(url: &str, token: Option<&str>) -> (Output, String) {
    let mut cmd = Command::new(mcpctl_bin());
    cmd.args(["verify", url])
        .env_remove("MCP_AUTH_TOKEN")
        .env_remove("MY_MCP_TOKEN");
    if let Some(t) = token {
        cmd.args(["--bearer-token-env", "MY_MCP_TOKEN"])
            .env("MY_MCP_TOKEN", t);
    }
    let out = cmd.output().expect("run mcpctl verify");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn verify_passes_with_a_cognito_access_token_and_reports_401_without_it() {
    let moto = Moto::start();
    let osmem = Osmem::start_with_movies();
    let c = cognito_tokens(&moto);
    let s = |k: &str| c[k].as_str().expect(k).to_string();
    let server = Server::start(
        &osmem.url,
        &[
            ("MCP_OAUTH_ISSUER", &s("issuer")),
            ("MCP_OAUTH_JWKS_URL", &s("jwks_url")),
            ("MCP_OAUTH_CLIENT_IDS", &s("client_a")),
            ("MCP_RESOURCE_URL", RESOURCE),
        ],
    );
    let url = server.mcp_url();
    let token = s("access_a");

    let (out, text) = verify(&url, Some(&token));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("passed:"), "{text}");
    assert!(!text.contains(&token), "the token is never printed");

    for (what, t) in [
        ("no token", None),
        ("the other app client's", Some(s("access_b"))),
    ] {
        let (out, text) = verify(&url, t.as_deref());
        assert_eq!(out.status.code(), Some(1), "{what}: {text}");
        assert!(text.contains("HTTP 401"), "{what}: {text}");
    }
}
