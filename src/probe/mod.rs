//! The MCP client and load generator behind `mcpctl verify` and `mcpctl call`.
//!
//! * [`check`]: the functional probe (rmcp client): health, initialize, list tools, call each
//!   read-only tool with [`arguments`] built from its schema.
//! * [`driver`]: a JSON-RPC-over-HTTP client that sees every status and header, so [`load`] can
//!   classify each request into an [`outcome::OutcomeKind`].
//! * [`connection`]: `--header` and `--bearer-token-env`, shared by verify, call and shell.
//! * [`alb`]: a deployed stack's URL (ALB DNS name, listener, rule) for `verify --stack`.
//! * [`report`]: tables for people; every report also serializes to JSON.

pub mod alb;
pub mod arguments;
pub mod check;
pub mod connection;
pub mod driver;
pub mod endpoint;
pub mod load;
pub mod outcome;
mod reply;
pub mod report;
