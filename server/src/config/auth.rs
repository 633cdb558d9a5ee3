//! Authentication settings of the MCP endpoint: the static `MCP_AUTH_TOKEN`, or an OAuth 2.1
//! resource server (`MCP_OAUTH_*`, `MCP_RESOURCE_URL`). Incomplete or contradictory settings are
//! start-up errors that name the variable: authentication never silently turns itself off.

use url::Url;

use super::parse::split_list;
use super::{ConfigError, Secret};

/// The OAuth variables; any of them set without `MCP_OAUTH_ISSUER` is an error.
const OAUTH_VARS: [&str; 7] = [
    "MCP_OAUTH_ISSUER",
    "MCP_OAUTH_JWKS_URL",
    "MCP_OAUTH_JWKS_REFRESH_SECONDS",
    "MCP_OAUTH_AUDIENCE",
    "MCP_OAUTH_CLIENT_IDS",
    "MCP_OAUTH_REQUIRED_SCOPES",
    "MCP_RESOURCE_URL",
];

/// How callers of the MCP endpoint authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthConfig {
    /// No authentication (neither `MCP_AUTH_TOKEN` nor `MCP_OAUTH_ISSUER` set).
    #[default]
    None,
    /// One shared bearer token (`MCP_AUTH_TOKEN`).
    StaticToken(Secret),
    /// OAuth 2.1 access tokens (JWTs) from one authorization server.
    OAuth(Box<OAuthConfig>),
}

impl AuthConfig {
    /// A secret-free name for the start-up log: `none`, `static_token` or `oauth`.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthConfig::None => "none",
            AuthConfig::StaticToken(_) => "static_token",
            AuthConfig::OAuth(_) => "oauth",
        }
    }
}

/// The OAuth resource-server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// The expected `iss` (`MCP_OAUTH_ISSUER`), exactly as the tokens carry it.
    pub issuer: String,
    /// Where the signing keys are (`MCP_OAUTH_JWKS_URL`); `None`: the `jwks_uri` of
    /// `{issuer}/.well-known/openid-configuration`, looked up on first use.
    pub jwks_url: Option<Url>,
    /// Accepted `aud` values (`MCP_OAUTH_AUDIENCE`).
    pub audiences: Vec<String>,
    /// Accepted `client_id` values (`MCP_OAUTH_CLIENT_IDS`; Cognito access tokens have no `aud`).
    pub client_ids: Vec<String>,
    /// Scopes every token must carry (`MCP_OAUTH_REQUIRED_SCOPES`).
    pub required_scopes: Vec<String>,
    /// The endpoint's canonical URL (`MCP_RESOURCE_URL`), the metadata's `resource`.
    pub resource_url: Url,
    /// How often the JWKS is fetched again in the background
    /// (`MCP_OAUTH_JWKS_REFRESH_SECONDS`, 60 s), so a withdrawn key stops working that soon.
    pub jwks_refresh: std::time::Duration,
}

