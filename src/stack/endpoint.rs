//! How clients reach a stack: the listener's protocol (HTTP, or HTTPS with an ACM certificate),
//! the domain names clients use, and `auth:` (the server as an OAuth 2.1 resource server, as
//! the MCP specification's "Authorization" section asks). Validated at load: a stack that asks
//! for HTTPS without a certificate, or for OAuth without an audience, never reaches AWS.

use serde::{Deserialize, Serialize};
use url::Url;

use super::file::{AuthFile, StackFile, Text, TextList};
use super::layers::Place;
use super::resolve::Resolver;
use super::MCP_PATH_ENV;

/// The TLS policy of an HTTPS listener mcpctl creates: TLS 1.3 and 1.2 only, forward secrecy.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html>
pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The path prefix of RFC 9728 Protected Resource Metadata; the server serves
/// `{this}{MCP_PATH}`, so the stack's rule routes `{this}{routing pattern}` too.
pub const PROTECTED_RESOURCE_PREFIX: &str = "/.well-known/oauth-protected-resource";

/// An ALB rule holds at most 5 condition values.
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html>
pub const MAX_RULE_VALUES: usize = 5;

/// The listener's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum ListenerProtocol {
    /// Plain HTTP (default port 80).
    #[default]
    Http,
    /// HTTPS with an ACM certificate (default port 443).
    Https,
}

impl ListenerProtocol {
    /// `HTTP` or `HTTPS`, as ELB spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerProtocol::Http => "HTTP",
            ListenerProtocol::Https => "HTTPS",
        }
    }

    /// `http` or `https`.
    pub fn scheme(self) -> &'static str {
        match self {
            ListenerProtocol::Http => "http",
            ListenerProtocol::Https => "https",
        }
    }

    /// The port a URL leaves out for this scheme.
    pub fn default_port(self) -> u16 {
        match self {
            ListenerProtocol::Http => 80,
            ListenerProtocol::Https => 443,
        }
    }
}

impl std::fmt::Display for ListenerProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `auth:`: the server validates OAuth 2.1 access tokens issued for it (`MCP_OAUTH_*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Auth {
    /// The expected `iss` (`MCP_OAUTH_ISSUER`).
    pub issuer: String,
    /// Where the signing keys are (`MCP_OAUTH_JWKS_URL`); default: the issuer's discovery.
    pub jwks_url: Option<String>,
    /// Accepted `aud` values (`MCP_OAUTH_AUDIENCE`).
    pub audience: Vec<String>,
    /// Accepted `client_id` values (`MCP_OAUTH_CLIENT_IDS`; Amazon Cognito access tokens).
    pub client_ids: Vec<String>,
    /// Scopes every token must carry (`MCP_OAUTH_REQUIRED_SCOPES`).
    pub scopes: Vec<String>,
    /// The endpoint's canonical URL (`MCP_RESOURCE_URL`); default: `https://` + the first
    /// domain name (or the ALB's DNS name) + the MCP path.
    pub resource_url: Option<String>,
}

impl Auth {
    /// The server's environment for these settings (`resource_url` already decided).
    pub fn env(&self, resource_url: &str) -> Vec<(String, String)> {
        let mut env = vec![
            ("MCP_OAUTH_ISSUER".to_string(), self.issuer.clone()),
            ("MCP_RESOURCE_URL".to_string(), resource_url.to_string()),
        ];
        let mut put = |k: &str, v: &[String], sep: &str| {
            if !v.is_empty() {
                env.push((k.to_string(), v.join(sep)));
            }
        };
        put("MCP_OAUTH_AUDIENCE", &self.audience, ",");
        put("MCP_OAUTH_CLIENT_IDS", &self.client_ids, ",");
        put("MCP_OAUTH_REQUIRED_SCOPES", &self.scopes, " ");
        if let Some(j) = &self.jwks_url {
            env.push(("MCP_OAUTH_JWKS_URL".to_string(), j.clone()));
        }
        env
    }
}

/// The env names `auth:` writes; setting them in `env:` as well is an error.
pub const AUTH_ENV: [&str; 7] = [
    "MCP_OAUTH_ISSUER",
    "MCP_OAUTH_JWKS_URL",
    "MCP_OAUTH_AUDIENCE",
    "MCP_OAUTH_CLIENT_IDS",
    "MCP_OAUTH_REQUIRED_SCOPES",
    "MCP_RESOURCE_URL",
    "MCP_AUTH_TOKEN",
];

/// The listener part of `load_balancer:`.
pub(super) struct ListenerSettings {
    pub protocol: ListenerProtocol,
    pub port: u16,
    pub certificate_arn: Option<String>,
    pub domain_names: Vec<String>,
}

