//! `mcpctl plan` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {}

/// Run `mcpctl plan`.
pub async fn run(_args: PlanArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl plan is not implemented yet"))
}
