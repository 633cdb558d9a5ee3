//! `mcpctl plan --stack NAME`: show what `up` would change, without changing anything.

use clap::Args;
use serde::Serialize;

use crate::aws::deploy::observe;
use crate::aws::{ecr, Clients};
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::output::print_json;
use crate::plan::{plan, render_text, Desired, Observed, Plan};
use crate::stack::{self, Stack};

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

/// A stack read, observed and planned: what `plan` prints and `up` applies.
pub struct Prepared {
    /// The stack.
    pub stack: Stack,
    /// AWS clients for its region.
    pub clients: Clients,
    /// What exists.
    pub observed: Observed,
    /// What should exist.
    pub desired: Desired,
    /// The difference (problems include preflight ones).
    pub plan: Plan,
}

/// Load the stack, observe AWS, plan. Fails (exit 2) when the stack or the shared resources it
/// references are unusable, listing every problem.
pub async fn prepare(
    stack_arg: &str,
    image: Option<String>,
    global: &GlobalArgs,
) -> Result<Prepared> {
    let stack = stack::load(stack_arg, &global.stacks_dir)?;
    let clients = Clients::for_stack(global, &stack).await;
    let (observed, problems) = observe(&clients, &stack).await?;
    let Some(observed) = observed else {
        return Err(preflight_error(&stack, &problems));
    };
    let image = image.or_else(|| stack.image.clone());
    let desired = Desired::new(&stack, &observed.shared, image);
    let mut plan = plan(&desired, &observed);
    let mut all = problems;
    all.append(&mut plan.problems);
    plan.problems = all;
    // The image, when it is in the stack's own repository: does it exist?
    if let (Some(image), Some(repo)) = (&desired.task_definition.image, &observed.repository) {
        if ecr::image_exists(&clients, &repo.spec.name, &repo.uri, image).await? == Some(false) {
            plan.warnings.push(format!(
                "image {image} is not in ECR repository {}: ECS will fail to pull it (push it first, or leave out --image/`image:` to build and push server/)",
                repo.spec.name
            ));
        }
    }
    Ok(Prepared {
        stack,
        clients,
        observed,
        desired,
        plan,
    })
}

/// The preflight failure: every problem, and that nothing was changed.
pub fn preflight_error(stack: &Stack, problems: &[String]) -> Error {
    Error::bad_input(format!(
        "stack `{}` cannot be deployed; nothing was changed:\n{}",
        stack.name,
        problems
            .iter()
            .map(|p| format!("  - {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

#[derive(Serialize)]
struct PlanOutput<'a> {
    stack: &'a str,
    source: String,
    plan: &'a Plan,
}

/// Run `mcpctl plan`.
pub async fn run(args: PlanArgs, global: &GlobalArgs) -> Result<()> {
    let p = prepare(&args.stack, args.image, global).await?;
    if global.output.is_json() {
        print_json(&PlanOutput {
            stack: &p.stack.name,
            source: p.stack.source.display().to_string(),
            plan: &p.plan,
        })?;
    } else {
        print!("{}", render_text(&p.plan));
    }
    if p.plan.problems.is_empty() {
        Ok(())
    } else {
        Err(preflight_error(&p.stack, &p.plan.problems))
    }
}
