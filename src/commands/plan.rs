//! `mcpctl plan --stack NAME`: show what `up` would change, without changing anything.

use clap::Args;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::deploy::{preflight_error, prepare};
use crate::output::{Failure, Outcome, Output};
use crate::plan::{render_text, Plan};

/// Arguments of `mcpctl plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Stack name (`stacks/NAME.yaml`) or path to a stack file.
    #[arg(long)]
    pub stack: String,
    /// Image URI to deploy instead of building `server/` (overrides the stack's `image:`).
    #[arg(long)]
    pub image: Option<String>,
}

#[derive(Serialize)]
struct PlanOutput<'a> {
    stack: &'a str,
    source: String,
    plan: &'a Plan,
}

/// Run `mcpctl plan`.
pub async fn run(args: PlanArgs, global: &GlobalArgs) -> Outcome {
    let p = prepare(
        &args.stack,
        &global.stacks_dir,
        global.profile.as_deref(),
        global.region.as_deref(),
        args.image,
    )
    .await?;
    let out = if global.output.is_json() {
        Output::json(&PlanOutput {
            stack: &p.stack.name,
            source: p.stack.source.display().to_string(),
            plan: &p.plan,
        })?
    } else {
        crate::out!("{}", render_text(&p.plan))?;
        Output::Nothing
    };
    if p.plan.problems.is_empty() {
        return Ok(out);
    }
    let problems = preflight_error(&p.stack, &p.plan.problems);
    Err(Failure::new(problems, out.into_document()))
}
