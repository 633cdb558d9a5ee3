//! `mcpctl cutover`: send the production path's traffic (all, or a percentage) to another stack.

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::traffic::Percent;

/// Arguments of `mcpctl cutover`.
#[derive(Debug, Args)]
pub struct CutoverArgs {
    /// The stack whose production rule (its path patterns, e.g. `/ossserver/*`) is moved.
    #[arg(long, value_name = "STACK", default_value = "stateful")]
    pub from: String,
    /// The stack that receives the traffic (its target group must have healthy targets).
    #[arg(long, value_name = "STACK", default_value = "stateless")]
    pub to: String,
    /// Share of the production traffic for `--to`, a whole percentage 1–100 (a canary: 10, then 50, then 100).
    #[arg(long, value_name = "PERCENT", default_value = "100")]
    pub weight: Percent,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Print the routing before/after and the exact calls, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Cut over even when the target group of `--to` has no healthy targets.
    #[arg(long)]
    pub force: bool,
}

/// Run `mcpctl cutover`.
pub async fn run(_args: CutoverArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::failed("mcpctl cutover is not implemented yet"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<super::CutoverArgs, clap::Error> {
        let cli = Cli::try_parse_from([&["mcpctl", "cutover"], args].concat())?;
        match cli.command {
            Command::Cutover(a) => Ok(a),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn defaults_move_all_traffic_from_stateful_to_stateless() {
        let a = parse(&[]).unwrap();
        assert_eq!((a.from.as_str(), a.to.as_str()), ("stateful", "stateless"));
        assert_eq!(a.weight.get(), 100);
        assert!(!a.yes && !a.dry_run && !a.force);
    }

    #[test]
    fn a_canary_weight_and_flags_parse() {
        let a = parse(&[
            "--weight",
            "10",
            "--yes",
            "--dry-run",
            "--force",
            "--to",
            "x",
        ])
        .unwrap();
        assert_eq!(a.weight.get(), 10);
        assert!(a.yes && a.dry_run && a.force);
        assert_eq!(a.to, "x");
    }

    #[test]
    fn weight_1000_is_bad_input_with_what_to_write() {
        let e = parse(&["--weight", "1000"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(
            e.to_string().contains("whole percentage from 1 to 100"),
            "{e}"
        );
    }
}