/// `https://…`, or `http://` to a loopback address (local tests only).
pub(crate) fn is_allowed_fetch_url(u: &Url) -> bool {
    match u.scheme() {
        "https" => u.has_host(),
        "http" => match u.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

fn parse_url(variable: &'static str, v: &str) -> Result<Url, ConfigError> {
    let bad = |why: &str| ConfigError {
        variable,
        message: format!(
            "'{v}' {why}; use an https:// URL (plain http only to 127.0.0.1/localhost, for tests)"
        ),
    };
    let u = Url::parse(v).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !is_allowed_fetch_url(&u) {
        return Err(bad("is not https"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("carries credentials"));
    }
    if u.fragment().is_some() {
        return Err(bad("has a #fragment"));
    }
    Ok(u)
}

impl AuthConfig {
    /// Read the authentication settings. `raw` returns a variable as set (not trimmed, empty
    /// kept); `mcp_paths` are the paths the MCP endpoint is served at (MCP_PATH first).
    pub(super) fn from_lookup(
        raw: &impl Fn(&str) -> Option<String>,
        mcp_paths: &[String],
    ) -> Result<AuthConfig, ConfigError> {
        let get = |name: &str| raw(name).map(|v| v.trim().to_string());
        let static_token = static_token(get("MCP_AUTH_TOKEN"))?;
        for var in OAUTH_VARS {
            if get(var).is_some_and(|v| v.is_empty()) {
                return Err(ConfigError {
                    variable: var,
                    message: "is set but empty; give it a value or unset it".into(),
                });
            }
        }
        let Some(issuer) = get("MCP_OAUTH_ISSUER") else {
            if let Some(var) = OAUTH_VARS[1..].iter().find(|v| get(v).is_some()) {
                return Err(ConfigError {
                    variable: var,
                    message: "is set but MCP_OAUTH_ISSUER is not; set the issuer to turn OAuth \
                              on, or unset this variable"
                        .into(),
                });
            }
            return Ok(static_token.map_or(AuthConfig::None, AuthConfig::StaticToken));
        };
        if static_token.is_some() {
            return Err(ConfigError {
                variable: "MCP_AUTH_TOKEN",
                message: "is set together with MCP_OAUTH_ISSUER; use one way to authenticate \
                          (unset MCP_AUTH_TOKEN to use OAuth)"
                    .into(),
            });
        }
        parse_url("MCP_OAUTH_ISSUER", &issuer)?;
        let jwks_url = get("MCP_OAUTH_JWKS_URL")
            .map(|v| parse_url("MCP_OAUTH_JWKS_URL", &v))
            .transpose()?;
        let audiences = split_list(get("MCP_OAUTH_AUDIENCE"));
        let client_ids = split_list(get("MCP_OAUTH_CLIENT_IDS"));
        if audiences.is_empty() && client_ids.is_empty() {
            return Err(ConfigError {
                variable: "MCP_OAUTH_AUDIENCE",
                message: "and MCP_OAUTH_CLIENT_IDS are both unset, so tokens issued for any \
                          other application would be accepted; set the audience (aud) of this \
                          server's tokens, or for Amazon Cognito the app client ids"
                    .into(),
            });
        }
        let required_scopes = split_scopes(get("MCP_OAUTH_REQUIRED_SCOPES"))?;
        let resource_url = resource_url(get("MCP_RESOURCE_URL"), mcp_paths)?;
        let jwks_refresh = jwks_refresh(get("MCP_OAUTH_JWKS_REFRESH_SECONDS"))?;
        Ok(AuthConfig::OAuth(Box::new(OAuthConfig {
            jwks_refresh,
            issuer,
            jwks_url,
            audiences,
            client_ids,
            required_scopes,
            resource_url,
        })))
    }
}

/// `MCP_AUTH_TOKEN`: a static bearer token, never empty, with no whitespace or control
/// characters.
fn static_token(value: Option<String>) -> Result<Option<Secret>, ConfigError> {
    match value {
        None => Ok(None),
        Some(v) if v.is_empty() => Err(ConfigError {
            variable: "MCP_AUTH_TOKEN",
            message: "is set but empty or whitespace, which would turn authentication \
                          off; set a long random token, or unset the variable to run \
                          without authentication"
                .into(),
        }),
        Some(v) if v.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(ConfigError {
            variable: "MCP_AUTH_TOKEN",
            message: "contains whitespace or control characters, which no client can \
                          send in an Authorization header; use a token of letters, digits \
                          and -._~+/"
                .into(),
        }),
        Some(v) => Ok(Some(Secret(v))),
    }
}

/// `MCP_RESOURCE_URL`: required with OAuth; no query, and its path one the server serves MCP at.
fn resource_url(value: Option<String>, mcp_paths: &[String]) -> Result<Url, ConfigError> {
    let resource = value.ok_or_else(|| ConfigError {
        variable: "MCP_RESOURCE_URL",
        message: "is required with MCP_OAUTH_ISSUER: the URL clients use for this endpoint, \
                  e.g. https://mcp.example.com/ossserver-stateless/ossmcp"
            .into(),
    })?;
    let resource_url = parse_url("MCP_RESOURCE_URL", &resource)?;
    if resource_url.query().is_some() || !mcp_paths.iter().any(|p| p == resource_url.path()) {
        return Err(ConfigError {
            variable: "MCP_RESOURCE_URL",
            message: format!(
                "'{resource}' must have no query and end in a path this server serves MCP \
                 at ({})",
                mcp_paths.join(", ")
            ),
        });
    }
    Ok(resource_url)
}

/// `MCP_OAUTH_JWKS_REFRESH_SECONDS`: how often the keys are re-read, 1 to 3600 s (60 by default).
fn jwks_refresh(value: Option<String>) -> Result<std::time::Duration, ConfigError> {
    let jwks_refresh = super::parse::parse_seconds(
        "MCP_OAUTH_JWKS_REFRESH_SECONDS",
        value,
        std::time::Duration::from_secs(60),
    )?;
    if !(1..=3600).contains(&jwks_refresh.as_secs()) {
        return Err(ConfigError {
            variable: "MCP_OAUTH_JWKS_REFRESH_SECONDS",
            message: format!(
                "{} s is out of range; use 1 to 3600 (a withdrawn key keeps working until \
                 the next refresh)",
                jwks_refresh.as_secs_f64()
            ),
        });
    }
    Ok(jwks_refresh)
}

/// Scopes separated by spaces or commas; each a scope-token of RFC 6749 (no `"` or `\`).
fn split_scopes(v: Option<String>) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for s in v
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|s| !s.is_empty())
    {
        if !s
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(ConfigError {
                variable: "MCP_OAUTH_REQUIRED_SCOPES",
                message: format!("'{s}' is not a scope (printable ASCII, no quotes or \\)"),
            });
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