fn auth_in(f: &StackFile) -> Option<&AuthFile> {
    f.auth.as_ref().map(|a| &a.value)
}

/// The rule path patterns that route a stack's Protected Resource Metadata.
pub fn metadata_patterns(path_patterns: &[String]) -> Vec<String> {
    path_patterns
        .iter()
        .map(|p| format!("{PROTECTED_RESOURCE_PREFIX}{p}"))
        .collect()
}

/// An https URL, or http only to 127.0.0.1/localhost (a test issuer); no credentials, query or
/// fragment. Mirrors what the server accepts, so a stack the server would refuse never deploys.
fn https_url(key: &str, v: &str) -> Result<Url, String> {
    let u = Url::parse(v).map_err(|e| format!("`{key}` `{v}` is not a URL ({e})"))?;
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if !(u.scheme() == "https" || (u.scheme() == "http" && loopback)) {
        return Err(format!(
            "`{key}` `{v}` must be an https:// URL (tokens and keys are never fetched over plain HTTP)"
        ));
    }
    if !u.username().is_empty() || u.password().is_some() || u.fragment().is_some() {
        return Err(format!(
            "`{key}` `{v}` must not carry credentials or a #fragment"
        ));
    }
    Ok(u)
}

/// A DNS name clients use (`mcp.example.com`): labels of letters, digits and `-`, no wildcard.
fn domain_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').count() >= 2
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a domain name clients can use: write e.g. `mcp.example.com` (no wildcard, no scheme, no path)"
        ))
    }
}

/// An ACM certificate ARN: `arn:aws:acm:REGION:ACCOUNT:certificate/ID`.
fn certificate_arn(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "acm"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("certificate/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an ACM certificate ARN: write e.g. `arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-...` (ACM console or `aws acm list-certificates`)"
        ))
    }
}

/// A scope token of RFC 6749 section 3.3: printable ASCII without space, `"` or `\`.
fn scope(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
    {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an OAuth scope: printable characters without spaces, quotes or `\\`"
        ))
    }
}

impl<'a> Resolver<'a> {
    /// `load_balancer.listener_protocol`, `listener_port` (default 80 or 443),
    /// `certificate_arn` (required for HTTPS, refused for HTTP) and `domain_names`.
    pub(super) fn listener_settings(&mut self) -> ListenerSettings {
        let protocol = match self.opt(at!(load_balancer.listener_protocol)) {
            None => ListenerProtocol::Http,
            Some((v, p)) => match v.trim() {
                "HTTP" => ListenerProtocol::Http,
                "HTTPS" => ListenerProtocol::Https,
                other => {
                    self.error(
                        &p,
                        format!("`load_balancer.listener_protocol` is `{other}`; write `HTTP` or `HTTPS`"),
                    );
                    ListenerProtocol::Http
                }
            },
        };
        let default_port = i64::from(protocol.default_port());
        let port = self
            .int(
                "load_balancer.listener_port",
                default_port,
                1,
                65535,
                at!(load_balancer.listener_port),
            )
            .map_or(default_port, |v| v.0) as u16;
        if protocol == ListenerProtocol::Https && port == 80 {
            let place = self.lb_place();
            self.error(&place, "`listener_protocol: HTTPS` on port 80, where clients speak plain HTTP; set `listener_port: 443` (mcpctl then adds an HTTP:80 listener that redirects to it)");
        }
        let certificate_arn = match (protocol, self.opt(at!(load_balancer.certificate_arn))) {
            (ListenerProtocol::Https, Some((v, p))) => {
                self.check(&p, certificate_arn(&v));
                Some(v)
            }
            (ListenerProtocol::Https, None) => {
                let place = self.lb_place();
                self.error(&place, "`listener_protocol: HTTPS` needs `load_balancer.certificate_arn`, the ACM certificate the listener presents (request one with `aws acm request-certificate`)");
                None
            }
            (ListenerProtocol::Http, Some((_, p))) => {
                self.error(&p, "`certificate_arn` is only used with `listener_protocol: HTTPS`; add that, or remove the certificate");
                None
            }
            (ListenerProtocol::Http, None) => None,
        };
        let (names, _) = self.list(|f| {
            f.load_balancer
                .as_ref()
                .and_then(|l| l.value.domain_names.as_ref())
        });
        for (n, p) in &names {
            self.check(p, domain_name(n));
        }
        ListenerSettings {
            protocol,
            port,
            certificate_arn,
            domain_names: names
                .into_iter()
                .map(|v| v.0.to_ascii_lowercase())
                .collect(),
        }
    }

