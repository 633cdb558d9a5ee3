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

/// The request's host and port, from `Host` or the HTTP/2 `:authority`.
fn host_of(req: &Request) -> Option<(String, Option<u16>)> {
    let authority = match req.headers().get(header::HOST) {
        Some(v) => http::uri::Authority::try_from(v.to_str().ok()?).ok()?,
        None => req.uri().authority()?.clone(),
    };
    Some((authority.host().to_string(), authority.port_u16()))
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
    let Some((host, port)) = host_of(&req) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Bad Request: missing or invalid Host header",
        );
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
