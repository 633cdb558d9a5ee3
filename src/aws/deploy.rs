//! Observe a stack (with preflight problems listed at once) and apply a plan in dependency
//! order: listener, ECR repository, (image), log group, task definition, target group,
//! listener rule, service. Deciding what to do is [`crate::plan`]'s job (its
//! [`crate::plan::Steps`]); [`apply`] only carries the steps out.

use std::path::PathBuf;

use serde::Serialize;

use super::errors::code;
use super::{
    alarm, certificate, ecr, errors::unless_denied, iam_role, image, listener_rule, load_balancer,
    logs, scaling, service, target_group, task_definition, Clients,
};
use crate::error::{Error, Result};
use crate::plan::endpoint::{ListenerSpec, HTTP_PORT};
use crate::plan::observed::{Observed, Shared};
use crate::plan::steps::{ListenerStep, RuleStep, Step, TaskDefinitionStep};
use crate::plan::{Action, Desired, Kind, Plan};
use crate::stack::Stack;

/// Read everything the stack references and owns. Problems with what it references (cluster,
/// ALB, roles) are returned together; `Observed` is `None` when the ALB is missing.
pub async fn observe(c: &Clients, stack: &Stack) -> Result<(Option<Observed>, Vec<String>)> {
    let mut problems = Vec::new();
    let cluster_arn = load_balancer::cluster(c, &stack.cluster).await?;
    if cluster_arn.is_none() {
        problems.push(format!(
            "ECS cluster `{}` was not found (or is not ACTIVE) in {}; check `cluster` in the stack, --region and --profile",
            stack.cluster, c.region
        ));
    }
    for (key, arn) in [
        (
            "roles.execution_role_arn",
            Some(&stack.roles.execution_role_arn),
        ),
        (
            "roles.task_role_arn",
            // A managed task role is created when missing; only a referenced one must exist.
            stack
                .roles
                .task_role_arn
                .as_ref()
                .filter(|_| stack.roles.managed_task_role.is_none()),
        ),
    ] {
        let Some(arn) = arn else { continue };
        let name = arn.rsplit('/').next().unwrap_or(arn);
        match c.iam.get_role().role_name(name).send().await {
            Ok(_) => {}
            Err(e) if code(&e) == Some("NoSuchEntity") => problems.push(format!(
                "IAM role `{name}` (`{key}`) does not exist; create it (see the README's AWS set-up) or fix `{key}`"
            )),
            // Not allowed to read IAM: ECS will check the role when the task definition is used.
            Err(_) => {}
        }
    }
    let Some(alb) = load_balancer::find(c, &stack.load_balancer.reference).await? else {
        problems.push(format!(
            "load balancer `{}` was not found in {}; check `load_balancer.name`/`arn` in the stack, --region and --profile",
            stack.load_balancer.reference, c.region
        ));
        return Ok((None, problems));
    };
    if stack.network.subnets.is_empty() && alb.subnets.is_empty() {
        problems.push("the stack gives no `network.subnets` and the ALB reports none to reuse; list the tasks' subnets under `network.subnets`".into());
    }
    if stack.network.security_groups.is_empty() && alb.security_groups.is_empty() {
        problems.push("the stack gives no `network.security_groups` and the ALB has none to reuse; list them under `network.security_groups`".into());
    }
    let port = i32::from(stack.load_balancer.listener_port);
    let listener = load_balancer::listener_serving(
        c,
        &alb.arn,
        port,
        stack.load_balancer.certificate_arn.as_deref(),
    )
    .await?;
    let rules = match &listener {
        Some(l) => listener_rule::rules(c, &l.arn).await?,
        None => Vec::new(),
    };
    let wanted = ListenerSpec::of(stack);
    let http_listener = if wanted.wants_redirect() {
        load_balancer::listener(c, &alb.arn, HTTP_PORT).await?
    } else {
        None
    };
    // The certificate's names are the default domain names, so read it whenever HTTPS is asked.
    let certificate = match &wanted.certificate_arn {
        Some(arn) => certificate::describe(c, arn).await?,
        None => None,
    };
    let target_group = target_group::observe(c, &stack.names.target_group).await?;
    let tg = target_group
        .as_ref()
        .map(|t| (t.arn.as_str(), stack.names.target_group.as_str()));
    // Without the cluster there is no service to look at (and ECS would reject the call).
    let observed_service = match &cluster_arn {
        Some(_) => service::observe(c, &stack.cluster, &stack.names.service, tg).await?,
        None => None,
    };
    // Autoscaling and the rollback alarm belong to the service: none without it. A stack
    // that uses neither still plans without the permissions to read them.
    let (observed_scaling, observed_alarm) = match &observed_service {
        Some(_) => (
            unless_denied(
                stack.service.autoscaling.is_none(),
                scaling::observe(
                    c,
                    &crate::plan::scaling::resource_id(&stack.cluster, &stack.names.service),
                )
                .await,
            )?,
            unless_denied(
                !stack.service.alarm_rollback,
                alarm::observe(c, &crate::plan::scaling::alarm_name(&stack.names.service)).await,
            )?,
        ),
        None => (None, None),
    };
    let observed = Observed {
        scaling: observed_scaling,
        alarm: observed_alarm,
        shared: Shared {
            cluster_arn: cluster_arn.unwrap_or_default(),
            alb,
            listener,
            rules,
            http_listener,
            certificate,
        },
        task_role: match &stack.roles.managed_task_role {
            Some(r) => iam_role::observe(c, &r.name).await?,
            None => None,
        },
        repository: ecr::observe(c, &stack.names.ecr_repository).await?,
        log_group: logs::observe(c, &stack.names.log_group).await?,
        task_definition: task_definition::observe(c, &stack.names.task_family).await?,
        service: observed_service,
        target_group,
    };
    Ok((Some(observed), problems))
}

