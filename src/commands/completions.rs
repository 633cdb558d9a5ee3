//! `mcpctl completions SHELL`: the shell completion script, generated from the same clap
//! definitions as the parser (clap_complete), so it never drifts from the real flags.

use clap::{Args, CommandFactory};

use crate::error::{Context, Result};

/// Arguments of `mcpctl completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the completion script for `args.shell` on stdout.
pub fn run(args: CompletionsArgs) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut crate::cli::Cli::command(),
        "mcpctl",
        &mut script,
    );
    let text =
        String::from_utf8(script).context_failed(|| "the completion script is not UTF-8".into())?;
    crate::out!("{text}")
}
