//! Creating the stack's ECS service and updating it in place, as the plan's step says
//! ([`apply`]): the network, deployment configuration and target group binding built from the
//! [`ServiceSpec`], one `CreateService`, or one `UpdateService` with only what changed (and a
//! `TagResource` for new tags).

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentAlarms, DeploymentCircuitBreaker,
    DeploymentConfiguration, LaunchType, LoadBalancer, NetworkConfiguration, PropagateTags,
};

use super::{ecs_tags, wait_not_draining, DRAINING_WAIT};
use crate::aws::alarm;
use crate::aws::deploy::Record;
use crate::aws::deploy::{Applying, Deploy};
use crate::aws::errors::call_error;
use crate::aws::Clients;
use crate::error::{Context, Result};
use crate::plan::desired::ServiceSpec;
use crate::plan::steps::{ServiceUpdate, Step};
use crate::plan::{Action, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

fn network(s: &ServiceSpec) -> Result<NetworkConfiguration> {
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(s.subnets.clone()))
        .set_security_groups(Some(s.security_groups.clone()))
        .assign_public_ip(if s.assign_public_ip {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .context_failed(|| "building the network configuration".to_string())?;
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

/// The deployment configuration; with `deployment_alarms`, ECS watches those alarms during a
/// deployment and rolls back when one goes to ALARM (`enable` and `rollback`), per
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html>
/// and <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html>
/// (moto does not keep the field, so the tests read it from the recorded request). Without
/// alarms, `with_off` sends them switched off (an update that removes them from a service that
/// has them), else leaves the field out.
pub(super) fn deployment(s: &ServiceSpec, with_off: bool) -> Result<DeploymentConfiguration> {
    let on = !s.deployment_alarms.is_empty();
    let alarms = if on || with_off {
        Some(
            DeploymentAlarms::builder()
                .set_alarm_names(Some(s.deployment_alarms.clone()))
                .enable(on)
                .rollback(on)
                .build()
                .context_failed(|| "building the deployment alarms".to_string())?,
        )
    } else {
        None
    };
    Ok(DeploymentConfiguration::builder()
        .set_alarms(alarms)
        .minimum_healthy_percent(s.min_healthy_percent)
        .maximum_percent(s.max_percent)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(s.circuit_breaker_rollback)
                .rollback(s.circuit_breaker_rollback)
                .build(),
        )
        .build())
}

fn binding(s: &ServiceSpec, tg_arn: &str) -> LoadBalancer {
    LoadBalancer::builder()
        .target_group_arn(tg_arn)
        .container_name(&s.container)
        .container_port(s.container_port)
        .build()
}

/// Create the service; returns its ARN.
pub async fn create(
    c: &Clients,
    s: &ServiceSpec,
    task_definition: &str,
    tg_arn: &str,
) -> Result<String> {
    let req = c
        .ecs
        .create_service()
        .cluster(&s.cluster)
        .service_name(&s.name)
        .task_definition(task_definition)
        .desired_count(s.desired_count)
        .launch_type(LaunchType::Fargate)
        .network_configuration(network(s)?)
        .load_balancers(binding(s, tg_arn))
        .deployment_configuration(deployment(s, false)?)
        .enable_execute_command(s.enable_execute_command)
        .health_check_grace_period_seconds(s.health_check_grace_period_seconds)
        .propagate_tags(PropagateTags::Service)
        .set_tags(Some(ecs_tags(&s.tags)));
    let out = crate::aws::iam_propagation::retry(
        &format!("CreateService {}", s.name),
        crate::aws::iam_propagation::WINDOW,
        || req.clone().send(),
    )
    .await
    .map_err(|e| call_error(&format!("service {} in cluster {}", s.name, s.cluster), e))?;
    Ok(out
        .service()
        .and_then(|s| s.service_arn())
        .unwrap_or_default()
        .to_string())
}

/// Apply an update: one `UpdateService` carrying only what changed, and tags if they changed.
/// Returns true when the deployment changed (so there is something to wait for).
pub async fn update(
    c: &Clients,
    arn: &str,
    s: &ServiceSpec,
    task_definition: &str,
    tg_arn: &str,
    update: &ServiceUpdate,
) -> Result<bool> {
    let what = format!("service {} in cluster {}", s.name, s.cluster);
    let mut req = c.ecs.update_service().cluster(&s.cluster).service(&s.name);
    if update.task_definition {
        req = req.task_definition(task_definition);
    }
    if let Some(n) = update.desired_count {
        req = req.desired_count(n);
    }
    if update.network {
        req = req.network_configuration(network(s)?);
    }
    if update.load_balancer {
        req = req.load_balancers(binding(s, tg_arn));
    }
    if update.deployment {
        req = req.deployment_configuration(deployment(s, update.alarms)?);
    }
    if update.execute_command {
        req = req.enable_execute_command(s.enable_execute_command);
    }
    if update.grace_period {
        req = req.health_check_grace_period_seconds(s.health_check_grace_period_seconds);
    }
    let any = update.deploys();
    if any {
        crate::aws::iam_propagation::retry(
            &format!("UpdateService {}", s.name),
            crate::aws::iam_propagation::WINDOW,
            || req.clone().send(),
        )
        .await
        .map_err(|e| call_error(&what, e))?;
    }
    if update.tags {
        c.ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecs_tags(&s.tags)))
            .send()
            .await
            .map_err(|e| call_error(&what, e))?;
    }
    Ok(any)
}

/// Carry out the plan's step for the ECS service, running the task definition `td_arn` behind
/// the target group `tg_arn`; true when a deployment was started (to wait for).
pub async fn apply(
    c: &Clients,
    svc: &ServiceSpec,
    step: &Step<String, ServiceUpdate>,
    (td_arn, tg_arn): (&str, &str),
    rec: &mut Record,
) -> Result<bool> {
    Ok(match step {
        Step::Create => {
            wait_not_draining(
                c,
                &svc.cluster,
                &svc.name,
                DRAINING_WAIT,
                std::time::Duration::from_secs(5),
            )
            .await?;
            let arn = create(c, svc, td_arn, tg_arn).await?;
            rec.add(Kind::Service, Action::Create, &svc.name, &arn);
            true
        }
        Step::Update(arn, update) => {
            let deploying = self::update(c, arn, svc, td_arn, tg_arn, update).await?;
            rec.add(Kind::Service, Action::Update, &svc.name, arn);
            deploying
        }
        Step::Keep(_) => false,
    })
}

/// Read with the stack's target group (so the binding reads by name), and only when the
/// cluster exists (ECS would reject the call).
impl Deploy for crate::plan::kinds::service::Service {
    async fn observe(c: &Clients, stack: &Stack, so_far: &Observed) -> Result<Self::Observed> {
        if so_far.shared.cluster_arn.is_empty() {
            return Ok(None);
        }
        let tg = so_far
            .target_group
            .as_ref()
            .map(|t| (t.arn.as_str(), stack.names.target_group.as_str()));
        super::observe(c, &stack.cluster, &stack.names.service, tg).await
    }

    /// The rollback alarm the service names is put first (ECS checks it exists).
    async fn apply(run: &mut Applying<'_>, d: &Desired, steps: &Steps) -> Result<()> {
        let alarm = alarm::apply_before_service(run.c, &steps.alarm, &run.tg_arn).await?;
        run.rec.extend(alarm);
        let arns = (run.td_arn.as_str(), run.tg_arn.as_str());
        run.service_deploying =
            apply(run.c, &d.service, &steps.service, arns, &mut run.rec).await?;
        Ok(())
    }
}
