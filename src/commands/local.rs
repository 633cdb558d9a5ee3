//! `mcpctl local` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl local`.
#[derive(Debug, Args)]
pub struct LocalArgs {}

/// Run `mcpctl local`.
pub async fn run(_args: LocalArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl local is not implemented yet"))
}
