//! `mcpctl man`: the manual page (roff), generated from the same clap definitions as the
//! parser (clap_mangen): `mcpctl man > mcpctl.1; man ./mcpctl.1`.

use clap::{Args, CommandFactory};

use crate::error::{Context, Result};

/// Arguments of `mcpctl man` (none).
#[derive(Debug, Args)]
pub struct ManArgs {}

/// Print the man page on stdout.
pub fn run(_args: ManArgs) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(crate::cli::Cli::command())
        .render(&mut page)
        .context_failed(|| "could not render the man page".into())?;
    let text = String::from_utf8(page).context_failed(|| "the man page is not UTF-8".into())?;
    crate::out!("{text}")
}
