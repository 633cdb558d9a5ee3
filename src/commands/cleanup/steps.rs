//! The steps of a cleanup: each one the exact call it makes (for `--dry-run` and JSON) and the
//! call itself, through the resource modules in `aws/`.

use std::time::Duration;

use serde_json::json;

use crate::aws::listener_rule::RuleChange;
use crate::aws::{
    alarm, ecr, iam_role, logs, scaling, service, target_group, task_definition, Call, Clients,
};
use crate::error::Result;
use crate::plan::scaling::DIMENSION;
use crate::stack::Stack;

/// One step of a cleanup, in the order it runs. Each step was planned from what exists now,
/// so a cleanup stopped halfway plans only what is left when run again.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// Delete the service's scaling policies and deregister its scalable target (first, so the
    /// autoscaler does not scale the service back up while it drains).
    DeregisterScaling {
        resource_id: String,
        policies: Vec<String>,
    },
    /// `UpdateService desiredCount=0`.
    ScaleToZero,
    /// Wait until the service runs no task (no call).
    WaitDrained,
    /// `DeleteService`.
    DeleteService,
    /// A listener rule change (delete, hand over, drop the group).
    Rule(RuleChange),
    /// `DeleteTargetGroup`.
    DeleteTargetGroup { arn: String },
    /// `DeleteLogGroup`.
    DeleteLogGroup,
    /// `DeregisterTaskDefinition`.
    Deregister { arn: String },
    /// `DeleteRepository` (only with `--delete-images`).
    DeleteRepository,
    /// Delete the managed task role (only with `--delete-role`).
    DeleteRole { name: String },
    /// `DeleteAlarms` for the deployment rollback alarm (after the service is gone).
    DeleteAlarm { name: String },
}

impl Step {
    pub(super) fn planned(&self, s: &Stack) -> Call {
        let (cluster, svc) = (&s.cluster, &s.names.service);
        match self {
            Step::DeregisterScaling {
                resource_id,
                policies,
            } => Call::planned(
                "application-autoscaling:DeregisterScalableTarget",
                json!({"ServiceNamespace": "ecs", "ResourceId": resource_id, "ScalableDimension": DIMENSION, "before": policies.iter().map(|p| format!("application-autoscaling:DeleteScalingPolicy {p}")).collect::<Vec<_>>()}),
            ),
            Step::DeleteAlarm { name } => {
                Call::planned("cloudwatch:DeleteAlarms", json!({"AlarmNames": [name]}))
            }
            Step::ScaleToZero => Call::planned(
                "ecs:UpdateService",
                json!({"cluster": cluster, "service": svc, "desiredCount": 0}),
            ),
            Step::WaitDrained => Call::planned(
                "wait",
                json!({"until": format!("service {svc} runs 0 tasks"), "poll": "ecs:DescribeServices"}),
            ),
            Step::DeleteService => Call::planned(
                "ecs:DeleteService",
                json!({"cluster": cluster, "service": svc}),
            ),
            Step::Rule(change) => change.planned(),
            Step::DeleteTargetGroup { arn } => Call::planned(
                "elasticloadbalancing:DeleteTargetGroup",
                json!({"TargetGroupArn": arn}),
            ),
            Step::DeleteLogGroup => Call::planned(
                "logs:DeleteLogGroup",
                json!({"logGroupName": s.names.log_group}),
            ),
            Step::Deregister { arn } => Call::planned(
                "ecs:DeregisterTaskDefinition",
                json!({"taskDefinition": arn}),
            ),
            Step::DeleteRepository => Call::planned(
                "ecr:DeleteRepository",
                json!({"repositoryName": s.names.ecr_repository, "force": true}),
            ),
            Step::DeleteRole { name } => Call::planned(
                "iam:DeleteRole",
                json!({"RoleName": name, "before": "iam:DeleteRolePolicy / iam:DetachRolePolicy for each of its policies"}),
            ),
        }
    }

    pub(super) async fn apply(&self, c: &Clients, s: &Stack, timeout: Duration) -> Result<()> {
        let (cluster, svc) = (&s.cluster, &s.names.service);
        match self {
            Step::DeregisterScaling {
                resource_id,
                policies,
            } => {
                for p in policies {
                    scaling::delete_policy(c, resource_id, p).await?;
                }
                scaling::deregister(c, resource_id).await
            }
            Step::DeleteAlarm { name } => alarm::delete(c, name).await,
            Step::ScaleToZero => service::scale_to_zero(c, cluster, svc).await,
            Step::WaitDrained => {
                service::wait_drained(c, cluster, svc, timeout, Duration::from_secs(2)).await
            }
            Step::DeleteService => service::delete(c, cluster, svc).await,
            Step::Rule(change) => change.apply(c).await,
            Step::DeleteTargetGroup { arn } => {
                target_group::delete(c, arn, &s.names.target_group).await
            }
            Step::DeleteLogGroup => logs::delete(c, &s.names.log_group).await,
            Step::Deregister { arn } => task_definition::deregister(c, arn).await,
            Step::DeleteRepository => ecr::delete(c, &s.names.ecr_repository).await,
            Step::DeleteRole { name } => iam_role::delete(c, name).await,
        }
    }
}
