//! The stack's ECS service: Fargate, bound to the target group, awsvpc network, desired count,
//! circuit breaker with rollback, min/max healthy percent, ECS Exec. `create_service` is not
//! idempotent (and moto silently overwrites), so the service is always described first and later
//! runs send an `UpdateService` with only what changed ([`apply`], the plan's step). Described,
//! observed and scaled here.

use aws_sdk_ecs::types::{AssignPublicIp, Service, ServiceField, Tag};

use super::errors::call_error;
use super::wait::{DeploymentSnapshot, EventSnapshot, ServiceSnapshot};
use super::Clients;
use crate::error::Result;
use crate::plan::desired::ServiceSpec;
use crate::plan::observed::ObservedService;

mod apply;
mod drain;

pub use apply::{apply, create, update};
pub use drain::{wait_drained, wait_not_draining, DRAINING_WAIT};

/// ECS tags from pairs.
pub fn ecs_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Describe the service `name` in `cluster` (any status).
pub async fn describe(c: &Clients, cluster: &str, name: &str) -> Result<Option<Service>> {
    let out = c
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(ServiceField::Tags)
        .send()
        .await
        .map_err(|e| call_error(&format!("service {name} in cluster {cluster}"), e))?;
    Ok(out
        .services()
        .iter()
        .find(|s| s.service_name() == Some(name))
        .cloned())
}

/// Observe the service; `tg` is the stack's target group (ARN, name) so the binding reads by name.
pub async fn observe(
    c: &Clients,
    cluster: &str,
    name: &str,
    tg: Option<(&str, &str)>,
) -> Result<Option<ObservedService>> {
    Ok(describe(c, cluster, name)
        .await?
        .map(|s| normalise(&s, cluster, tg)))
}

/// Normalise a described service to the desired shape.
pub fn normalise(s: &Service, cluster: &str, tg: Option<(&str, &str)>) -> ObservedService {
    let vpc = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let mut subnets = vpc.map(|v| v.subnets().to_vec()).unwrap_or_default();
    subnets.sort();
    let mut security_groups = vpc
        .map(|v| v.security_groups().to_vec())
        .unwrap_or_default();
    security_groups.sort();
    let lb = s.load_balancers().first();
    let tg_arn = lb.and_then(|l| l.target_group_arn()).unwrap_or_default();
    let target_group = match tg {
        Some((arn, name)) if arn == tg_arn => name.to_string(),
        _ => tg_arn.to_string(),
    };
    let dc = s.deployment_configuration();
    let cb = dc.and_then(|d| d.deployment_circuit_breaker());
    let tags: Vec<(String, String)> = s
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    ObservedService {
        arn: s.service_arn().unwrap_or_default().to_string(),
        status: s.status().unwrap_or_default().to_string(),
        task_definition: s.task_definition().unwrap_or_default().to_string(),
        launch_type: s
            .launch_type()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        spec: ServiceSpec {
            name: s.service_name().unwrap_or_default().to_string(),
            cluster: cluster.to_string(),
            desired_count: s.desired_count(),
            subnets,
            security_groups,
            assign_public_ip: vpc.and_then(|v| v.assign_public_ip())
                == Some(&AssignPublicIp::Enabled),
            container: lb
                .and_then(|l| l.container_name())
                .unwrap_or_default()
                .to_string(),
            container_port: lb.and_then(|l| l.container_port()).unwrap_or_default(),
            target_group,
            min_healthy_percent: dc.and_then(|d| d.minimum_healthy_percent()).unwrap_or(100),
            max_percent: dc.and_then(|d| d.maximum_percent()).unwrap_or(200),
            circuit_breaker_rollback: cb.is_some_and(|c| c.enable() && c.rollback()),
            enable_execute_command: s.enable_execute_command(),
            health_check_grace_period_seconds: s.health_check_grace_period_seconds().unwrap_or(0),
            deployment_alarms: dc
                .and_then(|d| d.alarms())
                .filter(|a| a.enable() && a.rollback())
                .map(|a| a.alarm_names().to_vec())
                .unwrap_or_default(),
            tags: tags.clone(),
        },
        tags,
    }
}

