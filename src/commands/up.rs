//! `mcpctl up --stack NAME`: show the plan, apply it in dependency order, wait for the service.
//! Safe to run again and again: a second run plans "no changes" and makes no mutating call.

use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::aws::deploy::{apply, Applied, ImageSource};
use crate::aws::iam_role::role_mapping_guidance;
use crate::aws::image::docker_problem;
use crate::aws::wait::{wait_service, Progress};
use crate::aws::Call;
use crate::cli::GlobalArgs;
use crate::deploy::{preflight_error, prepare, Prepared};
use crate::error::Result;
use crate::output::{to_json, Failure, Outcome, Output, WithPartial};
use crate::plan::{render_text, Kind, Plan};

/// Arguments of `mcpctl up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Stack name (`stacks/NAME.yaml`), path to a stack file, or an archive directory.
    #[arg(long)]
    pub stack: String,
    /// Deploy this image URI instead of building `server/` (overrides the stack's `image:`).
    #[arg(long)]
    pub image: Option<String>,
    /// How long to wait for the deployment to become steady (e.g. `10m`, `90s`).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Do not wait for the deployment to become steady.
    #[arg(long)]
    pub no_wait: bool,
    /// Put the service back on revision N of its task definition (see `mcpctl revisions`);
    /// nothing else changes. The next `up` without it deploys the stack's own again.
    #[arg(long, value_name = "N", conflicts_with = "image", value_parser = clap::value_parser!(i32).range(1..))]
    pub revision: Option<i32>,
}

#[derive(Serialize)]
struct RevisionOutput<'a> {
    stack: &'a str,
    revision: &'a crate::scale::RevisionSwitch,
    waited: bool,
    calls: Vec<Call>,
    mutating_calls: usize,
}

/// `up --revision N`: point the service at an earlier revision and wait for it.
async fn run_revision(args: &UpArgs, n: i32, global: &GlobalArgs) -> Outcome {
    let (stack, c) = super::session::open_one(&args.stack, global).await?;
    let switch = crate::scale::use_revision(&c, &stack, n).await?;
    let json = global.output.is_json();
    let revision = |arn: &str| arn.rsplit('/').next().unwrap_or_default().to_string();
    if !json {
        if switch.unchanged {
            crate::outln!(
                "Service {} already runs {}; nothing to do.",
                stack.names.service,
                revision(&switch.to)
            )?;
        } else {
            crate::outln!(
                "Service {}: {} -> {}.",
                stack.names.service,
                revision(&switch.from),
                revision(&switch.to)
            )?;
        }
    }
    let mut waited = false;
    if !switch.unchanged && !args.no_wait {
        let tg_arn = crate::aws::target_group::arn_by_name(&c, &stack.names.target_group)
            .await?
            .unwrap_or_default();
        let mut ui: Box<dyn Progress> = crate::aws::wait::progress_for_stderr(&stack.names.service);
        let alarm = stack
            .service
            .alarm_rollback
            .then(|| crate::plan::scaling::alarm_name(&stack.names.service));
        wait_service(
            &c,
            &stack.cluster,
            &stack.names.service,
            &tg_arn,
            &switch.to,
            args.timeout,
            alarm.as_deref(),
            ui.as_mut(),
        )
        .await?;
        waited = true;
    }
    let calls = c.calls.all();
    let mutating_calls = calls.iter().filter(|c| c.is_mutating()).count();
    if json {
        return Ok(Output::json(&RevisionOutput {
            stack: &stack.name,
            revision: &switch,
            waited,
            calls,
            mutating_calls,
        })?);
    }
    Ok(Output::Nothing)
}

#[derive(Serialize)]
struct UpOutput<'a> {
    stack: &'a str,
    plan: &'a Plan,
    applied: Option<&'a Applied>,
    waited: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_mapping: Option<String>,
    calls: Vec<Call>,
    mutating_calls: usize,
}

/// Run `mcpctl up`.
pub async fn run(args: UpArgs, global: &GlobalArgs) -> Outcome {
    if let Some(n) = args.revision {
        return run_revision(&args, n, global).await;
    }
    let json = global.output.is_json();
    let mut p = prepare(
        &args.stack,
        &global.stacks_dir,
        global.profile.as_deref(),
        global.region.as_deref(),
        args.image.clone(),
    )
    .await?;
    let source = image_source(&mut p);
    if !json {
        crate::out!("{}", render_text(&p.plan))?;
    }
    if !p.plan.problems.is_empty() {
        let mut partial = None;
        if json {
            let calls = p.clients.calls.all();
            partial = Some(to_json(&UpOutput {
                stack: &p.stack.name,
                plan: &p.plan,
                applied: None,
                waited: false,
                role_mapping: None,
                mutating_calls: calls.iter().filter(|c| c.is_mutating()).count(),
                calls,
            })?);
        }
        return Err(Failure::new(
            preflight_error(&p.stack, &p.plan.problems),
            partial,
        ));
    }
    let (applied, partial) = apply_plan(&p, source, json).await?;
    if !json {
        print_done(applied.as_ref()).with_partial(&partial)?;
    }
    let waited = match applied.as_ref().filter(|a| a.service_deploying) {
        Some(a) => wait_deployed(&args, &p, a, json)
            .await
            .with_partial(&partial)?,
        None => false,
    };
    let role_mapping = role_mapping(&p, applied.as_ref(), json).with_partial(&partial)?;
    let calls = p.clients.calls.all();
    let mutating_calls = calls.iter().filter(|c| c.is_mutating()).count();
    if json {
        let plan = applied.as_ref().map_or(&p.plan, |a| &a.plan);
        return Output::json(&UpOutput {
            stack: &p.stack.name,
            plan,
            applied: applied.as_ref(),
            waited,
            role_mapping,
            calls,
            mutating_calls,
        })
        .with_partial(&partial);
    }
    crate::outln!(
        "{} AWS calls, {mutating_calls} of them changes.",
        calls.len()
    )
    .with_partial(&partial)?;
    Ok(Output::Nothing)
}

