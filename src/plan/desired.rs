//! Desired state: what each resource should look like, computed from the stack and the shared
//! resources (the ALB's VPC, subnets and security groups). Pure.
//!
//! Every spec lists its comparable fields under typed keys ([`super::fields`]) with values as
//! text, so a difference is shown exactly as the user would read it. Each `fields()` takes the
//! spec apart field by field: a field added to a spec does not compile until it is compared
//! (or explicitly left out, with the reason).

use serde::Serialize;

use super::fields::{f, tag_fields, Fields, ServiceField, TaskDefinitionField};

pub use super::kinds::log_group::LogGroupSpec;
pub use super::kinds::repository::RepositorySpec;
pub use super::kinds::target_group::TargetGroupSpec;
pub use super::kinds::task_role::{TaskRoleSpec, MANAGED_ROLE_TAG, TASK_ROLE_POLICY};

pub use super::documents::{
    canonical_json, lifecycle_policy, opensearch_policy, policy_statements,
};

/// The container health check: the stack's `container.health_check`, or for this
/// repository's server its own `--check-health` (no curl needed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerHealthCheck {
    /// `["CMD", "opensearch-mcp-server", "--check-health"]`
    pub command: Vec<String>,
    /// Seconds between checks.
    pub interval: i32,
    /// Seconds before a check fails.
    pub timeout: i32,
    /// Failures before unhealthy.
    pub retries: i32,
    /// Grace seconds after start.
    pub start_period: i32,
}

/// The task definition (one container), normalised for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskDefinitionSpec {
    /// Family.
    pub family: String,
    /// CPU units (as text, like ECS returns it).
    pub cpu: String,
    /// Memory MiB (as text).
    pub memory: String,
    /// Execution role ARN.
    pub execution_role_arn: String,
    /// Task role ARN.
    pub task_role_arn: Option<String>,
    /// Container name.
    pub container: String,
    /// Image URI (by digest when built); `None` until `up` has built and pushed it.
    pub image: Option<String>,
    /// Container port (hostPort is the same in awsvpc).
    pub port: i32,
    /// Environment, sorted by name.
    pub env: Vec<(String, String)>,
    /// Secrets (name, valueFrom), sorted by name.
    pub secrets: Vec<(String, String)>,
    /// awslogs group.
    pub log_group: String,
    /// awslogs region.
    pub log_region: String,
    /// awslogs stream prefix.
    pub log_stream_prefix: String,
    /// Container health check (`None`: the task definition has none).
    pub health_check: Option<ContainerHealthCheck>,
    /// `runtimePlatform.cpuArchitecture` (`X86_64` / `ARM64`; ECS's default X86_64 when absent).
    pub cpu_architecture: String,
}

impl TaskDefinitionSpec {
    /// Comparable fields (`image` is left out while it is not known yet).
    pub fn fields(&self) -> Fields<TaskDefinitionField> {
        use TaskDefinitionField as F;
        let Self {
            family: _, // the identity
            cpu,
            memory,
            execution_role_arn,
            task_role_arn,
            container,
            image,
            port,
            env,
            secrets,
            log_group,
            log_region,
            log_stream_prefix,
            health_check,
            cpu_architecture,
        } = self;
        let health_text = match health_check {
            None => "(none)".to_string(),
            Some(ContainerHealthCheck {
                command,
                interval,
                timeout,
                retries,
                start_period,
            }) => format!(
                "{} every {interval}s, timeout {timeout}s, retries {retries}, start period {start_period}s",
                command.join(" "),
            ),
        };
        let mut v = vec![
            f(F::Cpu, cpu),
            f(F::Memory, memory),
            f(F::ExecutionRoleArn, execution_role_arn),
            f(F::TaskRoleArn, task_role_arn.as_deref().unwrap_or("(none)")),
            f(F::Container, container),
            f(F::Port, port),
            f(F::LogGroup, log_group),
            f(F::LogRegion, log_region),
            f(F::LogStreamPrefix, log_stream_prefix),
            f(F::HealthCheck, health_text),
            f(F::CpuArchitecture, cpu_architecture),
        ];
        if let Some(i) = image {
            v.push(f(F::Image, i));
        }
        v.extend(env.iter().map(|(k, val)| f(F::Env(k.clone()), val)));
        v.extend(secrets.iter().map(|(k, val)| f(F::Secret(k.clone()), val)));
        v
    }
}

/// The listener rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerRuleSpec {
    /// Listener port.
    pub listener_port: i32,
    /// Path patterns, in stack order.
    pub path_patterns: Vec<String>,
    /// Preferred priority.
    pub preferred_priority: Option<i32>,
    /// The target group it forwards to (by name; the ARN is known at apply time).
    pub target_group: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
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

/// Everything a stack wants to exist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Desired {
    /// The stack's name.
    pub stack: String,
    /// ECR repository.
    pub repository: RepositorySpec,
    /// Log group.
    pub log_group: LogGroupSpec,
    /// The managed task role, if the stack has one.
    pub task_role: Option<TaskRoleSpec>,
    /// Task definition.
    pub task_definition: TaskDefinitionSpec,
    /// Target group.
    pub target_group: TargetGroupSpec,
    /// The listener the rule goes on.
    pub listener: super::endpoint::ListenerSpec,
    /// Listener rule.
    pub rule: ListenerRuleSpec,
    /// ECS service.
    pub service: ServiceSpec,
    /// Autoscaling of the service's desired count, if the stack has it.
    pub scaling: Option<super::scaling::ScalingSpec>,
    /// The deployment rollback alarm, if the stack has it.
    pub alarm: Option<super::scaling::AlarmSpec>,
}

/// The container health check command.
pub const HEALTH_COMMAND: [&str; 3] = ["CMD", "opensearch-mcp-server", "--check-health"];
