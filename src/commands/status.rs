//! `mcpctl status --stack NAME`: each resource with its identifier and state, tasks
//! running/desired, target health, and every listener rule forwarding to the stack's target
//! group with its weight.

use clap::Args;
use serde::Serialize;

use crate::aws::forward::Spelling;
use crate::aws::target_group::TargetHealth;
use crate::aws::{
    certificate, ecr, iam_role, listener_rule, load_balancer, logs, service, target_group,
    task_definition, Clients,
};
use crate::cli::GlobalArgs;
use crate::error::Result;
use crate::model::ListenerRule;
use crate::output::{Outcome, Output};
use crate::plan::observed::ObservedTargetGroup;
use crate::stack;

/// Arguments of `mcpctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Stack name (`stacks/NAME.yaml`) or path to a stack file.
    #[arg(long)]
    pub stack: String,
}

/// One resource line.
#[derive(Debug, Serialize)]
pub struct ResourceStatus {
    /// Kind.
    pub kind: &'static str,
    /// Name.
    pub name: String,
    /// ARN / URI, or `None` when missing.
    pub id: Option<String>,
    /// State in words.
    pub state: String,
}

/// A rule sending traffic to the stack.
#[derive(Debug, Serialize)]
pub struct RouteStatus {
    /// Rule ARN.
    pub rule_arn: String,
    /// Priority.
    pub priority: Option<i32>,
    /// Paths.
    pub path_patterns: Vec<String>,
    /// This stack's share in percent.
    pub percent: u32,
    /// Weight of this stack's target group.
    pub weight: Option<i32>,
}

/// The status of a stack.
#[derive(Debug, Serialize)]
pub struct Status {
    /// Stack name.
    pub stack: String,
    /// Resources.
    pub resources: Vec<ResourceStatus>,
    /// Running tasks.
    pub running: i32,
    /// Desired tasks.
    pub desired: i32,
    /// Targets.
    pub targets: Vec<TargetHealth>,
    /// Rules forwarding to the stack's target group.
    pub routes: Vec<RouteStatus>,
    /// The URL of the stack's MCP endpoint through the ALB (from `MCP_PATH`).
    pub url: Option<String>,
    /// Autoscaling: range, current count, latest activities (when the service has it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<crate::scale::ScalingStatus>,
}

fn missing(kind: &'static str, name: &str) -> ResourceStatus {
    ResourceStatus {
        kind,
        name: name.to_string(),
        id: None,
        state: "missing".into(),
    }
}

/// Read the status of `stack` from AWS.
pub async fn read(c: &Clients, s: &stack::Stack) -> Result<Status> {
    let mut resources = stored(c, s).await?;
    let tg = target_group::observe(c, &s.names.target_group).await?;
    let targets = match &tg {
        Some(t) => target_group::health(c, &t.arn).await?,
        None => Vec::new(),
    };
    resources.push(target_group_status(s, tg.as_ref(), &targets));
    let (svc, running, desired) = service_status(c, s).await?;
    resources.push(svc);
    resources.extend(alarm_status(c, s).await?);
    let scaling = crate::scale::scaling_status(c, s, desired).await?;
    let (routes, url) = routes(c, s, tg.as_ref().map(|t| t.arn.as_str())).await?;
    Ok(Status {
        stack: s.name.clone(),
        resources,
        running,
        desired,
        targets,
        routes,
        url,
        scaling,
    })
}

