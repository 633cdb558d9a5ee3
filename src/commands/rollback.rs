//! `mcpctl rollback`: restore the routing the last cutover replaced, in one call.

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// A stack on the ALB and listener to search for recorded cutovers (only its shared
    /// settings are read: region, ALB, listener port).
    #[arg(long, value_name = "STACK", default_value = "stateful")]
    pub stack: String,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Print the routing before/after and the exact call, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Run `mcpctl rollback`.
pub async fn run(_args: RollbackArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl rollback is not implemented yet"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from(["mcpctl", "rollback", "--yes", "--dry-run"]).unwrap();
        let Command::Rollback(a) = cli.command else {
            panic!("not rollback")
        };
        assert!(a.yes && a.dry_run);
        assert_eq!(a.stack, "stateful");
    }
}
