//! Configuration from environment variables, with the Python server's names and defaults.
//!
//! Every value is checked at start-up; a bad one stops the server with a message that names the
//! variable and says what it accepts (the Python server silently fell back to defaults).

mod allow;
pub mod auth;
mod limits;
pub mod metrics;
mod parse;
#[cfg(test)]
mod tests;

pub use allow::{AllowedHosts, AllowedOrigins, RequestOrigin};
pub use limits::{
    Limits, BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, HEALTH_RESERVE, WRITE_STALL_TIMEOUT,
};

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

pub use auth::{AuthConfig, OAuthConfig};
use parse::{
    parse_bool, parse_listen_host, parse_num, parse_path, parse_port, parse_seconds,
    sibling_health_path, split_host, split_list,
};

/// A configuration error: which variable, what was wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong and what to set instead.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A secret string (password, token) whose `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// How the server authenticates to OpenSearch.
#[derive(Clone, PartialEq, Eq)]
pub enum OpenSearchAuth {
    /// No authentication.
    None,
    /// HTTP basic auth (`OPENSEARCH_USERNAME` / `OPENSEARCH_PASSWORD`).
    Basic {
        /// User name.
        username: String,
        /// Password (never logged or returned).
        password: Secret,
    },
    /// AWS SigV4 with the standard credential chain (`OPENSEARCH_USE_IAM=true`).
    Iam {
        /// Signing service: `es` (managed domains) or `aoss` (Serverless).
        service: String,
    },
}

impl fmt::Debug for OpenSearchAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a password, even in debug output.
        f.write_str(self.kind())
    }
}

impl OpenSearchAuth {
    /// A credential-free name for logs and the config resource.
    pub fn kind(&self) -> &'static str {
        match self {
            OpenSearchAuth::None => "none",
            OpenSearchAuth::Basic { .. } => "basic",
            OpenSearchAuth::Iam { .. } => "iam",
        }
    }
}

/// Where and how to reach OpenSearch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSearchConfig {
    /// Host name without scheme or port.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `https` when true.
    pub use_ssl: bool,
    /// Verify the server certificate (only meaningful with SSL).
    pub ssl_verify: bool,
    /// Authentication.
    pub auth: OpenSearchAuth,
    /// Per-call deadline: no tool call waits longer than this.
    pub timeout: Duration,
    /// Retries on connection errors and 502/503/504, within `timeout`.
    pub max_retries: u32,
    /// Index used when a tool call names none.
    pub default_index: Option<String>,
    /// Cap on `size` for searches.
    pub max_results: u32,
    /// Byte budget of one OpenSearch answer (`MCP_MAX_RESPONSE_BYTES`).
    pub max_response_bytes: usize,
    /// Let search bodies hold scripts (`OPENSEARCH_ALLOW_SCRIPTS`).
    pub allow_scripts: bool,
}

/// Default byte budget of one OpenSearch answer: 2 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 2 * 1024 * 1024;

/// `MCP_HOST`: the IP address to listen on (all interfaces when unset).
fn listen_host(value: Option<String>) -> Result<IpAddr, ConfigError> {
    match value {
        None => Ok(IpAddr::from([0, 0, 0, 0])),
        Some(v) => parse_listen_host(&v).ok_or_else(|| ConfigError {
            variable: "MCP_HOST",
            message: format!(
                "'{v}' is not an IP address to listen on (use 0.0.0.0 for all interfaces, 127.0.0.1 for local only)"
            ),
        }),
    }
}