/// The repository, log group, latest task definition and managed task role.
async fn stored(c: &Clients, s: &stack::Stack) -> Result<Vec<ResourceStatus>> {
    let mut resources = Vec::new();
    resources.push(match ecr::observe(c, &s.names.ecr_repository).await? {
        Some(r) => ResourceStatus {
            kind: "ECR repository",
            name: s.names.ecr_repository.clone(),
            id: Some(r.uri),
            state: "exists".into(),
        },
        None => missing("ECR repository", &s.names.ecr_repository),
    });
    resources.push(match logs::observe(c, &s.names.log_group).await? {
        Some(g) => ResourceStatus {
            kind: "log group",
            name: s.names.log_group.clone(),
            id: Some(g.arn),
            state: g
                .spec
                .retention_days
                .map_or("retention: never expire".into(), |d| {
                    format!("retention {d} days")
                }),
        },
        None => missing("log group", &s.names.log_group),
    });
    resources.push(
        match task_definition::observe(c, &s.names.task_family).await? {
            Some(t) => ResourceStatus {
                kind: "task definition",
                name: format!("{}:{}", s.names.task_family, t.revision),
                id: Some(t.arn),
                state: format!(
                    "latest active revision, image {}",
                    t.spec.image.unwrap_or_default()
                ),
            },
            None => missing("task definition", &s.names.task_family),
        },
    );
    if let Some(role) = &s.roles.managed_task_role {
        resources.push(match iam_role::observe(c, &role.name).await? {
            Some(r) => {
                let want = crate::plan::desired::opensearch_policy(
                    role.opensearch_domain_arn.as_deref(),
                    role.opensearch_collection_arn.as_deref(),
                    s.service.enable_execute_command,
                );
                let same = crate::plan::desired::policy_statements(&r.spec.policy)
                    == crate::plan::desired::policy_statements(&want);
                ResourceStatus {
                    kind: "IAM task role",
                    name: role.name.clone(),
                    id: Some(r.arn),
                    state: if same {
                        "OpenSearchAccess policy as the stack wants".into()
                    } else {
                        "OpenSearchAccess policy differs from the stack: run `mcpctl plan`".into()
                    },
                }
            }
            None => missing("IAM task role", &role.name),
        });
    }
    Ok(resources)
}

/// The target group with its healthy targets.
fn target_group_status(
    s: &stack::Stack,
    tg: Option<&ObservedTargetGroup>,
    targets: &[TargetHealth],
) -> ResourceStatus {
    match tg {
        Some(t) => ResourceStatus {
            kind: "target group",
            name: s.names.target_group.clone(),
            id: Some(t.arn.clone()),
            state: format!(
                "{}/{} targets healthy, health check {}",
                targets.iter().filter(|h| h.state == "healthy").count(),
                targets.len(),
                t.spec.health_check_path
            ),
        },
        None => missing("target group", &s.names.target_group),
    }
}

/// The ECS service, and its running and desired task counts (0 when it does not exist).
async fn service_status(c: &Clients, s: &stack::Stack) -> Result<(ResourceStatus, i32, i32)> {
    Ok(
        match service::describe(c, &s.cluster, &s.names.service).await? {
            Some(svc) => {
                let (running, desired) = (svc.running_count(), svc.desired_count());
                let rollout = svc
                    .deployments()
                    .iter()
                    .find(|d| d.status() == Some("PRIMARY"))
                    .and_then(|d| d.rollout_state())
                    .map(|r| format!(", rollout {}", r.as_str()))
                    .unwrap_or_default();
                let status = ResourceStatus {
                kind: "ECS service",
                name: s.names.service.clone(),
                id: svc.service_arn().map(str::to_string),
                state: format!(
                    "{}, tasks running {running}/{desired}, {} deployment(s){rollout}, task definition {}",
                    svc.status().unwrap_or_default(),
                    svc.deployments().len(),
                    svc.task_definition().unwrap_or_default().rsplit('/').next().unwrap_or_default()
                ),
            };
                (status, running, desired)
            }
            None => (missing("ECS service", &s.names.service), 0, 0),
        },
    )
}

/// The rollback alarm and its state, when the stack has one.
async fn alarm_status(c: &Clients, s: &stack::Stack) -> Result<Option<ResourceStatus>> {
    let alarm_name = crate::plan::scaling::alarm_name(&s.names.service);
    let alarm = crate::aws::errors::unless_denied(
        !s.service.alarm_rollback,
        crate::aws::alarm::state(c, &alarm_name).await,
    )?;
    Ok(alarm.map(|(state, reason)| ResourceStatus {
        kind: "CloudWatch alarm",
        name: alarm_name,
        id: None,
        state: format!("{state} ({reason}); a deployment rolls back while it alarms"),
    }))
}

