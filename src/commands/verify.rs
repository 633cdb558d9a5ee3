//! `mcpctl verify` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {}

/// Run `mcpctl verify`.
pub async fn run(_args: VerifyArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl verify is not implemented yet"))
}
