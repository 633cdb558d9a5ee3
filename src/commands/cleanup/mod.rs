//! `mcpctl cleanup`: archive a stack's live configuration, then remove its resources.

mod checks;
mod steps;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use self::checks::{managed_role, owners, RoleFate};
use self::steps::Step;
use crate::archive::{self, capture, Archive};
use crate::aws::errors::unless_denied;
use crate::aws::listener_rule::{ListenerRule, RuleChange};
use crate::aws::{ecr, load_balancer, logs, service, target_group, task_definition, Call, Clients};
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::output::print_json;
use crate::stack::STACK_TAG;
use crate::traffic::handover::{plan_rules, RuleFate, RulePlan};

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
    /// Also delete the task role mcpctl manages for the stack (`roles.task_role`), unless
    /// another service still runs as it. Roles given by ARN are never deleted.
    #[arg(long)]
    pub delete_role: bool,
    /// Clean up even while a listener rule still sends traffic to the stack's target group.
    #[arg(long)]
    pub force: bool,
    /// How long to wait for the service's tasks to stop (e.g. 10m, 90s).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// What `cleanup` found and did, for `--output json`.
#[derive(Debug, Serialize)]
pub struct CleanupReport {
    /// The stack.
    pub stack: String,
    /// The archive directory (planned, with `--dry-run`).
    pub archive: PathBuf,
    /// True when an unfinished cleanup's archive is reused.
    pub continued: bool,
    /// The rules the cleanup deletes, hands over or changes.
    pub rules: Vec<RulePlan>,
    /// The steps, in order (AWS calls and the wait).
    pub calls: Vec<Call>,
    /// What is kept on purpose.
    pub kept: Vec<String>,
    /// True with `--dry-run`.
    pub dry_run: bool,
    /// True when every step ran.
    pub done: bool,
}

/// Run `mcpctl cleanup`.
pub async fn run(args: CleanupArgs, global: &GlobalArgs) -> Result<()> {
    let (stack, c) = crate::commands::session::open_one(&args.stack, global).await?;
    let region = c.region.clone();
    run_loaded(args, global, &stack, c)
        .await
        .map_err(|e| crate::commands::explain_not_found(e, &region, &stack))
}

