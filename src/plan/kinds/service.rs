//! The ECS service: what the stack wants ([`ServiceSpec`]; its network defaults to the ALB's),
//! what AWS has ([`ObservedService`]), the fields they can differ in ([`ServiceField`]), the
//! comparison (with the task definition revision it runs and the target group's attachment to
//! the stack's rule) and the parts of one `UpdateService` call ([`ServiceUpdate`]). Reading and
//! changing it in AWS is `aws::service`.

use serde::Serialize;

use crate::plan::compare::{change, owner_problem, Walk};
use crate::plan::fields::{diff, f, field_enum, tag_fields, Diff, Fields, Value};
use crate::plan::kinds::{step_only_tags, Inputs, Resource};
use crate::plan::scaling::govern_count;
use crate::plan::steps::{step, Step};
use crate::plan::{Action, Kind};
use crate::stack::stack_tag;

impl Walk<'_> {
    /// The ECS service (with the new task definition revision, when one is registered); its
    /// step. The rule's attachment when the service changes is the rule's to settle.
    fn service(&mut self) -> Step<String, ServiceUpdate> {
        let td_changes = self.new_task_definition;
        let (desired, observed) = (self.desired, self.observed);
        let s = &desired.service;
        let o = observed.service.as_ref().filter(|o| o.status == "ACTIVE");
        if let Some(o) = o {
            self.service_problems(o);
        }
        let mut svc_fields = o
            .map(|o| diff(&s.fields(), &o.spec.fields()))
            .unwrap_or_default();
        if let Some(d) = o.and_then(|o| self.task_definition_diff(&o.task_definition, td_changes)) {
            svc_fields.insert(0, d);
        }
        govern_count(
            &mut svc_fields,
            desired.scaling.as_ref().map(|a| (a.min, a.max)),
        );
        let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
        let mut svc = change(Kind::Service, &s.name, o.is_some(), &svc_fields, adopt);
        let service_step = step(o.map(|o| o.arn.clone()), svc_fields);
        if svc.action == Action::Create {
            svc.note = Some(self.new_service_note());
        }
        self.changes.push(svc);
        service_step
    }

    /// What stops `up` for an existing service: another stack's, a short ARN it would tag, a
    /// launch type other than Fargate.
    fn service_problems(&mut self, o: &ObservedService) {
        let s = &self.desired.service;
        self.problems.extend(owner_problem(
            Kind::Service,
            &s.name,
            &o.tags,
            self.stack,
            "service",
        ));
        if let Some(p) = short_arn_problem(&s.name, &o.arn, &s.tags, &o.tags) {
            self.problems.push(p);
        }
        if !o.launch_type.is_empty() && o.launch_type != "FARGATE" {
            self.problems.push(format!(
                "ECS service `{}` uses launch type {}; mcpctl deploys on FARGATE and ECS cannot change it in place: delete the service or give the stack another `names.service`",
                s.name, o.launch_type
            ));
        }
    }

    /// The service's task definition difference: to the new revision (`td_changes`), or to the
    /// latest active one when it runs another.
    fn task_definition_diff(&self, running: &str, td_changes: bool) -> Option<Diff<ServiceField>> {
        let current = running.rsplit('/').next().unwrap_or(running).to_string();
        let latest = self
            .observed
            .task_definition
            .as_ref()
            .map(|t| format!("{}:{}", t.spec.family, t.revision));
        let to = if td_changes {
            format!("{}:(new revision)", self.desired.task_definition.family)
        } else if latest.as_deref() != Some(current.as_str()) {
            latest.unwrap_or_default()
        } else {
            return None;
        };
        Some(Diff {
            field: ServiceField::TaskDefinition,
            from: Some(Value::Text(current)),
            to: Some(Value::Text(to)),
        })
    }

    /// The note on a service to create: its tasks, and a DRAINING one of the same name.
    fn new_service_note(&self) -> String {
        let s = &self.desired.service;
        let draining = self
            .observed
            .service
            .as_ref()
            .is_some_and(|o| o.status == "DRAINING");
        format!(
            "{} task(s) on FARGATE in cluster {}{}",
            s.desired_count,
            s.cluster,
            if draining {
                "; ECS still has a deleted service of this name DRAINING: up waits until it is INACTIVE"
            } else {
                ""
            }
        )
    }
}

/// The ECS service.
pub struct Service;

impl Resource for Service {
    type Spec = ServiceSpec;
    type Observed = Option<ObservedService>;
    type Step = Step<String, ServiceUpdate>;

