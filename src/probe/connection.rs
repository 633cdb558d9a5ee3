//! The client connection options `verify`, `call` and `shell` share: extra request headers
//! (`--header 'NAME: VALUE'`) and a bearer token read from an environment variable
//! (`--bearer-token-env VAR`), so a token never has to appear on the command line.
//!
//! Header values may be secrets: messages name the header, never its value.

use clap::Args;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Most `--header` options accepted.
const MAX_HEADERS: usize = 32;

/// Headers the MCP client sets itself; a `--header` may not replace them.
const RESERVED: [&str; 8] = [
    "accept",
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
    "mcp-session-id",
    "mcp-protocol-version",
];

/// `--token`, `--header` and `--bearer-token-env`: how `verify`, `call` and `shell` reach a
/// server that wants credentials or extra headers.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// Bearer token for servers that require one (prefer --bearer-token-env).
    #[arg(long, env = "MCP_AUTH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Extra HTTP header on every MCP request, e.g. --header 'X-Tenant: blue' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Send `Authorization: Bearer <token>` with the token read from this environment variable
    /// (keeps the token off the command line), e.g. --bearer-token-env MCP_TOKEN.
    #[arg(long, value_name = "VAR")]
    pub bearer_token_env: Option<String>,
}

/// What [`ConnectionArgs`] resolve to.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Extra headers (never `Authorization` when `bearer` is set).
    pub headers: HeaderMap,
    /// The bearer token, if one is to be sent.
    pub bearer: Option<String>,
}

impl ConnectionArgs {
    /// Check the options and read the token (`--bearer-token-env`, else `--token`).
    pub fn resolve(&self) -> Result<Connection, String> {
        self.resolve_with(self.token.clone(), |name| std::env::var(name).ok())
    }

    /// [`ConnectionArgs::resolve`] with the environment given by `env`.
    pub fn resolve_with(
        &self,
        token: Option<String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Connection, String> {
        let headers = parse_headers(&self.headers)?;
        let from_env = match &self.bearer_token_env {
            None => None,
            Some(var) => {
                let value = env(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                    format!(
                        "--bearer-token-env {var}: the environment variable {var} is not set or \
                         empty; export it with the token first"
                    )
                })?;
                Some(value.trim().to_string())
            }
        };
        let bearer = from_env.or(token.filter(|t| !t.is_empty()));
        if let Some(t) = &bearer {
            if HeaderValue::from_str(&format!("Bearer {t}")).is_err() {
                return Err("the bearer token has characters not allowed in an HTTP header".into());
            }
            if headers.contains_key(reqwest::header::AUTHORIZATION) {
                return Err(
                    "give the token either as a bearer token or as --header 'Authorization: ...', \
                     not both"
                        .into(),
                );
            }
        }
        Ok(Connection { headers, bearer })
    }
}

/// Parse `NAME: VALUE` options into headers; reserved and malformed ones are refused.
pub fn parse_headers(options: &[String]) -> Result<HeaderMap, String> {
    if options.len() > MAX_HEADERS {
        return Err(format!("at most {MAX_HEADERS} --header options"));
    }
    let mut map = HeaderMap::new();
    for option in options {
        let Some((name, value)) = option.split_once(':') else {
            return Err(format!(
                "--header {:?} has no ':'; write it as 'NAME: VALUE', e.g. 'X-Tenant: blue'",
                name_only(option)
            ));
        };
        let name = name.trim();
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            format!("--header: {name:?} is not a valid header name (letters, digits and -)")
        })?;
        if RESERVED.contains(&header.as_str()) {
            return Err(format!(
                "--header {name}: the MCP client sets this header itself; it cannot be replaced"
            ));
        }
        let value = HeaderValue::from_str(value.trim()).map_err(|_| {
            format!("--header {name}: the value has characters not allowed in an HTTP header")
        })?;
        map.append(header, value);
    }
    Ok(map)
}

/// The part of a malformed option that is safe to echo: its first word, at most 40
/// characters (what follows may be a secret).
fn name_only(option: &str) -> String {
    option
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(headers: &[&str], env: Option<&str>) -> ConnectionArgs {
        ConnectionArgs {
            token: None,
            headers: headers.iter().map(|s| s.to_string()).collect(),
            bearer_token_env: env.map(str::to_string),
        }
    }

    #[test]
    fn headers_are_parsed_and_reserved_ones_refused() {
        let c = args(&["X-Tenant: blue", "x-trace:  a b "], None)
            .resolve_with(None, |_| None)
            .unwrap();
        assert_eq!(c.headers["x-tenant"], "blue");
        assert_eq!(c.headers["x-trace"], "a b");
        assert!(c.bearer.is_none());
        for bad in [
            "no-colon",
            "Bad Name: x",
            "Mcp-Session-Id: s",
            "Content-Type: text/plain",
            "X-A: a\u{7f}b",
        ] {
            let e = args(&[bad], None).resolve_with(None, |_| None).unwrap_err();
            assert!(e.contains("--header"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_bearer_token_comes_from_the_named_variable_and_is_never_echoed() {
        let env = |n: &str| (n == "MY_TOKEN").then(|| "s3cret-token".to_string());
        let c = args(&[], Some("MY_TOKEN"))
            .resolve_with(Some("old".into()), env)
            .unwrap();
        assert_eq!(c.bearer.as_deref(), Some("s3cret-token"));
        let e = args(&[], Some("MISSING"))
            .resolve_with(None, env)
            .unwrap_err();
        assert!(e.contains("MISSING is not set"), "{e}");
        let e = args(&["Authorization: Bearer s3cret-token"], Some("MY_TOKEN"))
            .resolve_with(None, env)
            .unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
        let e = args(&["Authorization s3cret-token"], None)
            .resolve_with(None, env)
            .unwrap_err();
        assert!(e.contains("no ':'") && !e.contains("s3cret"), "{e}");
        // The older --token still works when no variable is named.
        let c = args(&[], None).resolve_with(Some("t".into()), env).unwrap();
        assert_eq!(c.bearer.as_deref(), Some("t"));
    }
}