    fn lb_place(&self) -> Place {
        self.pick(at!(load_balancer))
            .map(|(l, s)| l.place(s.referenced))
            .unwrap_or_else(|| self.top_place())
    }

    fn text_list(
        &mut self,
        get: impl Fn(&'a AuthFile) -> Option<&'a TextList>,
    ) -> Vec<(String, Place)> {
        let Some((layer, f)) = self.pick(|f| auth_in(f)) else {
            return Vec::new();
        };
        let Some(list) = get(f) else {
            return Vec::new();
        };
        list.0
            .iter()
            .filter_map(|t: &Text| self.interp(layer, t))
            .filter(|(v, _)| !v.is_empty())
            .collect()
    }

    /// `auth:` checked against what the server will accept, the listener it is served on, the
    /// env (no `MCP_OAUTH_*` or `MCP_AUTH_TOKEN` there as well) and the rule's value quota.
    pub(super) fn auth_settings(
        &mut self,
        protocol: ListenerProtocol,
        env: &indexmap::IndexMap<String, String>,
        secrets: &indexmap::IndexMap<String, String>,
        path_patterns: &[String],
    ) -> Option<Auth> {
        let (layer, file) = self.pick(|f| f.auth.as_ref())?;
        let place = layer.place(file.referenced);
        let issuer = match self.opt(|f| auth_in(f).and_then(|a| a.issuer.as_ref())) {
            Some((v, p)) => {
                if let Err(m) = https_url("auth.issuer", &v) {
                    self.error(&p, m);
                }
                v
            }
            None => {
                self.error(&place, "`auth:` needs `issuer`, the authorization server whose tokens the server accepts (e.g. `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123`)");
                String::new()
            }
        };
        let jwks_url = self
            .opt(|f| auth_in(f).and_then(|a| a.jwks_url.as_ref()))
            .map(|(v, p)| {
                if let Err(m) = https_url("auth.jwks_url", &v) {
                    self.error(&p, m);
                }
                v
            });
        let audience = self.text_list(|a| a.audience.as_ref().map(|l| &l.value));
        let client_ids = self.text_list(|a| a.client_ids.as_ref().map(|l| &l.value));
        let scopes = self.text_list(|a| a.scopes.as_ref().map(|l| &l.value));
        for (s, p) in &scopes {
            if let Err(m) = scope(s) {
                self.error(p, m);
            }
        }
        if audience.is_empty() && client_ids.is_empty() {
            self.error(&place, "`auth:` needs `audience` (the `aud` of this server's tokens) or, for Amazon Cognito access tokens, `client_ids`; otherwise tokens issued for any other application would be accepted");
        }
        let resource_url = self
            .opt(|f| auth_in(f).and_then(|a| a.resource_url.as_ref()))
            .map(|(v, p)| {
                match https_url("auth.resource_url", &v) {
                    Ok(u) => {
                        let mcp_path = env.get(MCP_PATH_ENV).map(String::as_str);
                        if u.query().is_some() || Some(u.path()) != mcp_path {
                            self.error(&p, format!(
                                "`auth.resource_url` `{v}` must end in the stack's MCP path `{}` and have no query",
                                mcp_path.unwrap_or("(env MCP_PATH is not set)")
                            ));
                        }
                    }
                    Err(m) => self.error(&p, m),
                }
                v
            });
        if protocol == ListenerProtocol::Http
            && !resource_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        {
            self.error(&place, "`auth:` on a plain HTTP listener would send bearer tokens in clear text; set `load_balancer.listener_protocol: HTTPS` (with `certificate_arn`), or give an https `auth.resource_url` when TLS ends in front of the ALB");
        }
        for k in AUTH_ENV {
            if env.contains_key(k) || secrets.contains_key(k) {
                self.error(&place, format!("`{k}` is set in `env`/`secrets` and `auth:` is given; use one: `auth:` writes the OAuth settings, and a static `MCP_AUTH_TOKEN` cannot be combined with OAuth"));
            }
        }
        let values = path_patterns.len() * 2;
        if values > MAX_RULE_VALUES {
            self.error(&place, format!(
                "with `auth:` the stack's rule also routes `{PROTECTED_RESOURCE_PREFIX}<path>` for each of the {} path patterns: {values} values, over the ALB's limit of {MAX_RULE_VALUES} per rule; use at most 2 path patterns",
                path_patterns.len()
            ));
        }
        Some(Auth {
            issuer,
            jwks_url,
            audience: audience.into_iter().map(|v| v.0).collect(),
            client_ids: client_ids.into_iter().map(|v| v.0).collect(),
            scopes: scopes.into_iter().map(|v| v.0).collect(),
            resource_url,
        })
    }
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