    fn desired(from: &Inputs<'_>) -> ServiceSpec {
        let (stack, shared, tags) = (from.stack, from.shared, from.stack.resource_tags());
        let sorted_or = |own: &[String], alb: &[String]| {
            let mut v = if own.is_empty() {
                alb.to_vec()
            } else {
                own.to_vec()
            };
            v.sort();
            v
        };
        ServiceSpec {
            name: stack.names.service.clone(),
            cluster: stack.cluster.clone(),
            desired_count: stack.service.desired_count,
            subnets: sorted_or(&stack.network.subnets, &shared.alb.subnets),
            security_groups: sorted_or(&stack.network.security_groups, &shared.alb.security_groups),
            assign_public_ip: stack.network.assign_public_ip,
            container: stack.names.container.clone(),
            container_port: i32::from(stack.container_port),
            target_group: stack.names.target_group.clone(),
            min_healthy_percent: stack.service.min_healthy_percent,
            max_percent: stack.service.max_percent,
            circuit_breaker_rollback: stack.service.circuit_breaker_rollback,
            enable_execute_command: stack.service.enable_execute_command,
            health_check_grace_period_seconds: stack.service.health_check_grace_period_seconds,
            deployment_alarms: crate::plan::scaling::AlarmSpec::of(stack)
                .map(|a| a.name)
                .into_iter()
                .collect(),
            tags,
        }
    }

    fn compare(w: &mut Walk<'_>) -> Self::Step {
        w.service()
    }

    fn only_tags(step: &Self::Step) -> bool {
        step_only_tags(step, |u| !u.deploys())
    }
}

/// The ECS service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSpec {
    /// Service name.
    pub name: String,
    /// Cluster.
    pub cluster: String,
    /// Tasks.
    pub desired_count: i32,
    /// Subnets (sorted).
    pub subnets: Vec<String>,
    /// Security groups (sorted).
    pub security_groups: Vec<String>,
    /// Public IP.
    pub assign_public_ip: bool,
    /// Container bound to the target group.
    pub container: String,
    /// Its port.
    pub container_port: i32,
    /// Target group name.
    pub target_group: String,
    /// Deployment min healthy percent.
    pub min_healthy_percent: i32,
    /// Deployment max percent.
    pub max_percent: i32,
    /// Circuit breaker with rollback.
    pub circuit_breaker_rollback: bool,
    /// ECS Exec.
    pub enable_execute_command: bool,
    /// Health check grace period.
    pub health_check_grace_period_seconds: i32,
    /// CloudWatch alarms that roll a deployment back (`deploymentConfiguration.alarms`).
    pub deployment_alarms: Vec<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl ServiceSpec {
    /// Comparable fields (the task definition is compared by the plan separately).
    pub fn fields(&self) -> Fields<ServiceField> {
        use ServiceField as F;
        let Self {
            name: _,    // the identity
            cluster: _, // part of the identity
            desired_count,
            subnets,
            security_groups,
            assign_public_ip,
            container,
            container_port,
            target_group,
            min_healthy_percent,
            max_percent,
            circuit_breaker_rollback,
            enable_execute_command,
            health_check_grace_period_seconds,
            deployment_alarms,
            tags,
        } = self;
        let mut v = vec![
            f(F::DesiredCount, desired_count),
            f(F::Subnets, subnets.join(",")),
            f(F::SecurityGroups, security_groups.join(",")),
            f(F::AssignPublicIp, assign_public_ip),
            f(
                F::LoadBalancer,
                format!("{target_group} -> {container}:{container_port}"),
            ),
            f(F::MinHealthyPercent, min_healthy_percent),
            f(F::MaxPercent, max_percent),
            f(F::CircuitBreakerRollback, circuit_breaker_rollback),
            f(F::EnableExecuteCommand, enable_execute_command),
            f(F::HealthCheckGracePeriod, health_check_grace_period_seconds),
            f(F::DeploymentAlarms, deployment_alarms.join(",")),
        ];
        v.extend(tag_fields(tags, F::Tag));
        v
    }
}

