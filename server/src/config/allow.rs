//! `MCP_ALLOWED_HOSTS` and `MCP_ALLOWED_ORIGINS`: entries parsed once, at start-up, as
//! authorities and origins, and matched port-aware.
//!
//! * A host entry without a port accepts that name on any port; `name:PORT` accepts `Host:
//!   name:PORT`, and also a `Host` without a port when PORT is the default port of the scheme the
//!   client used (80, or 443 when the load balancer says `X-Forwarded-Proto: https`).
//! * An origin entry without a port means the scheme's default port (`https://app.example.com`
//!   is `https://app.example.com:443`), never "any port"; `:*` asks for any port explicitly.

use super::ConfigError;

/// One `MCP_ALLOWED_HOSTS` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    host: String,
    port: Option<u16>,
}

/// Which `Host` values the MCP endpoint accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHosts {
    /// `MCP_ALLOWED_HOSTS=*`: any host.
    Any,
    /// Only these.
    List(Vec<HostRule>),
}

/// A port in an origin entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginPort {
    /// `:*`
    Any,
    /// An explicit port, or the scheme's default when the entry has none.
    Exact(u16),
}

/// One `MCP_ALLOWED_ORIGINS` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginRule {
    /// The opaque origin `null` (sandboxed frames, `file:` pages).
    Null,
    /// `scheme://host[:port|:*]`.
    Tuple {
        /// Lower-case scheme.
        scheme: String,
        /// Lower-case host, IPv6 without brackets.
        host: String,
        /// Port rule.
        port: OriginPort,
    },
}

/// Which browser origins may call the MCP endpoint (and get CORS headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `MCP_ALLOWED_ORIGINS=*`: any origin.
    Any,
    /// Only these (empty: no browser origin; requests without `Origin` still pass).
    List(Vec<OriginRule>),
}

/// A request's origin, parsed from its `Origin` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOrigin {
    /// `Origin: null`
    Null,
    /// scheme, host, port (the default port filled in).
    Tuple(String, String, u16),
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// `name`, `name:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
fn parse_host_rule(h: &str) -> Option<HostRule> {
    if h.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some(HostRule {
            host: normalize_host(h),
            port: None,
        });
    }
    let (name, port) = if let Some(rest) = h.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        addr.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse::<u16>().ok()?),
        };
        return Some(HostRule {
            host: normalize_host(addr),
            port,
        });
    } else {
        match h.rsplit_once(':') {
            Some((name, port)) => (name, Some(port.parse::<u16>().ok()?)),
            None => (h, None),
        }
    };
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    valid.then(|| HostRule {
        host: normalize_host(name),
        port,
    })
}

impl AllowedHosts {
    /// Parse the variable's value (`None`: the localhost default).
    pub fn parse(value: Option<String>) -> Result<AllowedHosts, ConfigError> {
        let Some(v) = value else {
            return Ok(AllowedHosts::List(
                ["localhost", "127.0.0.1", "::1"]
                    .iter()
                    .map(|h| HostRule {
                        host: (*h).to_string(),
                        port: None,
                    })
                    .collect(),
            ));
        };
        if v == "*" {
            return Ok(AllowedHosts::Any);
        }
        let mut rules = Vec::new();
        for h in super::parse::split_list(Some(v)) {
            let bad = || {
                ConfigError {
                variable: "MCP_ALLOWED_HOSTS",
                message: format!(
                    "'{h}' is not a host name or host:port (use a comma-separated list, or * alone to allow any Host)"
                ),
            }
            };
            let rule = parse_host_rule(&h).ok_or_else(bad)?;
            rules.push(rule);
        }
        Ok(AllowedHosts::List(rules))
    }

    /// Whether a request's `Host` (name, optional port) is allowed; `implied_port` is the port
    /// a `Host` without one stands for (80, or 443 behind an HTTPS listener).
    pub fn allows(&self, host: &str, port: Option<u16>, implied_port: u16) -> bool {
        let rules = match self {
            AllowedHosts::Any => return true,
            AllowedHosts::List(rules) => rules,
        };
        let host = normalize_host(host);
        rules.iter().any(|r| {
            r.host == host
                && match r.port {
                    None => true,
                    Some(p) => port.unwrap_or(implied_port) == p,
                }
        })
    }
}

/// Parse `scheme://host[:port]` (an `Origin` header or an allow-list entry without `:*`):
/// (scheme, host, explicit-or-default port). `None` when it is not a plain origin.
fn parse_origin_tuple(v: &str) -> Option<(String, String, u16)> {
    let rest = v.split_once("://")?.1;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let url = url::Url::parse(v).ok()?;
    let scheme = url.scheme().to_ascii_lowercase();
    let host = normalize_host(url.host_str()?);
    // Schemes without a default port (browser extensions) compare as port 0.
    let port = url.port_or_known_default().unwrap_or(0);
    Some((scheme, host, port))
}

impl RequestOrigin {
    /// Parse an `Origin` header value; `None` when malformed.
    pub fn parse(v: &str) -> Option<RequestOrigin> {
        let v = v.trim();
        if v == "null" {
            return Some(RequestOrigin::Null);
        }
        parse_origin_tuple(v).map(|(s, h, p)| RequestOrigin::Tuple(s, h, p))
    }
}

