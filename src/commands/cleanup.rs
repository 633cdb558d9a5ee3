//! `mcpctl cleanup` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {}

/// Run `mcpctl cleanup`.
pub async fn run(_args: CleanupArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl cleanup is not implemented yet"))
}
