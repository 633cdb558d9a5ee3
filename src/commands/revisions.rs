//! `mcpctl revisions --stack NAME`: the task definition history (newest first) with each
//! revision's image and digest, marking the one the service runs; `up --revision N` goes back.

use clap::Args;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::output::{Outcome, Output};
use crate::scale::{revisions, Revision};

/// Arguments of `mcpctl revisions`.
#[derive(Debug, Args)]
pub struct RevisionsArgs {
    /// Stack name (`stacks/NAME.yaml`) or path to a stack file.
    #[arg(long)]
    pub stack: String,
    /// Show at most this many revisions (newest first).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub limit: u16,
}

#[derive(Serialize)]
struct RevisionsOutput<'a> {
    stack: &'a str,
    family: &'a str,
    revisions: &'a [Revision],
}

/// Run `mcpctl revisions`.
pub async fn run(args: RevisionsArgs, global: &GlobalArgs) -> Outcome {
    let (stack, c) = super::session::open_one(&args.stack, global).await?;
    let list = revisions(&c, &stack, usize::from(args.limit)).await?;
    let family = &stack.names.task_family;
    if global.output.is_json() {
        return Ok(Output::json(&RevisionsOutput {
            stack: &stack.name,
            family,
            revisions: &list,
        })?);
    }
    if list.is_empty() {
        crate::outln!(
            "No active revisions of {family}; `mcpctl up --stack {}` registers one.",
            stack.name
        )?;
        return Ok(Output::Nothing);
    }
    crate::outln!("  {:<8} {:<73} IMAGE", "REVISION", "DIGEST")?;
    for r in &list {
        crate::outln!(
            "{} {:<8} {:<73} {}",
            if r.running { "*" } else { " " },
            r.revision,
            r.digest.as_deref().unwrap_or("(by tag)"),
            r.image
        )?;
    }
    crate::outln!(
        "* runs now. Go back with `mcpctl up --stack {} --revision N`.",
        stack.name
    )?;
    Ok(Output::Nothing)
}
