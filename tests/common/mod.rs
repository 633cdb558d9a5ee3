//! Shared helpers for the `mcpctl` integration tests: the emulators and processes of
//! `mcpctl-testkit` (re-exported), our two binaries, and AWS in the emulator (`aws`).
#![allow(dead_code)]

pub mod aws;
pub mod fake_aws;
pub mod local;

use std::path::PathBuf;

pub use mcpctl_testkit::*;

/// The `mcpctl` binary under test.
pub fn mcpctl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mcpctl"))
}

/// The `opensearch-mcp-server` binary, built beside `mcpctl` (`cargo build --workspace`).
pub fn server_bin() -> PathBuf {
    let p = mcpctl_bin()
        .parent()
        .expect("binary has a directory")
        .join("opensearch-mcp-server");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace` first (scripts/test does)",
        p.display()
    );
    p
}
