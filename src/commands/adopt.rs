//! `mcpctl adopt --stack NAME --service SERVICE [--cluster CLUSTER] [--force]`: write the stack
//! file of a running deployment, so that `plan` shows nothing but mcpctl's tags and `up` only
//! adds them.

use clap::Args;
use serde::Serialize;

use crate::adopt::{adopt, shared_defaults, stack_path};
use crate::aws::{Call, Clients};
use crate::cli::GlobalArgs;
use crate::output::{Outcome, Output};
use crate::plan::{render_text, Plan};

/// Arguments of `mcpctl adopt`.
#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// Name of the stack to write (`STACKS_DIR/NAME.yaml`).
    #[arg(long)]
    pub stack: String,
    /// The running ECS service to adopt.
    #[arg(long)]
    pub service: String,
    /// Its ECS cluster (default: `cluster` in the stacks directory's shared.yaml).
    #[arg(long)]
    pub cluster: Option<String>,
    /// Replace an existing stack file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Serialize)]
struct AdoptOutput<'a> {
    stack: &'a str,
    path: String,
    text: &'a str,
    plan: &'a Plan,
    calls: Vec<Call>,
}

/// Run `mcpctl adopt`.
pub async fn run(args: AdoptArgs, global: &GlobalArgs) -> Outcome {
    let resolved =
        crate::aws::region::resolve(global.region.as_deref(), global.profile.as_deref(), &|k| {
            std::env::var(k).ok()
        })
        .await;
    let lookup = crate::aws::region::env_in_region(resolved.as_deref());
    let path = stack_path(&args.stack, &global.stacks_dir)?;
    let defaults = shared_defaults(&global.stacks_dir, &lookup)?;
    let cluster = args.cluster.clone().unwrap_or(defaults.cluster);
    let region = resolved.clone().unwrap_or(defaults.region);
    let clients = Clients::connect(global.profile.as_deref(), Some(&region)).await;
    let done = adopt(
        &clients,
        &path,
        &cluster,
        &args.service,
        args.force,
        &lookup,
    )
    .await?;
    if global.output.is_json() {
        return Ok(Output::json(&AdoptOutput {
            stack: &args.stack,
            path: done.path.display().to_string(),
            text: &done.text,
            plan: &done.plan,
            calls: clients.calls.all(),
        })?);
    }
    crate::outln!(
        "Wrote {} for ECS service {} (task definition {}):\n",
        done.path.display(),
        args.service,
        done.live.task_definition.arn
    )?;
    crate::out!("{}", done.text)?;
    crate::outln!(
        "\n`up --stack {}` would only add mcpctl's tags:",
        args.stack
    )?;
    crate::out!("{}", render_text(&done.plan))?;
    Ok(Output::Nothing)
}
