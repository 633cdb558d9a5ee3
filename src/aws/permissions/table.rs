//! Every IAM action mcpctl needs: the one table `mcpctl iam-policy` prints from, the README
//! points to, and debug builds check every recorded call against (so an SDK call the table
//! does not list for the running command fails the tests that make it).
//!
//! Resource scopes follow the Service Authorization Reference
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>);
//! `Scope::Any` only where its "Resource types" column is empty for the action.

use super::command::CommandName::{self, *};
use super::scope::Scope::{self, *};
use crate::stack::Stack;

/// When a stack needs an action beyond the commands that make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Every stack.
    Always,
    /// A stack without `image:` (`up` builds `server/` and pushes it with docker).
    Build,
    /// A stack with `service.autoscaling` or `service.alarm_rollback`.
    Autoscaling,
    /// A stack with `roles.task_role` (a task role mcpctl creates and keeps).
    ManagedRole,
    /// A stack with `load_balancer.certificate_arn` (an HTTPS listener).
    Https,
}

impl Feature {
    /// Whether `stack` needs the actions of this feature.
    pub fn applies(self, stack: &Stack) -> bool {
        match self {
            Feature::Always => true,
            Feature::Build => stack.image.is_none(),
            Feature::Autoscaling => {
                stack.service.autoscaling.is_some() || stack.service.alarm_rollback
            }
            Feature::ManagedRole => stack.roles.managed_task_role.is_some(),
            Feature::Https => stack.load_balancer.certificate_arn.is_some(),
        }
    }
}

/// One action, where it acts, when a stack needs it, and the commands that call it.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    /// `service:Action` as IAM names it.
    pub action: &'static str,
    /// The resources it acts on.
    pub scope: Scope,
    /// Which stacks need it.
    pub feature: Feature,
    /// The commands that call it.
    pub commands: &'static [CommandName],
}

const fn need(
    action: &'static str,
    scope: Scope,
    feature: Feature,
    commands: &'static [CommandName],
) -> Need {
    Need {
        action,
        scope,
        feature,
        commands,
    }
}

use Feature::{Always, Autoscaling, Build, Https, ManagedRole};

/// The commands that read a stack's deployed state (`aws::deploy::observe` and its peers).
const OBSERVE: &[CommandName] = &[Adopt, Plan, Up, Status, Cleanup];
/// The commands that read the ALB's routing.
const ROUTING: &[CommandName] = &[
    Adopt, Plan, Up, Status, Cutover, Rollback, Monitor, Cleanup, Verify, Shell,
];
/// The commands that change the routing and its tags.
const ROUTE_CHANGE: &[CommandName] = &[Up, Cutover, Rollback, Cleanup];

