//! The resolved stack: every value interpolated, validated and defaulted. This is what the rest
//! of mcpctl reads; it never sees `${VAR}` or `extends:`.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One deployable stack (e.g. `stateful` or `stateless`), fully resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    /// The stack's name (`stateless`); also the value of the `mcpctl:stack` tag.
    pub name: String,
    /// The file it was loaded from.
    pub source: PathBuf,
    /// AWS region (default `us-east-1`).
    pub region: String,
    /// ECS cluster name (shared, never created by mcpctl).
    pub cluster: String,
    /// The shared ALB and its listener.
    pub load_balancer: LoadBalancer,
    /// Where the tasks run.
    pub network: Network,
    /// IAM roles the task definition references.
    pub roles: Roles,
    /// Names of the stack's own resources.
    pub names: ResourceNames,
    /// The image to deploy; `None` means `up` builds and pushes `server/`.
    pub image: Option<String>,
    /// Port the container listens on (`MCP_PORT`), also the target group's port.
    pub container_port: u16,
    /// Fargate task CPU units (256, 512, 1024, ...).
    pub cpu: u32,
    /// Fargate task memory in MiB, a valid pair with `cpu`.
    pub memory: u32,
    /// CPU architecture of the image and the task (`container.architecture`, default x86_64).
    #[serde(default)]
    pub architecture: Architecture,
    /// The container health check (`container.health_check`); `None`: the server's own
    /// `--check-health` when `up` deploys this repository's server, none for an `image:`.
    #[serde(default)]
    pub container_health_check: Option<ContainerHealthCheckSettings>,
    /// Env names the stack sets to `~`: the container does not get them (not even the
    /// `MCP_PORT` / `MCP_ALLOWED_HOSTS` mcpctl otherwise fills in).
    #[serde(default)]
    pub env_unset: Vec<String>,
    /// ECS service settings.
    pub service: ServiceSettings,
    /// The listener rule.
    pub routing: Routing,
    /// The target group's health check.
    pub health_check: HealthCheck,
    /// CloudWatch Logs retention in days (`None`: never expire).
    pub log_retention_days: Option<i32>,
    /// ECR repository settings.
    pub ecr: EcrSettings,
    /// Container environment, in file order (shared layer first), e.g. `MCP_PATH`,
    /// `MCP_STATELESS`, `MCP_PATH_ALIASES`, `MCP_ALLOWED_HOSTS`, `OPENSEARCH_HOST`.
    pub env: IndexMap<String, String>,
    /// Container secrets: env name -> Secrets Manager or SSM Parameter Store ARN (`valueFrom`).
    pub secrets: IndexMap<String, String>,
    /// Extra tags put on every resource (besides `mcpctl:stack`).
    pub tags: IndexMap<String, String>,
    /// OAuth 2.1 bearer tokens for the MCP endpoint (`auth:`), if any.
    #[serde(default)]
    pub auth: Option<super::Auth>,
}

/// The shared ALB, by name or ARN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancer {
    /// How to find it.
    pub reference: LoadBalancerRef,
    /// The listener's port (default 80 for HTTP, 443 for HTTPS); created with a 404 fixed
    /// response if missing.
    pub listener_port: u16,
    /// The listener's protocol (default HTTP).
    #[serde(default)]
    pub listener_protocol: super::ListenerProtocol,
    /// The ACM certificate of an HTTPS listener mcpctl creates.
    #[serde(default)]
    pub certificate_arn: Option<String>,
    /// The names clients use (empty: the certificate's names, read from ACM).
    #[serde(default)]
    pub domain_names: Vec<String>,
}

/// How the ALB is named in the stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancerRef {
    /// `load_balancer.name`
    Name(String),
    /// `load_balancer.arn`
    Arn(String),
}

impl std::fmt::Display for LoadBalancerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadBalancerRef::Name(n) => write!(f, "{n}"),
            LoadBalancerRef::Arn(a) => write!(f, "{a}"),
        }
    }
}