impl AllowedOrigins {
    /// Parse the variable's value (`None`: no browser origin allowed).
    pub fn parse(value: Option<String>) -> Result<AllowedOrigins, ConfigError> {
        let Some(v) = value else {
            return Ok(AllowedOrigins::List(Vec::new()));
        };
        if v == "*" {
            return Ok(AllowedOrigins::Any);
        }
        let mut rules = Vec::new();
        for o in super::parse::split_list(Some(v)) {
            let bad = || {
                ConfigError {
                variable: "MCP_ALLOWED_ORIGINS",
                message: format!(
                    "'{o}' is not an origin like https://app.example.com (port 443 implied), http://localhost:8080 or http://localhost:* (comma-separated, or * alone to allow any)"
                ),
            }
            };
            let rule = if o == "null" {
                OriginRule::Null
            } else if let Some(base) = o.strip_suffix(":*") {
                // `:*` replaces the port: `https://h:8080:*` is a mistake.
                let authority = base.split_once("://").map(|x| x.1).unwrap_or_default();
                let has_port = if authority.starts_with('[') {
                    authority.contains("]:")
                } else {
                    authority.contains(':')
                };
                if has_port {
                    return Err(bad());
                }
                let (scheme, host, _) = parse_origin_tuple(base).ok_or_else(bad)?;
                OriginRule::Tuple {
                    scheme,
                    host,
                    port: OriginPort::Any,
                }
            } else {
                let (scheme, host, port) = parse_origin_tuple(&o).ok_or_else(bad)?;
                OriginRule::Tuple {
                    scheme,
                    host,
                    port: OriginPort::Exact(port),
                }
            };
            rules.push(rule);
        }
        Ok(AllowedOrigins::List(rules))
    }

    /// Whether a parsed request origin is allowed.
    pub fn allows(&self, origin: &RequestOrigin) -> bool {
        let rules = match self {
            AllowedOrigins::Any => return true,
            AllowedOrigins::List(rules) => rules,
        };
        rules.iter().any(|r| match (r, origin) {
            (OriginRule::Null, RequestOrigin::Null) => true,
            (OriginRule::Tuple { scheme, host, port }, RequestOrigin::Tuple(s, h, p)) => {
                scheme == s
                    && host == h
                    && match port {
                        OriginPort::Any => true,
                        OriginPort::Exact(x) => x == p,
                    }
            }
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(v: &str) -> AllowedHosts {
        AllowedHosts::parse(Some(v.to_string())).unwrap()
    }
    fn origins(v: &str) -> AllowedOrigins {
        AllowedOrigins::parse(Some(v.to_string())).unwrap()
    }
    fn origin(v: &str) -> RequestOrigin {
        RequestOrigin::parse(v).unwrap()
    }

    #[test]
    fn host_entries_are_port_aware() {
        let h = hosts("name:80, other, [::1]:9898, ::2");
        assert!(h.allows("name", None, 80), "name:80 accepts Host: name");
        assert!(h.allows("NAME", Some(80), 80));
        assert!(!h.allows("name", Some(8080), 80));
        assert!(
            !h.allows("name", None, 443),
            "behind HTTPS a bare name means 443"
        );
        assert!(h.allows("other", Some(1234), 80), "no port: any port");
        assert!(h.allows("[::1]", Some(9898), 80));
        assert!(!h.allows("[::1]", Some(9899), 80));
        assert!(h.allows("::2", None, 80));
        assert!(!h.allows("evil", None, 80));
        let h = hosts("name:443");
        assert!(h.allows("name", None, 443));
        assert!(!h.allows("name", None, 80));
        assert!(AllowedHosts::parse(None)
            .unwrap()
            .allows("localhost", Some(9898), 80));
        assert!(AllowedHosts::Any.allows("x.example", None, 80));
    }

    #[test]
    fn bad_host_entries_are_refused() {
        for bad in ["bad host", "a/b", "user@host", "a,*", "host:x", "host:"] {
            let e = AllowedHosts::parse(Some(bad.into())).unwrap_err();
            assert_eq!(e.variable, "MCP_ALLOWED_HOSTS", "{bad}");
        }
    }

    #[test]
    fn an_origin_without_a_port_means_the_default_port() {
        let o = origins("https://app.example.com, http://localhost:*, http://h:8080, null");
        assert!(o.allows(&origin("https://app.example.com")));
        assert!(o.allows(&origin("https://APP.example.com:443")));
        assert!(!o.allows(&origin("https://app.example.com:8443")));
        assert!(!o.allows(&origin("http://app.example.com")));
        assert!(o.allows(&origin("http://localhost:3000")));
        assert!(o.allows(&origin("http://localhost")));
        assert!(o.allows(&origin("http://h:8080")));
        assert!(!o.allows(&origin("http://h")));
        assert!(o.allows(&origin("null")));
        assert!(!origins("https://a.example").allows(&origin("null")));
        assert!(AllowedOrigins::Any.allows(&origin("https://x.example:1")));
        assert!(!AllowedOrigins::parse(None)
            .unwrap()
            .allows(&origin("http://localhost")));
    }

    #[test]
    fn bad_origin_entries_are_refused() {
        for bad in [
            "app.example.com",
            "https://app.example.com/path",
            "https://u@app.example.com",
            "https://a.example:8080:*",
            "ftp-no-host:",
            "https://a.example?x",
        ] {
            let e = AllowedOrigins::parse(Some(bad.into())).unwrap_err();
            assert_eq!(e.variable, "MCP_ALLOWED_ORIGINS", "{bad}");
        }
        assert!(RequestOrigin::parse("not an origin").is_none());
        assert!(RequestOrigin::parse("https://a.example/path").is_none());
    }
}
