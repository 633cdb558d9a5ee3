//! Desired state: what each resource should look like, computed from the stack and the shared
//! resources (the ALB's VPC, subnets and security groups). Pure.
//!
//! Every spec lists its comparable fields as `(name, value)` text pairs ([`Fields`]); the plan
//! compares those, so a difference is shown exactly as the user would read it.

use serde::Serialize;

pub use super::documents::{
    canonical_json, lifecycle_policy, opensearch_policy, policy_statements, task_trust_policy,
};

/// Named, comparable field values of a resource (normalised: sorted where AWS reorders).
pub type Fields = Vec<(String, String)>;

fn f(name: &str, value: impl ToString) -> (String, String) {
    (name.to_string(), value.to_string())
}

fn tag_fields(tags: &[(String, String)]) -> Fields {
    tags.iter()
        .map(|(k, v)| (format!("tag {k}"), v.clone()))
        .collect()
}

/// The ECR repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepositorySpec {
    /// Repository name.
    pub name: String,
    /// Scan on push.
    pub scan_on_push: bool,
    /// The lifecycle policy document (keep the last N images).
    pub lifecycle_policy: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl RepositorySpec {
    /// Comparable fields.
    pub fn fields(&self) -> Fields {
        let mut v = vec![
            f("scan_on_push", self.scan_on_push),
            f("lifecycle_policy", &self.lifecycle_policy),
        ];
        v.extend(tag_fields(&self.tags));
        v
    }
}

/// Name of the inline policy on a managed task role.
pub const TASK_ROLE_POLICY: &str = "OpenSearchAccess";
/// Tag that marks a task role as managed by mcpctl (shared by stacks, so not `mcpctl:stack`).
pub const MANAGED_ROLE_TAG: &str = "mcpctl:managed";

/// A managed task role: trust policy for ECS tasks, one inline least-privilege policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRoleSpec {
    /// Role name.
    pub name: String,
    /// Trust policy (canonical JSON).
    pub trust_policy: String,
    /// The inline `OpenSearchAccess` policy (canonical JSON).
    pub policy: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl TaskRoleSpec {
    /// Comparable fields: policies as normalised statements.
    pub fn fields(&self) -> Fields {
        let mut v = vec![
            f("trust_policy", policy_statements(&self.trust_policy)),
            f(
                &format!("policy {TASK_ROLE_POLICY}"),
                policy_statements(&self.policy),
            ),
        ];
        v.extend(tag_fields(&self.tags));
        v
    }
}

/// The CloudWatch log group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogGroupSpec {
    /// Log group name.
    pub name: String,
    /// Retention in days (`None`: never expire).
    pub retention_days: Option<i32>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl LogGroupSpec {
    /// Comparable fields.
    pub fn fields(&self) -> Fields {
        let mut v = vec![f(
            "retention_days",
            self.retention_days
                .map_or("never".to_string(), |d| d.to_string()),
        )];
        v.extend(tag_fields(&self.tags));
        v
    }
}

/// The container health check (runs the server's own `--check-health`, no curl needed).
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
    /// Container health check.
    pub health_check: ContainerHealthCheck,
}

impl TaskDefinitionSpec {
    /// Comparable fields (`image` is left out while it is not known yet).
    pub fn fields(&self) -> Fields {
        let mut v = vec![
            f("cpu", &self.cpu),
            f("memory", &self.memory),
            f("execution_role_arn", &self.execution_role_arn),
            f(
                "task_role_arn",
                self.task_role_arn.as_deref().unwrap_or("(none)"),
            ),
            f("container", &self.container),
            f("port", self.port),
            f("log_group", &self.log_group),
            f("log_region", &self.log_region),
            f("log_stream_prefix", &self.log_stream_prefix),
            f(
                "health_check",
                format!(
                    "{} every {}s, timeout {}s, retries {}, start period {}s",
                    self.health_check.command.join(" "),
                    self.health_check.interval,
                    self.health_check.timeout,
                    self.health_check.retries,
                    self.health_check.start_period
                ),
            ),
        ];
        if let Some(i) = &self.image {
            v.push(f("image", i));
        }
        v.extend(
            self.env
                .iter()
                .map(|(k, val)| (format!("env {k}"), val.clone())),
        );
        v.extend(
            self.secrets
                .iter()
                .map(|(k, val)| (format!("secret {k}"), val.clone())),
        );
        v
    }
}

/// The target group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetGroupSpec {
    /// Name.
    pub name: String,
    /// Port (the container port).
    pub port: i32,
    /// The ALB's VPC.
    pub vpc_id: String,
    /// Health check path.
    pub health_check_path: String,
    /// Seconds between checks.
    pub interval: i32,
    /// Seconds before a check fails.
    pub timeout: i32,
    /// Successes before healthy.
    pub healthy_threshold: i32,
    /// Failures before unhealthy.
    pub unhealthy_threshold: i32,
    /// Healthy HTTP codes.
    pub matcher: String,
    /// Draining seconds.
    pub deregistration_delay: i32,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl TargetGroupSpec {
    /// Fields AWS cannot change on an existing target group.
    pub fn fixed_fields(&self) -> Fields {
        vec![
            f("port", self.port),
            f("protocol", "HTTP"),
            f("target_type", "ip"),
            f("vpc_id", &self.vpc_id),
        ]
    }

    /// Comparable fields that can be changed in place.
    pub fn fields(&self) -> Fields {
        let mut v = vec![
            f("health_check_path", &self.health_check_path),
            f("health_check_interval", self.interval),
            f("health_check_timeout", self.timeout),
            f("healthy_threshold", self.healthy_threshold),
            f("unhealthy_threshold", self.unhealthy_threshold),
            f("matcher", &self.matcher),
            f("deregistration_delay", self.deregistration_delay),
        ];
        v.extend(tag_fields(&self.tags));
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
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl ServiceSpec {
    /// Comparable fields (the task definition is compared by the plan separately).
    pub fn fields(&self) -> Fields {
        let mut v = vec![
            f("desired_count", self.desired_count),
            f("subnets", self.subnets.join(",")),
            f("security_groups", self.security_groups.join(",")),
            f("assign_public_ip", self.assign_public_ip),
            f(
                "load_balancer",
                format!(
                    "{} -> {}:{}",
                    self.target_group, self.container, self.container_port
                ),
            ),
            f("min_healthy_percent", self.min_healthy_percent),
            f("max_percent", self.max_percent),
            f("circuit_breaker_rollback", self.circuit_breaker_rollback),
            f("enable_execute_command", self.enable_execute_command),
            f(
                "health_check_grace_period_seconds",
                self.health_check_grace_period_seconds,
            ),
        ];
        v.extend(tag_fields(&self.tags));
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
    /// Listener rule.
    pub rule: ListenerRuleSpec,
    /// ECS service.
    pub service: ServiceSpec,
}

/// The container health check command.
pub const HEALTH_COMMAND: [&str; 3] = ["CMD", "opensearch-mcp-server", "--check-health"];
