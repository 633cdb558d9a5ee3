//! `mcpctl rollback` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {}

/// Run `mcpctl rollback`.
pub async fn run(_args: RollbackArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl rollback is not implemented yet"))
}