/// Subnets and security groups of the tasks. Empty lists mean "the ALB's own subnets and
/// security groups" (read with `DescribeLoadBalancers`; see the README).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Subnet IDs (`subnet-...`).
    pub subnets: Vec<String>,
    /// Security group IDs (`sg-...`).
    pub security_groups: Vec<String>,
    /// Give tasks a public IP (needed in public subnets without a NAT to pull images).
    pub assign_public_ip: bool,
}

/// IAM roles referenced by the task definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roles {
    /// The shared task execution role (pulls the image, writes logs).
    pub execution_role_arn: String,
    /// The role the server runs as (OpenSearch access), if any: given by ARN (then never
    /// modified), or the ARN of the managed role below.
    pub task_role_arn: Option<String>,
    /// The task role mcpctl manages (`roles.task_role:`), if the stack asks for one.
    pub managed_task_role: Option<ManagedTaskRole>,
}

/// A task role that `up` creates (trusted by `ecs-tasks.amazonaws.com`) and whose inline
/// `OpenSearchAccess` policy it keeps exactly least-privilege for the read-only server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedTaskRole {
    /// Role name (`ecsTaskRole`).
    pub name: String,
    /// OpenSearch Service domain ARN: grants `es:ESHttpGet`, `es:ESHttpHead`, `es:ESHttpPost`
    /// on the domain and `domain/*`.
    pub opensearch_domain_arn: Option<String>,
    /// OpenSearch Serverless collection ARN: grants `aoss:APIAccessAll` on it.
    pub opensearch_collection_arn: Option<String>,
    /// The domain uses fine-grained access control: `up` prints the role-mapping step.
    pub fine_grained_access_control: bool,
}

/// The names of a stack's own resources. Deterministic: `up` finds them again by these names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceNames {
    /// ECR repository.
    pub ecr_repository: String,
    /// ECS service.
    pub service: String,
    /// Task definition family.
    pub task_family: String,
    /// Container name inside the task definition (the load balancer binding uses it).
    pub container: String,
    /// Target group (at most 32 characters).
    pub target_group: String,
    /// CloudWatch log group.
    pub log_group: String,
}

/// ECS service settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSettings {
    /// Number of tasks.
    pub desired_count: i32,
    /// Deployment minimum healthy percent.
    pub min_healthy_percent: i32,
    /// Deployment maximum percent.
    pub max_percent: i32,
    /// Deployment circuit breaker with rollback.
    pub circuit_breaker_rollback: bool,
    /// ECS Exec.
    pub enable_execute_command: bool,
    /// Seconds ECS ignores failing ALB health checks after a task starts.
    pub health_check_grace_period_seconds: i32,
    /// Application Auto Scaling of the desired count (`service.autoscaling`), if any.
    #[serde(default)]
    pub autoscaling: Option<Autoscaling>,
    /// Roll a deployment back when the target group's 5XX alarm fires (`service.alarm_rollback`).
    #[serde(default)]
    pub alarm_rollback: bool,
}

/// `service.autoscaling`: the range the autoscaler keeps the desired count in and the
/// target-tracking policies that move it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Autoscaling {
    /// Fewest tasks.
    pub min: i32,
    /// Most tasks.
    pub max: i32,
    /// `ALBRequestCountPerTarget` target (requests per task per minute), if tracked.
    pub requests_per_target: Option<i32>,
    /// `ECSServiceAverageCPUUtilization` target (percent), if tracked.
    pub cpu_percent: Option<i32>,
    /// Seconds after a scale-in before another.
    pub scale_in_cooldown: i32,
    /// Seconds after a scale-out before another.
    pub scale_out_cooldown: i32,
}

/// The CPU architecture a task runs on (`container.architecture`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// `x86_64` (Fargate's default).
    #[default]
    X86_64,
    /// `arm64` (Graviton).
    Arm64,
}

