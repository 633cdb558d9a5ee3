//! `mcpctl cutover` (not implemented yet).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl cutover`.
#[derive(Debug, Args)]
pub struct CutoverArgs {}

/// Run `mcpctl cutover`.
pub async fn run(_args: CutoverArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl cutover is not implemented yet"))
}