/// `cleanup` once the stack is loaded and the clients made.
async fn run_loaded(
    args: CleanupArgs,
    global: &GlobalArgs,
    stack: &crate::stack::Stack,
    c: Clients,
) -> Result<()> {
    let names = &stack.names;

    // Observe everything first; nothing is written or changed before the checks pass.
    // Rules on every listener of the ALB: one naming the target group anywhere would keep
    // DeleteTargetGroup from succeeding.
    let rules = load_balancer::all_rules(&c, &stack.load_balancer.reference).await?;
    let tg = target_group::arn_by_name(&c, &names.target_group).await?;
    let owners = owners(&c, &rules, &global.stacks_dir).await?;
    let tg_arn = tg.as_deref();
    let (rule_plans, blockers) = plan_rules(
        &stack.name,
        &stack.rule_path_patterns(),
        tg_arn,
        &rules,
        &owners,
        args.force,
    );
    if !blockers.hard.is_empty() {
        return Err(Error::refused(format!(
            "cleanup of stack {} cannot go ahead:\n  {}\nnothing was changed",
            stack.name,
            blockers.hard.join("\n  ")
        )));
    }
    if !blockers.live.is_empty() {
        return Err(Error::refused(format!(
            "stack {} still gets production traffic:\n  {}\nmove it first (`mcpctl cutover --from {} --to OTHER`, then check with `mcpctl status`), or pass --force to remove a live stack; nothing was changed",
            stack.name,
            blockers.live.join("\n  "),
            stack.name
        )));
    }

    // The safety checks passed: read the rest of what the stack owns.
    let svc = service::describe(&c, &stack.cluster, &names.service).await?;
    // DRAINING: already deleted, ECS is stopping its tasks; INACTIVE: gone.
    let svc_live = svc.as_ref().is_some_and(|s| s.status() == Some("ACTIVE"));
    let revisions = task_definition::active_revisions(&c, &names.task_family).await?;
    let log_group = logs::observe(&c, &names.log_group).await?;
    let repo = ecr::observe(&c, &names.ecr_repository).await?;
    let role = if args.delete_role {
        managed_role(&c, stack).await?
    } else {
        RoleFate::Kept(None)
    };

    let resource_id = crate::plan::scaling::resource_id(&stack.cluster, &names.service);
    let scalable = unless_denied(
        stack.service.autoscaling.is_none(),
        crate::aws::scaling::observe(&c, &resource_id).await,
    )?;
    let alarm_name = crate::plan::scaling::alarm_name(&names.service);
    let alarm = unless_denied(
        !stack.service.alarm_rollback,
        crate::aws::alarm::describe(&c, &alarm_name).await,
    )?;

    let mut steps = Vec::new();
    // The service goes, so its scalable target (useless without it) goes first.
    if let Some(t) = &scalable {
        steps.push(Step::DeregisterScaling {
            resource_id,
            policies: t.policies.iter().map(|p| p.name.clone()).collect(),
        });
    }
    if let Some(s) = svc.as_ref().filter(|_| svc_live) {
        if s.desired_count() > 0 {
            steps.push(Step::ScaleToZero);
        }
        if s.running_count() > 0 || s.pending_count() > 0 || s.desired_count() > 0 {
            steps.push(Step::WaitDrained);
        }
        steps.push(Step::DeleteService);
    }
    for plan in &rule_plans {
        let rule_arn = plan.rule_arn.clone();
        match &plan.fate {
            RuleFate::Delete => steps.push(Step::Rule(RuleChange::Delete { rule_arn })),
            RuleFate::HandOver { to_stack, forward } => {
                if let Some(f) = forward {
                    steps.push(Step::Rule(RuleChange::SetForward {
                        rule_arn: rule_arn.clone(),
                        forward: f.clone(),
                    }));
                }
                steps.push(Step::Rule(RuleChange::AddTags {
                    rule_arn,
                    tags: vec![(STACK_TAG.to_string(), to_stack.clone())],
                }));
            }
            RuleFate::DropGroup { forward } => steps.push(Step::Rule(RuleChange::SetForward {
                rule_arn,
                forward: forward.clone(),
            })),
        }
    }
    if alarm.is_some() {
        steps.push(Step::DeleteAlarm { name: alarm_name });
    }
    if let Some(arn) = &tg {
        steps.push(Step::DeleteTargetGroup { arn: arn.clone() });
    }
    if log_group.is_some() {
        steps.push(Step::DeleteLogGroup);
    }
    steps.extend(
        revisions
            .iter()
            .map(|arn| Step::Deregister { arn: arn.clone() }),
    );
    let mut kept = vec![format!(
        "shared: cluster {}, load balancer {}, its listeners, VPC, subnets, security groups, {}",
        stack.cluster,
        stack.load_balancer.reference,
        if matches!(role, RoleFate::Delete(_)) {
            "the execution role"
        } else {
            "IAM roles (--delete-role deletes the task role mcpctl manages when no other service uses it)"
        }
    )];
    match &role {
        RoleFate::Delete(name) => steps.push(Step::DeleteRole { name: name.clone() }),
        RoleFate::Kept(Some(why)) => kept.push(why.clone()),
        RoleFate::Kept(None) => {}
    }
    if repo.is_some() {
        if args.delete_images {
            steps.push(Step::DeleteRepository);
        } else {
            kept.push(format!(
                "ECR repository {} and its images (pass --delete-images to delete them)",
                names.ecr_repository
            ));
        }
    }

    let now = time::OffsetDateTime::now_utc();
    let unfinished = archive::unfinished(&global.stacks_dir, &stack.name);
    let continued = unfinished.is_some();
    let mut report = CleanupReport {
        stack: stack.name.clone(),
        archive: unfinished
            .as_ref()
            .map(|a| a.dir.clone())
            .unwrap_or_else(|| Archive::planned_dir(&global.stacks_dir, stack, now)),
        continued,
        rules: rule_plans,
        calls: steps.iter().map(|s| s.planned(stack)).collect(),
        kept,
        dry_run: args.dry_run,
        done: false,
    };
    let json_out = global.output.is_json();
    if steps.is_empty() && !continued {
        // Nothing is archived either: no archive path to show.
        if json_out {
            print_json(&report)?;
        } else {
            crate::outln!(
                "Nothing to do: stack {} has no resources left (nothing archived).",
                stack.name
            )?;
        }
        return Ok(());
    }
    if !json_out {
        print_plan(&report)?;
    }
    if args.dry_run {
        if json_out {
            print_json(&report)?;
        } else {
            crate::outln!("Dry run: nothing was written or changed.")?;
        }
        return Ok(());
    }
    crate::commands::show_identity(&c).await?;
    if !steps.is_empty() {
        crate::prompt::confirm(
            &format!(
                "Archive stack {} to {} and delete the resources above?",
                stack.name,
                report.archive.display()
            ),
            args.yes,
        )?;
    }

    // Archive first: everything that still exists, never overwriting an earlier capture.
    let mut arch = match unfinished {
        Some(a) => a,
        None => Archive::create(&global.stacks_dir, stack, now)?,
    };
    let task_definition = svc
        .as_ref()
        .and_then(|s| s.task_definition().map(str::to_string))
        .or_else(|| revisions.last().cloned());
    let touched: Vec<&ListenerRule> = rules
        .iter()
        .filter(|r| report.rules.iter().any(|p| p.rule_arn == r.arn))
        .collect();
    capture::live_configuration(
        &c,
        &mut arch,
        stack,
        task_definition.as_deref(),
        svc.is_some(),
        &touched,
    )
    .await?;

    for (i, step) in steps.iter().enumerate() {
        if !json_out {
            crate::outln!(
                "[{}/{}] {}",
                i + 1,
                steps.len(),
                report.calls[i].iam_action()
            )?;
        }
        step.apply(&c, stack, args.timeout).await?;
    }
    arch.finish()?;
    report.done = true;
    if json_out {
        print_json(&report)?;
    } else {
        crate::outln!(
            "Done: stack {} removed; its configuration is in {} (deploy it again with `mcpctl up --stack {}`).",
            stack.name,
            arch.dir.display(),
            arch.dir.display()
        )?;
    }
    Ok(())
}

fn print_plan(r: &CleanupReport) -> Result<()> {
    crate::outln!(
        "Cleanup of stack {}{}",
        r.stack,
        if r.continued {
            " (continuing a cleanup that stopped)"
        } else {
            ""
        }
    )?;
    crate::outln!("Archive: {}", r.archive.display())?;
    for rule in &r.rules {
        let what = match &rule.fate {
            RuleFate::Delete => "delete".to_string(),
            RuleFate::HandOver { to_stack, .. } => format!("keep, hand over to stack {to_stack}"),
            RuleFate::DropGroup { forward } => format!("keep, forward only to {forward}"),
        };
        crate::outln!("Listener {}: {what}", rule.label)?;
    }
    super::print_calls("Steps", &r.calls, r.dry_run)?;
    for k in &r.kept {
        crate::outln!("Kept: {k}")?;
    }
    Ok(())
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
