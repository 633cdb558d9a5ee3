//! Shared helpers for the `opensearch-mcp-server` integration tests: the emulators and processes
//! of `mcpctl-testkit` (re-exported) and the server binary under test.
#![allow(dead_code)]

use std::path::PathBuf;

pub use mcpctl_testkit::*;

/// The `opensearch-mcp-server` binary under test (cargo builds it for these tests).
pub fn server_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_opensearch-mcp-server"))
}
