//! Where an action may act: the ARNs of one stack's resources that a policy statement names,
//! in the formats of the Service Authorization Reference's "Resource types" tables
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>).

use serde_json::{json, Value};

use crate::stack::{LoadBalancerRef, Stack};

/// The resources of one need, in the words of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Every resource (`"*"`): the reference lists no resource type for the action, so AWS
    /// accepts nothing narrower. Each use in the table cites the reference.
    Any,
    /// The ECS cluster (`cluster/NAME`).
    Cluster,
    /// Every service in the cluster (`ecs:ListServices` takes `"*"` with an `ecs:cluster`
    /// condition).
    ServicesOfCluster,
    /// The stack's ECS service (`service/CLUSTER/NAME`).
    Service,
    /// The stack's task definition family, every revision (`task-definition/FAMILY:*`).
    TaskDefinitions,
    /// The stack's target group (`targetgroup/NAME/*`).
    TargetGroup,
    /// The ALB (`loadbalancer/app/NAME/*`).
    LoadBalancer,
    /// The ALB's listeners (`listener/app/NAME/*`).
    Listeners,
    /// The ALB's listener rules (`listener-rule/app/NAME/*`).
    ListenerRules,
    /// The stack's log group and its streams (`log-group:NAME`, `log-group:NAME:*`).
    LogGroup,
    /// Every log group of the account and region (`log-group:*`: `DescribeLogGroups` lists by
    /// prefix and is authorized on the account's log groups).
    LogGroups,
    /// The stack's ECR repository (`repository/NAME`).
    Repository,
    /// The roles ECS runs the tasks as (execution role, task role), passed with `iam:PassRole`
    /// to `ecs-tasks.amazonaws.com` only.
    PassedRoles,
    /// The roles mcpctl reads (execution role, task role).
    Roles,
    /// The task role mcpctl manages (`roles.task_role.name`).
    ManagedTaskRole,
    /// Application Auto Scaling's service-linked role for ECS, created once per account.
    AutoscalingServiceLinkedRole,
    /// The stack's alarms: its rollback alarm and the target-tracking alarms Application Auto
    /// Scaling creates for its service (`alarm:TargetTracking-service/CLUSTER/NAME-*`).
    Alarms,
    /// The stack's HTTPS certificate.
    Certificate,
}

/// Where ARNs are: partition, region and account (an account ID, or the policy variable
/// `${aws:PrincipalAccount}`, the caller's own account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// `aws`, `aws-cn` or `aws-us-gov`, from the region.
    pub partition: &'static str,
    /// The region.
    pub region: String,
    /// The account.
    pub account: String,
}

impl Place {
    /// The place of `region` in `account`.
    pub fn new(region: &str, account: &str) -> Place {
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        Place {
            partition,
            region: region.to_string(),
            account: account.to_string(),
        }
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    fn global_arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}::{}:{resource}",
            self.partition, self.account
        )
    }
}

/// The resources and the condition of `scope` for `stack` at `place`; an empty list when the
/// stack has no such resource (no certificate, no managed role).
pub fn resources(scope: Scope, stack: &Stack, place: &Place) -> (Vec<String>, Option<Value>) {
    let n = &stack.names;
    let one = |s: String| (vec![s], None);
    match scope {
        Scope::Any => one("*".to_string()),
        Scope::Cluster => one(cluster_arn(stack, place)),
        Scope::ServicesOfCluster => (
            vec!["*".to_string()],
            Some(json!({"ArnEquals": {"ecs:cluster": cluster_arn(stack, place)}})),
        ),
        Scope::Service => one(place.arn(
            "ecs",
            &format!("service/{}/{}", cluster_name(stack), n.service),
        )),
        Scope::TaskDefinitions => one(place.arn(
            "ecs",
            &format!("task-definition/{}:*", n.task_family),
        )),
        Scope::TargetGroup => one(place.arn(
            "elasticloadbalancing",
            &format!("targetgroup/{}/*", n.target_group),
        )),
        Scope::LoadBalancer => one(elb_arn(stack, place, "loadbalancer")),
        Scope::Listeners => one(elb_arn(stack, place, "listener")),
        Scope::ListenerRules => one(elb_arn(stack, place, "listener-rule")),
        Scope::LogGroup => (
            vec![
                place.arn("logs", &format!("log-group:{}", n.log_group)),
                place.arn("logs", &format!("log-group:{}:*", n.log_group)),
            ],
            None,
        ),
        Scope::LogGroups => one(place.arn("logs", "log-group:*")),
        Scope::Repository => one(place.arn("ecr", &format!("repository/{}", n.ecr_repository))),
        Scope::PassedRoles => (
            role_arns(stack, place),
            Some(json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})),
        ),
        Scope::Roles => (role_arns(stack, place), None),
        Scope::ManagedTaskRole => (
            stack
                .roles
                .managed_task_role
                .iter()
                .map(|r| place.global_arn("iam", &format!("role/{}", r.name)))
                .collect(),
            None,
        ),
        Scope::AutoscalingServiceLinkedRole => (
            vec![place.global_arn(
                "iam",
                "role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
            )],
            Some(json!({"StringLike": {"iam:AWSServiceName": "ecs.application-autoscaling.amazonaws.com"}})),
        ),
        Scope::Alarms => (
            vec![
                place.arn(
                    "cloudwatch",
                    &format!("alarm:{}", crate::model::names::alarm_name(&n.service)),
                ),
                place.arn(
                    "cloudwatch",
                    &format!(
                        "alarm:TargetTracking-service/{}/{}-*",
                        cluster_name(stack),
                        n.service
                    ),
                ),
            ],
            None,
        ),
        Scope::Certificate => (
            stack.load_balancer.certificate_arn.iter().cloned().collect(),
            None,
        ),
    }
}