impl Architecture {
    /// The spelling in a stack file.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// `docker build --platform` value.
    pub fn docker_platform(self) -> &'static str {
        match self {
            Architecture::X86_64 => "linux/amd64",
            Architecture::Arm64 => "linux/arm64",
        }
    }

    /// ECS `runtimePlatform.cpuArchitecture`.
    pub fn ecs_cpu_architecture(self) -> &'static str {
        match self {
            Architecture::X86_64 => "X86_64",
            Architecture::Arm64 => "ARM64",
        }
    }

    /// The OCI image index `platform.architecture`.
    pub fn oci_architecture(self) -> &'static str {
        match self {
            Architecture::X86_64 => "amd64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// The container health check ECS runs inside the task (`container.health_check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerHealthCheckSettings {
    /// `["CMD-SHELL", "curl -f http://localhost:9898/ossserver/health || exit 1"]`.
    pub command: Vec<String>,
    /// Seconds between checks (5-300, default 30).
    pub interval_seconds: i32,
    /// Seconds before a check fails (2-120, default 5).
    pub timeout_seconds: i32,
    /// Failures before unhealthy (1-10, default 3).
    pub retries: i32,
    /// Grace seconds after start (0-300, default 0).
    pub start_period_seconds: i32,
}

/// The listener rule: which paths go to this stack's target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    /// Path patterns (`/ossserver-stateless/*`), at most 5.
    pub path_patterns: Vec<String>,
    /// Preferred rule priority (1-50000); taken if free, else the next free one.
    /// `None`: the next free priority after the highest in use.
    pub priority: Option<i32>,
}

/// The target group's health check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// HTTP path (`/ossserver-stateless/health`).
    pub path: String,
    /// Seconds between checks (5-300).
    pub interval_seconds: i32,
    /// Seconds before a check fails (2-120, less than the interval).
    pub timeout_seconds: i32,
    /// Successes before healthy (2-10).
    pub healthy_threshold: i32,
    /// Failures before unhealthy (2-10).
    pub unhealthy_threshold: i32,
    /// HTTP codes that count as healthy (`200`, `200-299`).
    pub matcher: String,
    /// Seconds to drain a deregistered target (0-3600).
    pub deregistration_delay_seconds: i32,
}

/// ECR repository settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EcrSettings {
    /// Scan images on push.
    pub scan_on_push: bool,
    /// Lifecycle policy: keep the last N images (0: no lifecycle policy, images are kept).
    pub keep_images: i32,
}

/// The env variable that holds the server's MCP path (`/ossserver/ossmcp`).
pub const MCP_PATH_ENV: &str = "MCP_PATH";

/// The tag key that marks a resource as belonging to a stack.
pub const STACK_TAG: &str = "mcpctl:stack";

/// True when `tags` marks the resource as belonging to `stack`.
pub fn tagged_for(tags: &[(String, String)], stack: &str) -> bool {
    tags.iter().any(|(k, v)| k == STACK_TAG && v == stack)
}

/// The stack named by the [`STACK_TAG`] tag, if any.
pub fn stack_tag(tags: &[(String, String)]) -> Option<&str> {
    tags.iter()
        .find(|(k, _)| k == STACK_TAG)
        .map(|(_, v)| v.as_str())
}

impl Stack {
    /// The MCP path (the [`MCP_PATH_ENV`] variable of the stack's env), if set.
    pub fn mcp_path(&self) -> Option<&str> {
        self.env.get(MCP_PATH_ENV).map(String::as_str)
    }

    /// The path patterns of the stack's own listener rule: `routing.path_patterns`, and with
    /// `auth:` the RFC 9728 metadata path of each (the stack's tasks serve them). `up` writes
    /// the rule with them, so `cutover`, `rollback` and `cleanup` find the rule by them.
    pub fn rule_path_patterns(&self) -> Vec<String> {
        let mut p = self.routing.path_patterns.clone();
        if self.auth.is_some() {
            p.extend(super::metadata_patterns(&self.routing.path_patterns));
        }
        p
    }

    /// Every tag a resource of this stack carries: `mcpctl:stack = name`, then the stack's tags.
    pub fn resource_tags(&self) -> Vec<(String, String)> {
        let mut t = vec![(STACK_TAG.to_string(), self.name.clone())];
        t.extend(
            self.tags
                .iter()
                .filter(|(k, _)| k.as_str() != STACK_TAG)
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        t
    }
}
