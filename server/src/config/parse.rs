//! Parsers for single environment values; each error names its variable.

use std::net::IpAddr;
use std::time::Duration;

use super::ConfigError;

type HostParts = (Option<String>, String, Option<u16>);

/// Split `OPENSEARCH_HOST` (with or without scheme and port) into its parts.
pub(super) fn split_host(raw: &str) -> Result<HostParts, ConfigError> {
    let bad = |why: &str| ConfigError {
        variable: "OPENSEARCH_HOST",
        message: format!(
            "'{raw}' {why} (expected a host name, host:port, or http(s)://host[:port])"
        ),
    };
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, rest)) => {
            let s = s.to_ascii_lowercase();
            if s != "http" && s != "https" {
                return Err(bad("has a scheme other than http or https"));
            }
            (Some(s), rest)
        }
        None => (None, raw),
    };
    let rest = rest.trim_end_matches('/');
    if rest.contains('/') || rest.contains('@') || rest.is_empty() {
        return Err(bad("is not a plain host"));
    }
    let authority = http::uri::Authority::try_from(rest).map_err(|_| bad("is not a valid host"))?;
    let host = authority.host().trim_matches(['[', ']']).to_string();
    if host.is_empty() {
        return Err(bad("has no host name"));
    }
    // A port that is there must be a port: `localhost:notaport` is an error, not 9200.
    let after_host = &rest[rest.rfind(']').map_or(0, |i| i + 1)..];
    let port = match after_host.rsplit_once(':') {
        None => None,
        Some((_, p)) => match p.parse::<u16>() {
            Ok(p) if p > 0 && !rest.starts_with(':') => Some(p),
            _ => return Err(bad("has a port that is not a number from 1 to 65535")),
        },
    };
    Ok((scheme, host, port))
}

/// `MCP_HOST`: an IP address (or `localhost`).
pub(super) fn parse_listen_host(v: &str) -> Option<IpAddr> {
    if v.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::from([127, 0, 0, 1]));
    }
    v.trim_matches(['[', ']']).parse().ok()
}

/// A comma-separated list, trimmed, empty items dropped.
pub(super) fn split_list(v: Option<String>) -> Vec<String> {
    v.map(|v| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), or `default` when unset.
pub(super) fn parse_bool(
    variable: &'static str,
    v: Option<String>,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError {
            variable,
            message: format!("'{v}' is not a boolean; use true or false"),
        }),
    }
}

/// A TCP port 1–65535, or `default` when unset.
pub(super) fn parse_port(
    variable: &'static str,
    v: Option<String>,
    default: u16,
) -> Result<u16, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    match v.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(ConfigError {
            variable,
            message: format!("'{v}' is not a TCP port; use a number from 1 to 65535"),
        }),
    }
}

/// A whole number, or `default` when unset.
pub(super) fn parse_num<T: std::str::FromStr>(
    variable: &'static str,
    v: Option<String>,
    default: T,
) -> Result<T, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    v.parse::<T>().map_err(|_| ConfigError {
        variable,
        message: format!("'{v}' is not a whole number"),
    })
}

/// Seconds as an integer or decimal (`30`, `2.5`), as the Python server accepted.
pub(super) fn parse_seconds(
    variable: &'static str,
    v: Option<String>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    match v.trim_end_matches('s').parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(ConfigError {
            variable,
            message: format!(
                "'{v}' is not a number of seconds between 0 and 3600 (e.g. 30 or 2.5)"
            ),
        }),
    }
}

/// A URL path starting with `/` (trailing `/` dropped), or `None` when unset.
pub(super) fn parse_path(
    variable: &'static str,
    v: Option<String>,
) -> Result<Option<String>, ConfigError> {
    let Some(v) = v else { return Ok(None) };
    let ok = v.starts_with('/')
        && !v.contains("//")
        && !v.contains(['?', '#', ' ', '*', '{', '}'])
        && v.is_ascii();
    if !ok {
        return Err(ConfigError {
            variable,
            message: format!(
                "'{v}' is not a URL path; use something like /ossserver-stateless/ossmcp"
            ),
        });
    }
    let trimmed = v.trim_end_matches('/');
    Ok(Some(if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    }))
}

/// `/a/b/ossmcp` → `/a/b/health`; `/mcp` → `/health`.
pub(super) fn sibling_health_path(mcp_path: &str) -> String {
    match mcp_path.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/health"),
        None => "/health".into(),
    }
}