/// Every rule of the stack's listener that forwards to its target group `tg_arn`, and the
/// stack's MCP URL (when the ALB exists).
async fn routes(
    c: &Clients,
    s: &stack::Stack,
    tg_arn: Option<&str>,
) -> Result<(Vec<RouteStatus>, Option<String>)> {
    let mut routes = Vec::new();
    let mut url = None;
    if let Some(alb) = load_balancer::find(c, &s.load_balancer.reference).await? {
        if let Some(path) = s.mcp_path() {
            let origin = certificate::client_origin(c, s, &alb.dns_name).await?;
            url = Some(format!("{origin}{path}"));
        }
        if let (Some(l), Some(tg_arn)) = (
            load_balancer::listener(c, &alb.arn, s.load_balancer.listener_port).await?,
            tg_arn,
        ) {
            for r in listener_rule::rules(c, &l.arn).await? {
                routes.extend(route(r, tg_arn));
            }
        }
    }
    Ok((routes, url))
}

/// The share of `rule`'s requests that goes to `tg_arn`, when it forwards there.
fn route(r: ListenerRule, tg_arn: &str) -> Option<RouteStatus> {
    let forwards = r.forwards();
    let groups: Vec<_> = forwards.iter().flat_map(|f| &f.groups).collect();
    let mine = forwards
        .iter()
        .find_map(|f| f.groups.iter().find(|g| g.arn == tg_arn).map(|g| (f, g)))?;
    let total: i32 = groups.iter().map(|g| i32::from(g.weight)).sum();
    let w = i32::from(mine.1.weight);
    let percent = if groups.len() == 1 {
        100
    } else if total > 0 {
        (w * 100 / total) as u32
    } else {
        0
    };
    // A forward that names its group only by `TargetGroupArn` has no weight.
    let weight = (mine.0.spelling != Spelling::TargetGroupArn).then_some(w);
    Some(RouteStatus {
        rule_arn: r.arn,
        priority: r.priority,
        path_patterns: r.path_patterns,
        percent,
        weight,
    })
}

/// Run `mcpctl status`.
pub async fn run(args: StatusArgs, global: &GlobalArgs) -> Outcome {
    let (s, c) = super::session::open_one(&args.stack, global).await?;
    let st = read(&c, &s)
        .await
        .map_err(|e| crate::commands::explain_not_found(e, &c.region, &s))?;
    if global.output.is_json() {
        return Ok(Output::json(&st)?);
    }
    crate::outln!("Stack `{}` ({}):", st.stack, s.source.display())?;
    for r in &st.resources {
        crate::outln!("  {:<16} {:<40} {}", r.kind, r.name, r.state)?;
        if let Some(id) = &r.id {
            crate::outln!("  {:<16} {id}", "")?;
        }
    }
    crate::outln!("  tasks running {}/{}", st.running, st.desired)?;
    for t in &st.targets {
        crate::outln!(
            "  target {}:{} {}{}",
            t.id,
            t.port.unwrap_or_default(),
            t.state,
            t.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )?;
    }
    if st.routes.is_empty() {
        crate::outln!("  no listener rule forwards to this stack's target group")?;
    }
    for r in &st.routes {
        crate::outln!(
            "  rule priority {} {} -> {}% (weight {})",
            r.priority.map_or("default".to_string(), |p| p.to_string()),
            r.path_patterns.join(","),
            r.percent,
            r.weight.map_or("-".to_string(), |w| w.to_string())
        )?;
    }
    if let Some(a) = &st.scaling {
        crate::outln!(
            "  autoscaling: {}..{} tasks, desired now {}",
            a.min,
            a.max,
            a.current
        )?;
        for (name, metric, target) in &a.policies {
            crate::outln!("    policy {name}: {metric} at {target}")?;
        }
        for act in &a.activities {
            crate::outln!(
                "    {} {} {} ({})",
                act.start,
                act.status,
                act.description,
                act.cause
            )?;
        }
        if let Some(e) = &a.activities_error {
            crate::outln!("    scaling activities: could not read them ({e})")?;
        }
    }
    if let Some(u) = &st.url {
        crate::outln!("  MCP endpoint: {u}")?;
    }
    Ok(Output::Nothing)
}
