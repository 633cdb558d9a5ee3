//! `mcpctl logs` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {}

/// Run `mcpctl logs`.
pub async fn run(_args: LogsArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl logs is not implemented yet"))
}
