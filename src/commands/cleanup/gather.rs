//! What `cleanup` reads before it changes anything, and the steps it decides from that: the
//! rules and the safety checks on them, the rest of what the stack owns, then the ordered
//! steps and what is kept on purpose.

use aws_sdk_ecs::types::Service;

use super::checks::{managed_role, owners, RoleFate};
use super::steps::Step;
use super::CleanupArgs;
use crate::aws::errors::unless_denied;
use crate::aws::listener_rule::{ListenerRule, RuleChange};
use crate::aws::{ecr, load_balancer, logs, service, target_group, task_definition, Clients};
use crate::cli::GlobalArgs;
use crate::cutover::decide::handover::{plan_rules, RuleFate, RulePlan};
use crate::error::{Error, Result};
use crate::plan::scaling::ObservedScaling;
use crate::stack::{Stack, STACK_TAG};

/// The rules `cleanup` touches, once the safety checks passed.
pub(super) struct CheckedRules {
    /// Every rule on every listener of the ALB.
    pub rules: Vec<ListenerRule>,
    /// The stack's target group, if it exists.
    pub tg: Option<String>,
    /// What happens to each rule that involves the stack.
    pub plans: Vec<RulePlan>,
}

/// Read every rule of the ALB (one naming the target group anywhere would keep
/// `DeleteTargetGroup` from succeeding) and decide each one's fate; refuse when a rule cannot
/// be handed over, or the stack still gets traffic without `--force`.
pub(super) async fn checked_rules(
    c: &Clients,
    stack: &Stack,
    global: &GlobalArgs,
    force: bool,
) -> Result<CheckedRules> {
    let rules = load_balancer::all_rules(c, &stack.load_balancer.reference).await?;
    let tg = target_group::arn_by_name(c, &stack.names.target_group).await?;
    let owners = owners(c, &rules, &global.stacks_dir).await?;
    let (plans, blockers) = plan_rules(
        &stack.name,
        &stack.rule_path_patterns(),
        tg.as_deref(),
        &rules,
        &owners,
        force,
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
    Ok(CheckedRules { rules, tg, plans })
}

/// What the stack owns besides its rules.
pub(super) struct Owned {
    /// The ECS service (any status).
    pub svc: Option<Service>,
    /// Active task definition revisions, oldest first.
    pub revisions: Vec<String>,
    /// The log group exists.
    pub log_group: bool,
    /// The ECR repository exists.
    pub repository: bool,
    /// The managed task role's fate.
    pub role: RoleFate,
    /// The scalable target's resource ID and what is registered there.
    pub scalable: (String, Option<ObservedScaling>),
    /// The rollback alarm's name, and whether it exists.
    pub alarm: (String, bool),
}

impl Owned {
    /// The task definition to archive: the service's, else the latest active revision.
    pub fn task_definition(&self) -> Option<String> {
        self.svc
            .as_ref()
            .and_then(|s| s.task_definition().map(str::to_string))
            .or_else(|| self.revisions.last().cloned())
    }
}

/// Read what the stack owns (`delete_role`: find out whether its managed role can go).
pub(super) async fn read_owned(c: &Clients, stack: &Stack, delete_role: bool) -> Result<Owned> {
    let names = &stack.names;
    let svc = service::describe(c, &stack.cluster, &names.service).await?;
    let revisions = task_definition::active_revisions(c, &names.task_family).await?;
    let log_group = logs::observe(c, &names.log_group).await?.is_some();
    let repository = ecr::observe(c, &names.ecr_repository).await?.is_some();
    let role = if delete_role {
        managed_role(c, stack).await?
    } else {
        RoleFate::Kept(None)
    };
    let resource_id = crate::plan::scaling::resource_id(&stack.cluster, &names.service);
    let scalable = unless_denied(
        stack.service.autoscaling.is_none(),
        crate::aws::scaling::observe(c, &resource_id).await,
    )?;
    let alarm_name = crate::plan::scaling::alarm_name(&names.service);
    let alarm = unless_denied(
        !stack.service.alarm_rollback,
        crate::aws::alarm::describe(c, &alarm_name).await,
    )?;
    Ok(Owned {
        svc,
        revisions,
        log_group,
        repository,
        role,
        scalable: (resource_id, scalable),
        alarm: (alarm_name, alarm.is_some()),
    })
}

/// The steps, in order, and what is kept on purpose.
pub(super) fn steps(
    stack: &Stack,
    args: &CleanupArgs,
    owned: &Owned,
    checked: &CheckedRules,
) -> (Vec<Step>, Vec<String>) {
    let mut steps = Vec::new();
    // The service goes, so its scalable target (useless without it) goes first.
    if let (resource_id, Some(t)) = &owned.scalable {
        steps.push(Step::DeregisterScaling {
            resource_id: resource_id.clone(),
            policies: t.policies.iter().map(|p| p.name.clone()).collect(),
        });
    }
    // DRAINING: already deleted, ECS is stopping its tasks; INACTIVE: gone.
    if let Some(s) = owned.svc.as_ref().filter(|s| s.status() == Some("ACTIVE")) {
        if s.desired_count() > 0 {
            steps.push(Step::ScaleToZero);
        }
        if s.running_count() > 0 || s.pending_count() > 0 || s.desired_count() > 0 {
            steps.push(Step::WaitDrained);
        }
        steps.push(Step::DeleteService);
    }
    steps.extend(checked.plans.iter().flat_map(rule_steps));
    if owned.alarm.1 {
        steps.push(Step::DeleteAlarm {
            name: owned.alarm.0.clone(),
        });
    }
    if let Some(arn) = &checked.tg {
        steps.push(Step::DeleteTargetGroup { arn: arn.clone() });
    }
    if owned.log_group {
        steps.push(Step::DeleteLogGroup);
    }
    steps.extend(
        owned
            .revisions
            .iter()
            .map(|arn| Step::Deregister { arn: arn.clone() }),
    );
    let mut kept = vec![format!(
        "shared: cluster {}, load balancer {}, its listeners, VPC, subnets, security groups, {}",
        stack.cluster,
        stack.load_balancer.reference,
        if matches!(owned.role, RoleFate::Delete(_)) {
            "the execution role"
        } else {
            "IAM roles (--delete-role deletes the task role mcpctl manages when no other service uses it)"
        }
    )];
    match &owned.role {
        RoleFate::Delete(name) => steps.push(Step::DeleteRole { name: name.clone() }),
        RoleFate::Kept(Some(why)) => kept.push(why.clone()),
        RoleFate::Kept(None) => {}
    }
    if owned.repository {
        if args.delete_images {
            steps.push(Step::DeleteRepository);
        } else {
            kept.push(format!(
                "ECR repository {} and its images (pass --delete-images to delete them)",
                stack.names.ecr_repository
            ));
        }
    }
    (steps, kept)
}

/// The calls that carry out one rule's fate.
fn rule_steps(plan: &RulePlan) -> Vec<Step> {
    let rule_arn = plan.rule_arn.clone();
    match &plan.fate {
        RuleFate::Delete => vec![Step::Rule(RuleChange::Delete { rule_arn })],
        RuleFate::HandOver { to_stack, forward } => {
            let mut v = Vec::new();
            if let Some(f) = forward {
                v.push(Step::Rule(RuleChange::SetForward {
                    rule_arn: rule_arn.clone(),
                    forward: f.clone(),
                }));
            }
            v.push(Step::Rule(RuleChange::AddTags {
                rule_arn,
                tags: vec![(STACK_TAG.to_string(), to_stack.clone())],
            }));
            v
        }
        RuleFate::DropGroup { forward } => vec![Step::Rule(RuleChange::SetForward {
            rule_arn,
            forward: forward.clone(),
        })],
    }
}