/// Every action, grouped by service.
#[rustfmt::skip]
pub const NEEDS: &[Need] = &[
    // ACM: DescribeCertificate takes the certificate ARN
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscertificatemanager.html).
    need("acm:DescribeCertificate", Certificate, Https, &[Plan, Up, Status, Verify, Shell]),
    // Application Auto Scaling: its scalable-target ARN holds an ID AWS assigns at
    // RegisterScalableTarget, unknown to a policy written before, and its Describe actions
    // list no resource type
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_applicationautoscaling.html).
    need("application-autoscaling:DescribeScalableTargets", Any, Always, &[Adopt, Plan, Up, Status, Scale, Cutover, Cleanup]),
    need("application-autoscaling:DescribeScalingPolicies", Any, Always, &[Plan, Up, Status, Scale, Cutover, Cleanup]),
    need("application-autoscaling:DescribeScalingActivities", Any, Always, &[Status]),
    need("application-autoscaling:RegisterScalableTarget", Any, Autoscaling, &[Up, Scale, Cutover]),
    need("application-autoscaling:PutScalingPolicy", Any, Autoscaling, &[Up]),
    need("application-autoscaling:DeleteScalingPolicy", Any, Autoscaling, &[Up, Cleanup]),
    need("application-autoscaling:DeregisterScalableTarget", Any, Autoscaling, &[Up, Cleanup]),
    // Target tracking creates its alarms through the caller's permissions, and Application
    // Auto Scaling needs its service-linked role once per account
    // (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html).
    need("iam:CreateServiceLinkedRole", AutoscalingServiceLinkedRole, Autoscaling, &[Up, Scale]),
    // CloudWatch: GetMetricData lists no resource type; the alarm actions take alarm ARNs
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
    need("cloudwatch:GetMetricData", Any, Always, &[Cutover, Monitor]),
    need("cloudwatch:DescribeAlarms", Alarms, Always, &[Adopt, Plan, Up, Status, Cleanup]),
    need("cloudwatch:PutMetricAlarm", Alarms, Autoscaling, &[Up]),
    need("cloudwatch:DeleteAlarms", Alarms, Autoscaling, &[Up, Cleanup]),
    // ECR: GetAuthorizationToken lists no resource type; the rest take the repository
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html).
    need("ecr:DescribeRepositories", Repository, Always, &[Adopt, Plan, Up, Status, Cleanup]),
    need("ecr:GetLifecyclePolicy", Repository, Always, &[Adopt, Plan, Up, Status, Cleanup]),
    need("ecr:ListTagsForResource", Repository, Always, &[Adopt, Plan, Up, Status, Cleanup]),
    need("ecr:DescribeImages", Repository, Always, &[Plan, Up]),
    need("ecr:BatchGetImage", Repository, Always, &[Plan, Up]),
    need("ecr:CreateRepository", Repository, Always, &[Up]),
    need("ecr:TagResource", Repository, Always, &[Up]),
    need("ecr:PutLifecyclePolicy", Repository, Always, &[Up]),
    need("ecr:DeleteLifecyclePolicy", Repository, Always, &[Up]),
    need("ecr:PutImageScanningConfiguration", Repository, Always, &[Up]),
    need("ecr:DeleteRepository", Repository, Always, &[Cleanup]),
    need("ecr:GetAuthorizationToken", Any, Build, &[Up]),
    // `docker push` of the image `up` builds
    // (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html).
    need("ecr:BatchCheckLayerAvailability", Repository, Build, &[Up]),
    need("ecr:InitiateLayerUpload", Repository, Build, &[Up]),
    need("ecr:UploadLayerPart", Repository, Build, &[Up]),
    need("ecr:CompleteLayerUpload", Repository, Build, &[Up]),
    need("ecr:PutImage", Repository, Build, &[Up]),
    // ECS: the task-definition actions and ListServices list no resource type (ListServices
    // takes the `ecs:cluster` condition)
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
    need("ecs:DescribeClusters", Cluster, Always, &[Adopt, Plan, Up]),
    need("ecs:ListServices", ServicesOfCluster, Always, &[Plan, Up, Cleanup]),
    need("ecs:DescribeServices", Service, Always, &[Adopt, Plan, Up, Status, Scale, Revisions, Cleanup]),
    need("ecs:CreateService", Service, Always, &[Up]),
    need("ecs:UpdateService", Service, Always, &[Up, Scale, Cleanup]),
    need("ecs:DeleteService", Service, Always, &[Cleanup]),
    need("ecs:TagResource", Service, Always, &[Up]),
    need("ecs:TagResource", TaskDefinitions, Always, &[Up]),
    need("ecs:DescribeTaskDefinition", Any, Always, &[Adopt, Plan, Up, Status, Revisions, Cleanup]),
    need("ecs:ListTaskDefinitions", Any, Always, &[Up, Revisions, Cleanup]),
    need("ecs:RegisterTaskDefinition", Any, Always, &[Up]),
    need("ecs:DeregisterTaskDefinition", Any, Always, &[Cleanup]),
    // Elastic Load Balancing: the Describe actions list no resource type; the rest take the
    // target group, the ALB, its listeners or its rules
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html).
    need("elasticloadbalancing:DescribeLoadBalancers", Any, Always, ROUTING),
    need("elasticloadbalancing:DescribeListeners", Any, Always, ROUTING),
    need("elasticloadbalancing:DescribeListenerCertificates", Any, Https, &[Plan, Up]),
    need("elasticloadbalancing:DescribeRules", Any, Always, ROUTING),
    need("elasticloadbalancing:DescribeTags", Any, Always, ROUTING),
    need("elasticloadbalancing:DescribeTargetGroups", Any, Always, &[Adopt, Plan, Up, Status, Cutover, Rollback, Monitor, Cleanup]),
    need("elasticloadbalancing:DescribeTargetGroupAttributes", Any, Always, OBSERVE),
    need("elasticloadbalancing:DescribeTargetHealth", Any, Always, &[Up, Status, Cutover, Rollback]),
    need("elasticloadbalancing:CreateTargetGroup", TargetGroup, Always, &[Up]),
    need("elasticloadbalancing:ModifyTargetGroup", TargetGroup, Always, &[Up]),
    need("elasticloadbalancing:ModifyTargetGroupAttributes", TargetGroup, Always, &[Up]),
    need("elasticloadbalancing:DeleteTargetGroup", TargetGroup, Always, &[Cleanup]),
    need("elasticloadbalancing:AddTags", TargetGroup, Always, &[Up]),
    need("elasticloadbalancing:CreateListener", LoadBalancer, Always, &[Up]),
    need("elasticloadbalancing:AddTags", Listeners, Always, &[Up]),
    need("elasticloadbalancing:CreateRule", Listeners, Always, &[Up]),
    need("elasticloadbalancing:AddTags", ListenerRules, Always, ROUTE_CHANGE),
    need("elasticloadbalancing:RemoveTags", ListenerRules, Always, &[Cutover, Rollback]),
    need("elasticloadbalancing:ModifyRule", ListenerRules, Always, ROUTE_CHANGE),
    need("elasticloadbalancing:SetRulePriorities", ListenerRules, Always, &[Up]),
    need("elasticloadbalancing:DeleteRule", ListenerRules, Always, &[Cleanup]),
    // IAM: role actions take the role ARN; PassRole only to ECS tasks
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html,
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
    need("iam:GetRole", Roles, Always, &[Adopt, Plan, Up, Status, Cleanup]),
    need("iam:PassRole", PassedRoles, Always, &[Up]),
    need("iam:GetRolePolicy", ManagedTaskRole, ManagedRole, &[Plan, Up, Status, Cleanup]),
    need("iam:CreateRole", ManagedTaskRole, ManagedRole, &[Up]),
    need("iam:TagRole", ManagedTaskRole, ManagedRole, &[Up]),
    need("iam:PutRolePolicy", ManagedTaskRole, ManagedRole, &[Up]),
    need("iam:UpdateAssumeRolePolicy", ManagedTaskRole, ManagedRole, &[Up]),
    need("iam:ListRolePolicies", ManagedTaskRole, ManagedRole, &[Cleanup]),
    need("iam:ListAttachedRolePolicies", ManagedTaskRole, ManagedRole, &[Cleanup]),
    need("iam:DeleteRolePolicy", ManagedTaskRole, ManagedRole, &[Cleanup]),
    need("iam:DetachRolePolicy", ManagedTaskRole, ManagedRole, &[Cleanup]),
    need("iam:DeleteRole", ManagedTaskRole, ManagedRole, &[Cleanup]),
    // CloudWatch Logs: DescribeLogGroups is authorized on the account's log groups; the rest
    // take the stack's log group
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html).
    need("logs:DescribeLogGroups", LogGroups, Always, &[Adopt, Plan, Up, Status, Logs, Cleanup]),
    need("logs:ListTagsForResource", LogGroup, Always, &[Adopt, Plan, Up, Status, Logs, Cleanup]),
    need("logs:FilterLogEvents", LogGroup, Always, &[Logs]),
    need("logs:CreateLogGroup", LogGroup, Always, &[Up]),
    need("logs:TagResource", LogGroup, Always, &[Up]),
    need("logs:PutRetentionPolicy", LogGroup, Always, &[Up]),
    need("logs:DeleteRetentionPolicy", LogGroup, Always, &[Up]),
    need("logs:DeleteLogGroup", LogGroup, Always, &[Cleanup]),
];

/// Operations that need no permission: "No permissions are required to perform this operation"
/// (<https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html>).
pub const NEEDS_NO_PERMISSION: &[&str] = &["sts:GetCallerIdentity"];

/// Whether the table lists `action` for `command` (any scope, any feature).
pub fn lists(command: CommandName, action: &str) -> bool {
    NEEDS_NO_PERMISSION.contains(&action)
        || NEEDS
            .iter()
            .any(|n| n.action == action && n.commands.contains(&command))
}
