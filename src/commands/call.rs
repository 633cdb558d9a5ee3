//! `mcpctl call` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl call`.
#[derive(Debug, Args)]
pub struct CallArgs {}

/// Run `mcpctl call`.
pub async fn run(_args: CallArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl call is not implemented yet"))
}