/// The service as the waiter sees it.
pub fn snapshot(s: &Service) -> ServiceSnapshot {
    ServiceSnapshot {
        status: s.status().unwrap_or_default().to_string(),
        desired_count: s.desired_count(),
        running_count: s.running_count(),
        pending_count: s.pending_count(),
        task_definition: s.task_definition().unwrap_or_default().to_string(),
        deployments: s
            .deployments()
            .iter()
            .map(|d| DeploymentSnapshot {
                id: d.id().unwrap_or_default().to_string(),
                status: d.status().unwrap_or_default().to_string(),
                task_definition: d.task_definition().unwrap_or_default().to_string(),
                desired_count: d.desired_count(),
                running_count: d.running_count(),
                failed_tasks: d.failed_tasks(),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                rollout_state_reason: d.rollout_state_reason().map(str::to_string),
            })
            .collect(),
        events: s
            .events()
            .iter()
            .map(|e| EventSnapshot {
                id: e.id().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect(),
    }
}

/// Scale the service to 0 tasks (`cleanup`; ECS refuses to delete a service above 0).
pub async fn scale_to_zero(c: &Clients, cluster: &str, name: &str) -> Result<()> {
    set_desired_count(c, cluster, name, 0).await
}

/// `UpdateService` with only `taskDefinition` (`up --revision N`).
pub async fn set_task_definition(
    c: &Clients,
    cluster: &str,
    name: &str,
    task_definition: &str,
) -> Result<()> {
    c.ecs
        .update_service()
        .cluster(cluster)
        .service(name)
        .task_definition(task_definition)
        .send()
        .await
        .map_err(|e| call_error(&format!("service {name} in cluster {cluster}"), e))?;
    Ok(())
}

/// `UpdateService` with only `desiredCount` (`scale`, `cleanup`).
pub async fn set_desired_count(c: &Clients, cluster: &str, name: &str, count: i32) -> Result<()> {
    c.ecs
        .update_service()
        .cluster(cluster)
        .service(name)
        .desired_count(count)
        .send()
        .await
        .map_err(|e| call_error(&format!("service {name} in cluster {cluster}"), e))?;
    Ok(())
}

/// Delete the service (`cleanup`, after [`scale_to_zero`]). Already gone counts as done.
pub async fn delete(c: &Clients, cluster: &str, name: &str) -> Result<()> {
    match c
        .ecs
        .delete_service()
        .cluster(cluster)
        .service(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if super::errors::code(&e) == Some("ServiceNotFoundException") => Ok(()),
        Err(e) => Err(call_error(
            &format!("service {name} in cluster {cluster}"),
            e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::apply::deployment;
    use super::*;

    fn spec(alarms: &[&str]) -> ServiceSpec {
        ServiceSpec {
            name: "s".into(),
            cluster: "c".into(),
            desired_count: 2,
            subnets: vec![],
            security_groups: vec![],
            assign_public_ip: false,
            container: "x".into(),
            container_port: 9898,
            target_group: "tg".into(),
            min_healthy_percent: 100,
            max_percent: 200,
            circuit_breaker_rollback: true,
            enable_execute_command: false,
            health_check_grace_period_seconds: 0,
            deployment_alarms: alarms.iter().map(|a| a.to_string()).collect(),
            tags: vec![],
        }
    }

    #[test]
    fn deployment_alarms_are_sent_on_with_rollback_off_only_when_removed_else_left_out() {
        let on = deployment(&spec(&["s-5xx-rollback"]), false).unwrap();
        let a = on.alarms().unwrap();
        assert_eq!(a.alarm_names(), ["s-5xx-rollback"]);
        assert!(a.enable() && a.rollback());
        assert!(deployment(&spec(&[]), false).unwrap().alarms().is_none());
        let off = deployment(&spec(&[]), true).unwrap();
        let a = off.alarms().unwrap();
        assert!(a.alarm_names().is_empty() && !a.enable() && !a.rollback());
    }
}
