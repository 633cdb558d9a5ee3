//! The server's integration tests, one binary (one link) for all of them: each module is a
//! story (HTTP surface, limits, OAuth, faults, ...) against real emulators (osmem-server, moto's
//! Cognito) and real MCP clients. The support code is shared with `mcpctl`'s `tests/it/`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../server_support/mod.rs"]
mod server_support;

mod fastmcp_parity;
mod server_fast_path;
mod server_faults;
mod server_http;
mod server_iam;
mod server_limits;
mod server_limits_tools;
mod server_metrics;
mod server_oauth;
mod server_protocol;
mod server_replicas;
mod server_ssrf;
mod server_tools;