/// Where the image comes from.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// A prebuilt image URI.
    Given(String),
    /// Build `server/` in this workspace and push it.
    Build(PathBuf),
}

/// One thing `up` did.
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    /// Resource kind.
    pub kind: Kind,
    /// Created or updated.
    pub action: Action,
    /// Name.
    pub name: String,
    /// ARN or other identifier.
    pub id: String,
}

/// What `apply` did and what the waiter needs.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// Each change made, in order.
    pub done: Vec<Done>,
    /// The task definition the service runs now.
    pub task_definition_arn: String,
    /// The image deployed.
    pub image: Option<String>,
    /// True when the service was created or its deployment changed (wait for it).
    pub service_deploying: bool,
    /// Target group ARN.
    pub target_group_arn: String,
    /// The final plan applied (with the built image's digest, when built).
    pub plan: Plan,
}

/// Carry out `plan.steps` in dependency order. When the image is built here, the plan for the
/// resources after the repository is recomputed with its digest by `replan` (pure: the
/// planner over the same observed state); `apply` itself never looks at what was observed.
pub async fn apply(
    c: &Clients,
    desired: &Desired,
    plan: &Plan,
    image: ImageSource,
    replan: impl FnOnce(&Desired) -> Plan,
) -> Result<Applied> {
    let mut done = Vec::new();
    let mut record = |kind: Kind, action: Action, name: &str, id: &str| {
        done.push(Done {
            kind,
            action,
            name: name.to_string(),
            id: id.to_string(),
        })
    };
    let steps = &plan.steps;

    // Listener.
    let listener_arn = match &steps.listener {
        ListenerStep::Keep { arn } => arn.clone(),
        ListenerStep::Create { alb_arn, listener } => {
            let l = load_balancer::create_listener(c, alb_arn, listener).await?;
            record(Kind::Listener, Action::Create, &listener.label(), &l.arn);
            l.arn
        }
    };
    if let Some(redirect) = &steps.redirect {
        let l = load_balancer::create_redirect_listener(c, redirect).await?;
        record(
            Kind::RedirectListener,
            Action::Create,
            &format!("HTTP:{}", redirect.port),
            &l.arn,
        );
    }

    // ECR repository.
    let repo = &desired.repository;
    let repo_uri = match &steps.repository {
        Step::Create => {
            let uri = ecr::create(c, repo).await?;
            record(Kind::Repository, Action::Create, &repo.name, &uri);
            uri
        }
        Step::Update(r, update) => {
            ecr::update(c, &r.arn, repo, update).await?;
            record(Kind::Repository, Action::Update, &repo.name, &r.arn);
            r.uri.clone()
        }
        Step::Keep(r) => r.uri.clone(),
    };

    // Image: build and push now that the repository exists, then re-plan with the digest.
    let (desired, plan) = match &image {
        ImageSource::Given(_) => (desired.clone(), plan.clone()),
        ImageSource::Build(workspace) => {
            let uri = image::build_and_push(
                c,
                workspace,
                &repo.name,
                &repo_uri,
                &desired.task_definition.cpu_architecture,
            )
            .await?;
            let mut d = desired.clone();
            d.task_definition.image = Some(uri);
            let p = replan(&d);
            (d, p)
        }
    };
    let steps = &plan.steps;

    // Log group.
    let lg = &desired.log_group;
    match &steps.log_group {
        Step::Create => {
            logs::create(c, lg).await?;
            record(Kind::LogGroup, Action::Create, &lg.name, &lg.name);
        }
        Step::Update(arn, update) => {
            logs::update(c, arn, lg, update).await?;
            record(Kind::LogGroup, Action::Update, &lg.name, arn);
        }
        Step::Keep(_) => {}
    }

    // Task role (managed ones only).
    if let (Some(spec), Some(step)) = (&desired.task_role, &steps.task_role) {
        match step {
            Step::Create => {
                let arn = iam_role::create(c, spec).await?;
                record(Kind::TaskRole, Action::Create, &spec.name, &arn);
            }
            Step::Update(arn, update) => {
                iam_role::update(c, spec, update).await?;
                record(Kind::TaskRole, Action::Update, &spec.name, arn);
            }
            Step::Keep(_) => {}
        }
    }

    // Task definition.
    let td_arn = match &steps.task_definition {
        TaskDefinitionStep::Keep { arn } => arn.clone(),
        TaskDefinitionStep::Register { first } => {
            let (arn, rev) =
                task_definition::register(c, &desired.task_definition, &desired.repository.tags)
                    .await?;
            record(
                Kind::TaskDefinition,
                if *first {
                    Action::Create
                } else {
                    Action::Update
                },
                &format!("{}:{rev}", desired.task_definition.family),
                &arn,
            );
            arn
        }
    };

    // Target group.
    let tg = &desired.target_group;
    let tg_arn = match &steps.target_group {
        Step::Create => {
            let arn = target_group::create(c, tg).await?;
            record(Kind::TargetGroup, Action::Create, &tg.name, &arn);
            arn
        }
        Step::Update(arn, update) => {
            target_group::update(c, arn, tg, update).await?;
            record(Kind::TargetGroup, Action::Update, &tg.name, arn);
            arn.clone()
        }
        Step::Keep(arn) => arn.clone(),
    };

    // Listener rule.
    let rule_name = desired.rule.path_patterns.join(",");
    match &steps.rule {
        RuleStep::Create { priority } => {
            let arn =
                listener_rule::create(c, &listener_arn, &desired.rule, *priority, &tg_arn).await?;
            record(
                Kind::ListenerRule,
                Action::Create,
                &format!("{rule_name} (priority {priority})"),
                &arn,
            );
        }
        RuleStep::Update { arn, update } => {
            listener_rule::update(c, arn, &desired.rule, &tg_arn, update).await?;
            record(Kind::ListenerRule, Action::Update, &rule_name, arn);
        }
        RuleStep::Attach { arn, forward } => {
            let forward = forward.with_group(&tg_arn, 0).map_err(|e| {
                Error::refused(format!(
                    "cannot add target group {} to listener rule {rule_name}: {e}",
                    desired.target_group.name
                ))
            })?;
            listener_rule::RuleChange::SetForward {
                rule_arn: arn.clone(),
                forward,
            }
            .apply(c)
            .await?;
            record(Kind::ListenerRule, Action::Update, &rule_name, arn);
        }
        RuleStep::Keep { .. } => {}
    }

    // The rollback alarm, before the service names it.
    let alb_arn = &steps.scaling.alb_arn;
    for d in alarm::apply_before_service(c, &steps.scaling, alb_arn, &tg_arn).await? {
        record(d.0, d.1, &d.2, &d.2);
    }

    // Service.
    let svc = &desired.service;
    let service_deploying = match &steps.service {
        Step::Create => {
            service::wait_not_draining(
                c,
                &svc.cluster,
                &svc.name,
                service::DRAINING_WAIT,
                std::time::Duration::from_secs(5),
            )
            .await?;
            let arn = service::create(c, svc, &td_arn, &tg_arn).await?;
            record(Kind::Service, Action::Create, &svc.name, &arn);
            true
        }
        Step::Update(arn, update) => {
            let deploying = service::update(c, arn, svc, &td_arn, &tg_arn, update).await?;
            record(Kind::Service, Action::Update, &svc.name, arn);
            deploying
        }
        Step::Keep(_) => false,
    };

    // Autoscaling once the service exists; an alarm the service no longer names goes last.
    for d in scaling::apply(c, &steps.scaling, &tg_arn).await? {
        record(d.0, d.1, &d.2, &d.2);
    }
    for d in alarm::apply_after_service(c, &steps.scaling).await? {
        record(d.0, d.1, &d.2, &d.2);
    }

    Ok(Applied {
        done,
        task_definition_arn: td_arn,
        image: desired.task_definition.image.clone(),
        service_deploying,
        target_group_arn: tg_arn,
        plan,
    })
}
