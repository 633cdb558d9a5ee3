//! `mcpctl cleanup`: archive a stack's live configuration, then remove its resources.

use std::time::Duration;

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// Arguments of `mcpctl cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The stack to remove (`stacks/NAME.yaml`, or a path to a stack file).
    #[arg(long, value_name = "NAME")]
    pub stack: String,
    /// Also delete the ECR repository and its images (kept by default).
    #[arg(long)]
    pub delete_images: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Write nothing, change nothing: print the archive path and the exact calls.
    #[arg(long)]
    pub dry_run: bool,
    /// Clean up even while a listener rule still sends traffic to the stack's target group.
    #[arg(long)]
    pub force: bool,
    /// How long to wait for the service's tasks to stop (e.g. 10m, 90s).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Run `mcpctl cleanup`.
pub async fn run(_args: CleanupArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl cleanup is not implemented yet"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    #[test]
    fn stack_is_required_and_flags_parse() {
        assert!(Cli::try_parse_from(["mcpctl", "cleanup"]).is_err());
        let cli = Cli::try_parse_from([
            "mcpctl",
            "cleanup",
            "--stack",
            "stateful",
            "--delete-images",
            "--yes",
            "--dry-run",
            "--force",
            "--timeout",
            "90s",
        ])
        .unwrap();
        let Command::Cleanup(a) = cli.command else {
            panic!("not cleanup")
        };
        assert_eq!(a.stack, "stateful");
        assert!(a.delete_images && a.yes && a.dry_run && a.force);
        assert_eq!(a.timeout, std::time::Duration::from_secs(90));
    }
}
