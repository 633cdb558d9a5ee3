//! Observe a stack (with preflight problems listed at once) and apply a plan in dependency
//! order: listener, ECR repository, (image), log group, task definition, target group,
//! listener rule, service. Deciding what to do is [`crate::plan`]'s job; this only does it.

use std::path::PathBuf;

use serde::Serialize;

use super::errors::code;
use super::{
    ecr, iam_role, image, listener_rule, load_balancer, logs, service, target_group,
    task_definition, Clients,
};
use crate::error::{Error, Result};
use crate::plan::observed::{Observed, Shared};
use crate::plan::{Action, Change, Desired, Kind, Plan};
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
    let listener = load_balancer::listener(c, &alb.arn, port).await?;
    let rules = match &listener {
        Some(l) => listener_rule::rules(c, &l.arn).await?,
        None => Vec::new(),
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
    let observed = Observed {
        shared: Shared {
            cluster_arn: cluster_arn.unwrap_or_default(),
            alb,
            listener,
            rules,
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

fn find(plan: &Plan, kind: Kind) -> Result<Change> {
    plan.get(kind)
        .cloned()
        .ok_or_else(|| Error::failed(format!("internal: no {} in the plan", kind.label())))
}

/// Apply `plan` (computed from `desired` and `observed`) in dependency order.
pub async fn apply(
    c: &Clients,
    desired: &Desired,
    observed: &Observed,
    plan: &Plan,
    image: ImageSource,
) -> Result<Applied> {
    let mut done = Vec::new();
    let mut record = |kind: Kind, action: Action, name: &str, id: &str| {
        done.push(Done {
            kind,
            action,
            name: name.to_string(),
            id: id.to_string(),
        });
    };

    // Listener.
    let listener_arn = match &observed.shared.listener {
        Some(l) => l.arn.clone(),
        None => {
            let l = load_balancer::create_listener(
                c,
                &observed.shared.alb.arn,
                desired.rule.listener_port,
            )
            .await?;
            record(
                Kind::Listener,
                Action::Create,
                &format!("HTTP:{}", l.port),
                &l.arn,
            );
            l.arn
        }
    };

    // ECR repository.
    let ch = find(plan, Kind::Repository)?;
    let repo_uri = match (&observed.repository, ch.action) {
        (None, _) => {
            let uri = ecr::create(c, &desired.repository).await?;
            record(
                Kind::Repository,
                Action::Create,
                &desired.repository.name,
                &uri,
            );
            uri
        }
        (Some(o), Action::Update) => {
            ecr::update(c, &o.arn, &desired.repository, &ch).await?;
            record(
                Kind::Repository,
                Action::Update,
                &desired.repository.name,
                &o.arn,
            );
            o.uri.clone()
        }
        (Some(o), _) => o.uri.clone(),
    };

    // Image: build and push now that the repository exists, then re-plan with the digest.
    let (desired, plan) = match &image {
        ImageSource::Given(_) => (desired.clone(), plan.clone()),
        ImageSource::Build(workspace) => {
            let uri = image::build_and_push(c, workspace, &repo_uri).await?;
            let mut d = desired.clone();
            d.task_definition.image = Some(uri);
            let p = crate::plan::plan(&d, observed);
            (d, p)
        }
    };

    // Log group.
    let ch = find(&plan, Kind::LogGroup)?;
    match (&observed.log_group, ch.action) {
        (None, _) => {
            logs::create(c, &desired.log_group).await?;
            record(
                Kind::LogGroup,
                Action::Create,
                &desired.log_group.name,
                &desired.log_group.name,
            );
        }
        (Some(o), Action::Update) => {
            logs::update(c, &o.arn, &desired.log_group, &ch).await?;
            record(
                Kind::LogGroup,
                Action::Update,
                &desired.log_group.name,
                &o.arn,
            );
        }
        _ => {}
    }

    // Task role (managed ones only).
    if let (Some(spec), Some(ch)) = (&desired.task_role, plan.get(Kind::TaskRole)) {
        match (&observed.task_role, ch.action) {
            (None, _) => {
                let arn = iam_role::create(c, spec).await?;
                record(Kind::TaskRole, Action::Create, &spec.name, &arn);
            }
            (Some(o), Action::Update) => {
                iam_role::update(c, spec, ch).await?;
                record(Kind::TaskRole, Action::Update, &spec.name, &o.arn);
            }
            _ => {}
        }
    }

    // Task definition.
    let ch = find(&plan, Kind::TaskDefinition)?;
    let td_arn = match (&observed.task_definition, ch.action) {
        (Some(o), Action::Unchanged) => o.arn.clone(),
        _ => {
            let (arn, rev) =
                task_definition::register(c, &desired.task_definition, &desired.repository.tags)
                    .await?;
            record(
                Kind::TaskDefinition,
                ch.action,
                &format!("{}:{rev}", desired.task_definition.family),
                &arn,
            );
            arn
        }
    };

    // Target group.
    let ch = find(&plan, Kind::TargetGroup)?;
    let tg_arn = match (&observed.target_group, ch.action) {
        (None, _) => {
            let arn = target_group::create(c, &desired.target_group).await?;
            record(
                Kind::TargetGroup,
                Action::Create,
                &desired.target_group.name,
                &arn,
            );
            arn
        }
        (Some(o), Action::Update) => {
            target_group::update(c, &o.arn, &desired.target_group, &ch).await?;
            record(
                Kind::TargetGroup,
                Action::Update,
                &desired.target_group.name,
                &o.arn,
            );
            o.arn.clone()
        }
        (Some(o), _) => o.arn.clone(),
    };

    // Listener rule.
    let ch = find(&plan, Kind::ListenerRule)?;
    match (&plan.rule_arn, ch.action) {
        (None, _) => {
            let priority = plan.rule_priority.unwrap_or(1);
            let arn =
                listener_rule::create(c, &listener_arn, &desired.rule, priority, &tg_arn).await?;
            record(
                Kind::ListenerRule,
                Action::Create,
                &format!("{} (priority {priority})", ch.name),
                &arn,
            );
        }
        (Some(arn), Action::Update) => {
            listener_rule::update(c, arn, &desired.rule, &tg_arn, &ch).await?;
            record(Kind::ListenerRule, Action::Update, &ch.name, arn);
        }
        _ => {}
    }

    // Service.
    let ch = find(&plan, Kind::Service)?;
    let active = observed.service.as_ref().filter(|s| s.status == "ACTIVE");
    let service_deploying = match (active, ch.action) {
        (None, _) => {
            let arn = service::create(c, &desired.service, &td_arn, &tg_arn).await?;
            record(Kind::Service, Action::Create, &desired.service.name, &arn);
            true
        }
        (Some(o), Action::Update) => {
            let deploying =
                service::update(c, &o.arn, &desired.service, &td_arn, &tg_arn, &ch).await?;
            record(Kind::Service, Action::Update, &desired.service.name, &o.arn);
            deploying
        }
        _ => false,
    };

    Ok(Applied {
        done,
        task_definition_arn: td_arn,
        image: desired.task_definition.image.clone(),
        service_deploying,
        target_group_arn: tg_arn,
        plan,
    })
}