/// The image to deploy: the stack's (or `--image`), else `server/` built here (a missing
/// Docker or Dockerfile is a plan problem).
fn image_source(p: &mut Prepared) -> ImageSource {
    match p.desired.task_definition.image.clone() {
        Some(uri) => ImageSource::Given(uri),
        None => {
            let workspace = std::env::current_dir().unwrap_or_default();
            if let Some(problem) = docker_problem() {
                p.plan.problems.push(problem);
            } else if !workspace.join("server/Dockerfile").is_file() {
                p.plan.problems.push(format!(
                    "no image to deploy and no server/Dockerfile in {}: run `up` from the repository root, or pass --image URI",
                    workspace.display()
                ));
            }
            ImageSource::Build(workspace)
        }
    }
}

/// Apply the plan unless there is nothing to do (`None`). With `--output json`, the plan
/// being carried out is the document so far (returned too), so a failure halfway, here or in a
/// later step, reports it with the error.
async fn apply_plan(
    p: &Prepared,
    source: ImageSource,
    json: bool,
) -> std::result::Result<(Option<Applied>, Option<serde_json::Value>), Failure> {
    let building = matches!(source, ImageSource::Build(_));
    if p.plan.is_noop() && !building {
        return Ok((None, None));
    }
    crate::commands::show_identity(&p.clients).await?;
    let mut partial = None;
    if json {
        partial = Some(to_json(&UpOutput {
            stack: &p.stack.name,
            plan: &p.plan,
            applied: None,
            waited: false,
            role_mapping: None,
            calls: Vec::new(),
            mutating_calls: 0,
        })?);
    }
    let observed = &p.observed;
    let applied = apply(&p.clients, &p.desired, &p.plan, source, |d| {
        crate::plan::plan(d, observed)
    })
    .await
    .with_partial(&partial)?;
    Ok((Some(applied), partial))
}

/// What was done, as text.
fn print_done(applied: Option<&Applied>) -> Result<()> {
    match applied {
        None => crate::outln!("Nothing to do.")?,
        Some(a) if a.done.is_empty() => {
            crate::outln!("Nothing to do (the built image is already deployed).")?
        }
        Some(a) => {
            crate::outln!("Done:")?;
            for d in &a.done {
                crate::outln!("  {:?} {} {} ({})", d.action, d.kind.label(), d.name, d.id)?;
            }
        }
    }
    Ok(())
}

/// Wait for the service's deployment to become steady (unless `--no-wait`); true when waited.
async fn wait_deployed(args: &UpArgs, p: &Prepared, a: &Applied, json: bool) -> Result<bool> {
    if args.no_wait {
        if !json {
            crate::outln!(
                "Not waiting (--no-wait); follow it with `mcpctl status --stack {}`.",
                p.stack.name
            )?;
        }
        return Ok(false);
    }
    let svc = &p.desired.service;
    // On stderr, so JSON on stdout stays one document; plain lines without a terminal.
    let mut ui: Box<dyn Progress> = crate::aws::wait::progress_for_stderr(&svc.name);
    wait_service(
        &p.clients,
        &svc.cluster,
        &svc.name,
        &a.target_group_arn,
        &a.task_definition_arn,
        args.timeout,
        p.desired.alarm.as_ref().map(|a| a.name.as_str()),
        ui.as_mut(),
    )
    .await?;
    drop(ui);
    if !json {
        crate::outln!(
            "Service {} is steady on {}.",
            svc.name,
            a.task_definition_arn.rsplit('/').next().unwrap_or_default()
        )?;
    }
    Ok(true)
}

/// Fine-grained access control: how to map the managed task role (printed as text when the
/// role was just created or changed).
fn role_mapping(p: &Prepared, applied: Option<&Applied>, json: bool) -> Result<Option<String>> {
    let role_mapping = p
        .stack
        .roles
        .managed_task_role
        .as_ref()
        .filter(|r| r.fine_grained_access_control && r.opensearch_domain_arn.is_some())
        .and(p.stack.roles.task_role_arn.as_deref())
        .map(|arn| {
            role_mapping_guidance(arn, p.stack.env.get("OPENSEARCH_HOST").map(String::as_str))
        });
    let role_touched = applied.is_some_and(|a| a.done.iter().any(|d| d.kind == Kind::TaskRole));
    if let (false, true, Some(g)) = (json, role_touched, &role_mapping) {
        crate::outln!("{g}")?;
    }
    Ok(role_mapping)
}