/// The cluster's name (the stack may name it by ARN).
fn cluster_name(stack: &Stack) -> &str {
    stack
        .cluster
        .rsplit_once(":cluster/")
        .map_or(stack.cluster.as_str(), |(_, name)| name)
}

fn cluster_arn(stack: &Stack, place: &Place) -> String {
    if stack.cluster.starts_with("arn:") {
        stack.cluster.clone()
    } else {
        place.arn("ecs", &format!("cluster/{}", stack.cluster))
    }
}

/// `loadbalancer/app/NAME/*`, `listener/app/NAME/*` or `listener-rule/app/NAME/*`, in the ALB's
/// own region and account when the stack names it by ARN.
fn elb_arn(stack: &Stack, place: &Place, kind: &str) -> String {
    match &stack.load_balancer.reference {
        LoadBalancerRef::Name(name) => {
            place.arn("elasticloadbalancing", &format!("{kind}/app/{name}/*"))
        }
        LoadBalancerRef::Arn(arn) => {
            // arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID
            let (head, tail) = arn.split_once(":loadbalancer/").unwrap_or((arn, "app/*/*"));
            let name_part = tail.rsplit_once('/').map_or(tail, |(p, _)| p);
            format!("{head}:{kind}/{name_part}/*")
        }
    }
}

fn role_arns(stack: &Stack, place: &Place) -> Vec<String> {
    let r = &stack.roles;
    let mut v = vec![r.execution_role_arn.clone()];
    if let Some(arn) = &r.task_role_arn {
        v.push(arn.clone());
    }
    if let Some(m) = &r.managed_task_role {
        v.push(place.global_arn("iam", &format!("role/{}", m.name)));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        crate::stack::stateless_for_test("").expect("stack")
    }

    #[test]
    fn arns_follow_the_reference_formats() {
        let s = stack();
        let p = Place::new("eu-west-1", "123456789012");
        let (service, _) = resources(Scope::Service, &s, &p);
        assert_eq!(
            service,
            [format!(
                "arn:aws:ecs:eu-west-1:123456789012:service/{}/{}",
                s.cluster, s.names.service
            )]
        );
        let (rules, _) = resources(Scope::ListenerRules, &s, &p);
        assert_eq!(
            rules,
            ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/fastmcp-alb/*"]
        );
        let (tg, _) = resources(Scope::TargetGroup, &s, &p);
        assert_eq!(
            tg,
            [format!(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{}/*",
                s.names.target_group
            )]
        );
        let (family, _) = resources(Scope::TaskDefinitions, &s, &p);
        assert_eq!(
            family,
            [format!(
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/{}:*",
                s.names.task_family
            )]
        );
        let (logs, _) = resources(Scope::LogGroup, &s, &p);
        assert_eq!(
            logs[0],
            format!(
                "arn:aws:logs:eu-west-1:123456789012:log-group:{}",
                s.names.log_group
            )
        );
        let (repo, _) = resources(Scope::Repository, &s, &p);
        assert_eq!(
            repo,
            [format!(
                "arn:aws:ecr:eu-west-1:123456789012:repository/{}",
                s.names.ecr_repository
            )]
        );
    }

    #[test]
    fn pass_role_is_limited_to_ecs_tasks_and_list_services_to_the_cluster() {
        let s = stack();
        let p = Place::new("us-east-1", "${aws:PrincipalAccount}");
        let (roles, cond) = resources(Scope::PassedRoles, &s, &p);
        assert!(roles.contains(&s.roles.execution_role_arn), "{roles:?}");
        assert_eq!(
            cond,
            Some(json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}))
        );
        let (all, cond) = resources(Scope::ServicesOfCluster, &s, &p);
        assert_eq!(all, ["*"]);
        assert_eq!(
            cond,
            Some(json!({"ArnEquals": {"ecs:cluster": format!(
                "arn:aws:ecs:us-east-1:${{aws:PrincipalAccount}}:cluster/{}",
                s.cluster
            )}}))
        );
    }

    #[test]
    fn an_alb_named_by_arn_keeps_its_own_region_and_account() {
        let mut s = stack();
        s.load_balancer.reference = LoadBalancerRef::Arn(
            "arn:aws:elasticloadbalancing:eu-west-1:210987654321:loadbalancer/app/prod-alb/50dc6c495c0c9188"
                .into(),
        );
        let (l, _) = resources(Scope::Listeners, &s, &Place::new("us-east-1", "1"));
        assert_eq!(
            l,
            ["arn:aws:elasticloadbalancing:eu-west-1:210987654321:listener/app/prod-alb/*"]
        );
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(Place::new("cn-north-1", "1").partition, "aws-cn");
        assert_eq!(Place::new("us-gov-west-1", "1").partition, "aws-us-gov");
        assert_eq!(Place::new("eu-west-1", "1").partition, "aws");
    }
}
