//! `mcpctl up` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl up`.
#[derive(Debug, Args)]
pub struct UpArgs {}

/// Run `mcpctl up`.
pub async fn run(_args: UpArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl up is not implemented yet"))
}