field_enum! {
    /// What an ECS service can differ in.
    ServiceField {
        /// The task definition revision it runs.
        TaskDefinition => "task_definition",
        /// Tasks.
        DesiredCount => "desired_count",
        /// Subnets.
        Subnets => "subnets",
        /// Security groups.
        SecurityGroups => "security_groups",
        /// Public IP.
        AssignPublicIp => "assign_public_ip",
        /// Target group binding.
        LoadBalancer => "load_balancer",
        /// Deployment min healthy percent.
        MinHealthyPercent => "min_healthy_percent",
        /// Deployment max percent.
        MaxPercent => "max_percent",
        /// Circuit breaker with rollback.
        CircuitBreakerRollback => "circuit_breaker_rollback",
        /// ECS Exec.
        EnableExecuteCommand => "enable_execute_command",
        /// Health check grace period.
        HealthCheckGracePeriod => "health_check_grace_period_seconds",
        /// Alarms that roll a deployment back.
        DeploymentAlarms => "deployment_alarms",
    }
    tag Tag
}

/// An existing ECS service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedService {
    /// ARN.
    pub arn: String,
    /// ACTIVE / DRAINING / INACTIVE.
    pub status: String,
    /// The service's task definition ARN.
    pub task_definition: String,
    /// FARGATE / EC2 / none (capacity providers).
    pub launch_type: String,
    /// Its settings (the load balancer's target group by name when it is the stack's).
    pub spec: ServiceSpec,
    /// All its tags.
    pub tags: Vec<(String, String)>,
}

/// The parts of one `UpdateService` call, and whether to tag the service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceUpdate {
    /// Set the task definition.
    pub task_definition: bool,
    /// Set the desired count to this (with autoscaling: only when outside min..max).
    pub desired_count: Option<i32>,
    /// Set the network configuration (subnets, security groups, public IP).
    pub network: bool,
    /// Set the load balancer binding.
    pub load_balancer: bool,
    /// Set the deployment configuration (percentages, circuit breaker, alarms).
    pub deployment: bool,
    /// The deployment alarms changed: the configuration sent names them, or switches them off.
    pub alarms: bool,
    /// Set ECS Exec.
    pub execute_command: bool,
    /// Set the health check grace period.
    pub grace_period: bool,
    /// `TagResource`.
    pub tags: bool,
}

impl From<Vec<Diff<ServiceField>>> for ServiceUpdate {
    fn from(diffs: Vec<Diff<ServiceField>>) -> Self {
        use ServiceField as F;
        let mut u = Self::default();
        for d in diffs {
            match d.field {
                F::TaskDefinition => u.task_definition = true,
                F::DesiredCount => u.desired_count = d.to.as_ref().and_then(Value::int),
                F::Subnets | F::SecurityGroups | F::AssignPublicIp => u.network = true,
                F::LoadBalancer => u.load_balancer = true,
                F::MinHealthyPercent | F::MaxPercent | F::CircuitBreakerRollback => {
                    u.deployment = true
                }
                F::DeploymentAlarms => {
                    u.deployment = true;
                    u.alarms = true;
                }
                F::EnableExecuteCommand => u.execute_command = true,
                F::HealthCheckGracePeriod => u.grace_period = true,
                F::Tag(_) => u.tags = true,
            }
        }
        u
    }
}

impl ServiceUpdate {
    /// True when an `UpdateService` call is needed (a new deployment to wait for).
    pub fn deploys(&self) -> bool {
        let Self {
            task_definition,
            desired_count,
            network,
            load_balancer,
            deployment,
            alarms: _, // part of `deployment`
            execute_command,
            grace_period,
            tags: _, // a separate TagResource call
        } = self;
        *task_definition
            || desired_count.is_some()
            || *network
            || *load_balancer
            || *deployment
            || *execute_command
            || *grace_period
    }
}

/// True for an ECS service ARN in the short format (`service/NAME`, from before the long
/// `service/CLUSTER/NAME` format).
pub fn is_short_service_arn(arn: &str) -> bool {
    arn.split_once(":service/")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains('/'))
}

/// A service with a short ARN cannot be tagged ("If you try to tag a service with a short ARN,
/// you receive an InvalidParameterException",
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TagResource.html>), and
/// mcpctl marks what it manages with tags: when the plan would tag it, stop before any call.
fn short_arn_problem(
    name: &str,
    arn: &str,
    want: &[(String, String)],
    have: &[(String, String)],
) -> Option<String> {
    if !is_short_service_arn(arn) || want.iter().all(|t| have.contains(t)) {
        return None;
    }
    Some(format!(
        "ECS service `{name}` has a short ARN ({arn}), from before ECS's long ARN format, and ECS refuses to tag such a service (TagResource: InvalidParameterException), while mcpctl marks what it manages with tags; opt the account in with `aws ecs put-account-setting --name serviceLongArnFormat --value enabled` and recreate the service, or deploy the stack beside it under another `names.service`; nothing was tagged"
    ))
}