/// `MCP_PATH`, `MCP_HEALTH_PATH` (its sibling by default, never the same path) and
/// `MCP_PATH_ALIASES` (prefixes, not `/`, each once).
fn served_paths(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<(String, String, Vec<String>), ConfigError> {
    let mcp_path =
        parse_path("MCP_PATH", get("MCP_PATH"))?.unwrap_or_else(|| DEFAULT_MCP_PATH.to_string());
    let health_path = match parse_path("MCP_HEALTH_PATH", get("MCP_HEALTH_PATH"))? {
        Some(p) => p,
        None => sibling_health_path(&mcp_path),
    };
    if health_path == mcp_path {
        return Err(ConfigError {
            variable: "MCP_HEALTH_PATH",
            message: format!("must differ from MCP_PATH ({mcp_path})"),
        });
    }
    let mut path_aliases = Vec::new();
    for alias in split_list(get("MCP_PATH_ALIASES")) {
        let p = parse_path("MCP_PATH_ALIASES", Some(alias))?.unwrap_or_default();
        if p == "/" {
            return Err(ConfigError {
                variable: "MCP_PATH_ALIASES",
                message: "'/' is not a prefix; list prefixes such as /ossserver".into(),
            });
        }
        if !path_aliases.contains(&p) {
            path_aliases.push(p);
        }
    }
    Ok((mcp_path, health_path, path_aliases))
}

/// `MCP_MAX_BODY_BYTES`: 1 MiB by default, at least 1024.
fn max_body_bytes(value: Option<String>) -> Result<usize, ConfigError> {
    let max = parse_num::<usize>("MCP_MAX_BODY_BYTES", value, 1024 * 1024)?;
    if max < 1024 {
        return Err(ConfigError {
            variable: "MCP_MAX_BODY_BYTES",
            message: format!("{max} is too small; use at least 1024 bytes"),
        });
    }
    Ok(max)
}

impl OpenSearchConfig {
    /// The base URL, e.g. `https://search-x.eu-west-1.es.amazonaws.com:443`.
    pub fn url(&self) -> String {
        let scheme = if self.use_ssl { "https" } else { "http" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// The whole server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Listen address (`MCP_HOST`).
    pub host: IpAddr,
    /// Listen port (`MCP_PORT`).
    pub port: u16,
    /// MCP endpoint path (`MCP_PATH`).
    pub mcp_path: String,
    /// Health endpoint path (`MCP_HEALTH_PATH`, default: sibling `health` of `MCP_PATH`).
    pub health_path: String,
    /// Extra prefixes serving the same endpoints (`MCP_PATH_ALIASES`).
    pub path_aliases: Vec<String>,
    /// Stateless transport (`MCP_STATELESS`).
    pub stateless: bool,
    /// Accepted `Host` values (`MCP_ALLOWED_HOSTS`).
    pub allowed_hosts: AllowedHosts,
    /// Accepted `Origin` values, which also get CORS headers (`MCP_ALLOWED_ORIGINS`).
    pub allowed_origins: AllowedOrigins,
    /// Sessions, connections and timeouts (`MCP_MAX_SESSIONS`, `MCP_MAX_CONNECTIONS`, ...).
    pub limits: Limits,
    /// Largest accepted request body (`MCP_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// How callers authenticate: `MCP_AUTH_TOKEN` or OAuth (`MCP_OAUTH_*`).
    pub auth: AuthConfig,
    /// How long to let in-flight requests finish after SIGTERM (`MCP_SHUTDOWN_TIMEOUT`).
    pub shutdown_timeout: Duration,
    /// The `X-Served-By` header (`MCP_SERVED_BY`, `MCP_REPLICA_ID`); see `served_by.rs`.
    pub served_by: crate::served_by::ServedBy,
    /// CloudWatch metrics in the request log (`MCP_METRICS_NAMESPACE`); `None`: off.
    pub metrics: Option<metrics::MetricsConfig>,
    /// OpenSearch connection.
    pub opensearch: OpenSearchConfig,
}

/// `MCP_SERVED_BY` (default true) and `MCP_REPLICA_ID` (an explicit id) as one setting.
fn served_by_setting(
    on: Option<String>,
    replica_id: Option<String>,
) -> Result<crate::served_by::ServedBy, ConfigError> {
    use crate::served_by::{is_valid_id, ServedBy, MAX_ID_LEN};
    if !parse_bool("MCP_SERVED_BY", on, true)? {
        return Ok(ServedBy::Off);
    }
    match replica_id.filter(|v| !v.is_empty()) {
        None => Ok(ServedBy::Auto),
        Some(id) if is_valid_id(&id) => Ok(ServedBy::Id(id)),
        Some(id) => Err(ConfigError {
            variable: "MCP_REPLICA_ID",
            message: format!(
                "'{id}' is not a replica id: use 1 to {MAX_ID_LEN} letters, digits, '.', '_' or '-'"
            ),
        }),
    }
}

/// Default MCP path, as in the stateless Python deployment.
pub const DEFAULT_MCP_PATH: &str = "/ossserver-stateless/ossmcp";

impl Config {
    /// Read the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read the configuration through `lookup` (the environment, or a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let host = listen_host(get("MCP_HOST"))?;
        let port = parse_port("MCP_PORT", get("MCP_PORT"), 9898)?;
        let (mcp_path, health_path, path_aliases) = served_paths(&get)?;
        let stateless = parse_bool("MCP_STATELESS", get("MCP_STATELESS"), true)?;
        let allowed_hosts = AllowedHosts::parse(get("MCP_ALLOWED_HOSTS"))?;
        let allowed_origins = AllowedOrigins::parse(get("MCP_ALLOWED_ORIGINS"))?;
        let limits = Limits::from_lookup(&get)?;
        let max_body_bytes = max_body_bytes(get("MCP_MAX_BODY_BYTES"))?;
        let last = mcp_path.rsplit('/').next().unwrap_or_default();
        let mut served = vec![mcp_path.clone()];
        served.extend(path_aliases.iter().map(|a| format!("{a}/{last}")));
        let auth = AuthConfig::from_lookup(&lookup, &served)?;
        let shutdown_timeout = parse_seconds(
            "MCP_SHUTDOWN_TIMEOUT",
            get("MCP_SHUTDOWN_TIMEOUT"),
            Duration::from_secs(20),
        )?;

        let served_by = served_by_setting(get("MCP_SERVED_BY"), get("MCP_REPLICA_ID"))?;

        let metrics = metrics::MetricsConfig::from_lookup(&get)?;
        let opensearch = OpenSearchConfig::from_lookup(&get)?;
        Ok(Config {
            metrics,
            host,
            port,
            mcp_path,
            health_path,
            path_aliases,
            stateless,
            allowed_hosts,
            allowed_origins,
            limits,
            max_body_bytes,
            auth,
            shutdown_timeout,
            served_by,
            opensearch,
        })
    }

    /// The MCP path under each alias prefix, e.g. `/ossserver/ossmcp` for alias `/ossserver`.
    pub fn alias_paths(&self, path: &str) -> Vec<String> {
        let last = path.rsplit('/').next().unwrap_or_default();
        self.path_aliases
            .iter()
            .map(|prefix| format!("{prefix}/{last}"))
            .filter(|p| p != path)
            .collect()
    }

    /// The mode name shown in health and logs.
    pub fn mode(&self) -> &'static str {
        if self.stateless {
            "stateless"
        } else {
            "stateful"
        }
    }
}

impl OpenSearchConfig {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<OpenSearchConfig, ConfigError> {
        let raw_host = get("OPENSEARCH_HOST").unwrap_or_else(|| "localhost".to_string());
        let use_ssl_env = get("OPENSEARCH_USE_SSL")
            .map(|v| parse_bool("OPENSEARCH_USE_SSL", Some(v), false))
            .transpose()?;
        let (scheme, host, host_port) = split_host(&raw_host)?;
        let use_ssl = match (scheme, use_ssl_env) {
            (Some(s), Some(flag)) if (s == "https") != flag => {
                return Err(ConfigError {
                    variable: "OPENSEARCH_USE_SSL",
                    message: format!(
                        "is {flag} but OPENSEARCH_HOST starts with {s}://; drop one of them or make them agree"
                    ),
                })
            }
            (Some(s), _) => s == "https",
            (None, Some(flag)) => flag,
            (None, None) => false,
        };
        let port_env = get("OPENSEARCH_PORT");
        let port = match (host_port, port_env) {
            (Some(hp), Some(p)) => {
                let p = parse_port("OPENSEARCH_PORT", Some(p), hp)?;
                if p != hp {
                    return Err(ConfigError {
                        variable: "OPENSEARCH_PORT",
                        message: format!(
                            "is {p} but OPENSEARCH_HOST names port {hp}; drop one of them or make them agree"
                        ),
                    });
                }
                p
            }
            (Some(hp), None) => hp,
            (None, p) => parse_port("OPENSEARCH_PORT", p, if use_ssl { 443 } else { 9200 })?,
        };
        let ssl_verify = parse_bool("OPENSEARCH_SSL_VERIFY", get("OPENSEARCH_SSL_VERIFY"), true)?;
        let use_iam = parse_bool("OPENSEARCH_USE_IAM", get("OPENSEARCH_USE_IAM"), false)?;
        let username = get("OPENSEARCH_USERNAME");
        let password = get("OPENSEARCH_PASSWORD");
        let service = get("OPENSEARCH_SERVICE").unwrap_or_else(|| "es".to_string());
        if service != "es" && service != "aoss" {
            return Err(ConfigError {
                variable: "OPENSEARCH_SERVICE",
                message: format!(
                    "'{service}' is not a SigV4 service for OpenSearch; use es (managed domain) or aoss (Serverless)"
                ),
            });
        }
        let auth = match (use_iam, username, password) {
            (true, Some(_), _) | (true, _, Some(_)) => {
                return Err(ConfigError {
                    variable: "OPENSEARCH_USE_IAM",
                    message: "is true but OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD are also set; use one way to authenticate".into(),
                })
            }
            (true, None, None) => OpenSearchAuth::Iam { service },
            (false, Some(username), Some(password)) => OpenSearchAuth::Basic {
                username,
                password: Secret(password),
            },
            (false, Some(_), None) => {
                return Err(ConfigError {
                    variable: "OPENSEARCH_PASSWORD",
                    message: "is not set but OPENSEARCH_USERNAME is; set both for basic auth".into(),
                })
            }
            (false, None, Some(_)) => {
                return Err(ConfigError {
                    variable: "OPENSEARCH_USERNAME",
                    message: "is not set but OPENSEARCH_PASSWORD is; set both for basic auth".into(),
                })
            }
            (false, None, None) => OpenSearchAuth::None,
        };
        let timeout = parse_seconds(
            "OPENSEARCH_TIMEOUT",
            get("OPENSEARCH_TIMEOUT"),
            Duration::from_secs(30),
        )?;
        let max_retries =
            parse_num::<u32>("OPENSEARCH_MAX_RETRIES", get("OPENSEARCH_MAX_RETRIES"), 3)?;
        if max_retries > 10 {
            return Err(ConfigError {
                variable: "OPENSEARCH_MAX_RETRIES",
                message: format!("{max_retries} is too many; use 0 to 10"),
            });
        }
        let default_index = get("OPENSEARCH_DEFAULT_INDEX");
        if let Some(i) = &default_index {
            use crate::opensearch::path::{IndexExpr, IndexRule};
            IndexExpr::parse(i, IndexRule::Pattern).map_err(|e| ConfigError {
                variable: "OPENSEARCH_DEFAULT_INDEX",
                message: e.to_string(),
            })?;
        }
        let max_results =
            parse_num::<u32>("OPENSEARCH_MAX_RESULTS", get("OPENSEARCH_MAX_RESULTS"), 100)?;
        if !(1..=10_000).contains(&max_results) {
            return Err(ConfigError {
                variable: "OPENSEARCH_MAX_RESULTS",
                message: format!("{max_results} is out of range; use 1 to 10000"),
            });
        }
        let max_response_bytes = parse_num::<usize>(
            "MCP_MAX_RESPONSE_BYTES",
            get("MCP_MAX_RESPONSE_BYTES"),
            DEFAULT_MAX_RESPONSE_BYTES,
        )?;
        if !(1024..=1024 * 1024 * 1024).contains(&max_response_bytes) {
            return Err(ConfigError {
                variable: "MCP_MAX_RESPONSE_BYTES",
                message: format!(
                    "{max_response_bytes} is out of range; use 1024 to 1073741824 bytes"
                ),
            });
        }
        let allow_scripts = parse_bool(
            "OPENSEARCH_ALLOW_SCRIPTS",
            get("OPENSEARCH_ALLOW_SCRIPTS"),
            false,
        )?;
        Ok(OpenSearchConfig {
            max_response_bytes,
            allow_scripts,
            host,
            port,
            use_ssl,
            ssl_verify,
            auth,
            timeout,
            max_retries,
            default_index,
            max_results,
        })
    }
}
