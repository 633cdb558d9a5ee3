//! `mcpctl status` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {}

/// Run `mcpctl status`.
pub async fn run(_args: StatusArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl status is not implemented yet"))
}
