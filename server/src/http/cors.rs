//! `Host` and `Origin` checks on the MCP endpoint (DNS rebinding, cross-site calls) and CORS for
//! the origins `MCP_ALLOWED_ORIGINS` allows: a preflight `OPTIONS` is answered, responses carry
//! `Access-Control-Allow-Origin` and expose `Mcp-Session-Id`. A refused origin gets a 403 with
//! no CORS header, so a browser shows the page nothing. Requests without `Origin` (every
//! non-browser client) pass the origin check. Health is not behind this layer.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::log::Throttle;
use crate::config::{AllowedHosts, AllowedOrigins, RequestOrigin};

/// Request headers a browser client may send.
const ALLOW_HEADERS: &str =
    "authorization, content-type, accept, last-event-id, mcp-session-id, mcp-protocol-version";
/// Response headers a browser client may read.
const EXPOSE_HEADERS: &str = "mcp-session-id, mcp-protocol-version";

/// The allow-lists and the methods the endpoint answers.
pub(super) struct OriginPolicy {
    pub(super) hosts: AllowedHosts,
    pub(super) origins: AllowedOrigins,
    /// `POST, OPTIONS` (stateless) or `GET, POST, DELETE, OPTIONS` (stateful).
    pub(super) methods: &'static str,
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    (status, message).into_response()
}

/// A `Host` value as RFC 9112 §3.2 allows it: `uri-host [":" port]`, no user info.
fn parse_host(v: &HeaderValue) -> Result<http::uri::Authority, &'static str> {
    let text = v
        .to_str()
        .map_err(|_| "Bad Request: the Host header is not ASCII")?;
    if text.is_empty() || text.contains('@') {
        return Err("Bad Request: the Host header must be host[:port] (RFC 9112 section 3.2)");
    }
    http::uri::Authority::try_from(text).map_err(|_| "Bad Request: invalid Host header")
}

/// Whether two authorities name the same host and port (a missing port is `implied`).
fn same_authority(a: &http::uri::Authority, b: &http::uri::Authority, implied: u16) -> bool {
    a.host().eq_ignore_ascii_case(b.host())
        && a.port_u16().unwrap_or(implied) == b.port_u16().unwrap_or(implied)
}

/// The request's host and port, from `Host` or the HTTP/2 `:authority`. Refused (400, as RFC
/// 9112 §3.2 says): more than one `Host`, a `Host` with user info (`evil.example@127.0.0.1`),
/// and an absolute-form request target whose authority is not the `Host`.
fn host_of(req: &Request) -> Result<(String, Option<u16>), &'static str> {
    let mut values = req.headers().get_all(header::HOST).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err("Bad Request: more than one Host header (RFC 9112 section 3.2)");
    }
    let from_header = first.map(parse_host).transpose()?;
    let target = req.uri().authority();
    if target.is_some_and(|t| t.as_str().contains('@')) {
        return Err("Bad Request: the request target has user info");
    }
    let authority = match (from_header, target) {
        (Some(h), Some(t)) if !same_authority(&h, t, implied_port(req.headers())) => {
            return Err("Bad Request: the request target's host is not the Host header");
        }
        (Some(h), _) => h,
        (None, Some(t)) => t.clone(),
        (None, None) => return Err("Bad Request: missing Host header"),
    };
    Ok((authority.host().to_string(), authority.port_u16()))
}

/// The port a `Host` without one stands for: 443 behind an HTTPS listener, else 80.
fn implied_port(headers: &HeaderMap) -> u16 {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    if https {
        443
    } else {
        80
    }
}

/// The layer on the MCP routes.
pub(super) async fn check_origin(
    State(p): State<Arc<OriginPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    let (host, port) = match host_of(&req) {
        Ok(h) => h,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    if !p.hosts.allows(&host, port, implied_port(req.headers())) {
        static WARN: Throttle = Throttle::new();
        if WARN.allow() {
            tracing::warn!(message = "refused Host", host = %host, port);
        }
        return refuse(
            StatusCode::FORBIDDEN,
            "Forbidden: Host header is not allowed (MCP_ALLOWED_HOSTS)",
        );
    }
    let origin = match req.headers().get(header::ORIGIN) {
        None => None,
        Some(v) => {
            let ok = v
                .to_str()
                .ok()
                .and_then(RequestOrigin::parse)
                .is_some_and(|o| p.origins.allows(&o));
            if !ok {
                static WARN: Throttle = Throttle::new();
                if WARN.allow() {
                    tracing::warn!(message = "refused Origin", origin = ?v);
                }
                return refuse(
                    StatusCode::FORBIDDEN,
                    "Forbidden: Origin header is not allowed (MCP_ALLOWED_ORIGINS)",
                );
            }
            Some(v.clone())
        }
    };
    if req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(header::ALLOW, HeaderValue::from_static(p.methods));
        if let Some(o) = origin {
            allow(h, o);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(p.methods),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        return r;
    }
    let mut r = next.run(req).await;
    if let Some(o) = origin {
        let h = r.headers_mut();
        allow(h, o);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    r
}

fn allow(h: &mut HeaderMap, origin: HeaderValue) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("origin"));
}
