//! Desired state: what each resource should look like, computed from the stack and the shared
//! resources (the ALB's VPC, subnets and security groups). Pure.
//!
//! Every spec lists its comparable fields as `(name, value)` text pairs ([`Fields`]); the plan
//! compares those, so a difference is shown exactly as the user would read it.

use serde::Serialize;

use crate::stack::Stack;

use super::observed::Shared;

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

/// The lifecycle policy that keeps the last `n` images.
pub fn lifecycle_policy(n: i32) -> String {
    let policy = serde_json::json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("keep the last {n} images"),
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": n},
            "action": {"type": "expire"}
        }]
    });
    canonical_json(&policy.to_string())
}

/// JSON text with object keys sorted and no spaces, so that documents compare by content
/// (AWS returns policies reformatted). Text that is not JSON is returned as it is.
pub fn canonical_json(text: &str) -> String {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let sorted: std::collections::BTreeMap<String, serde_json::Value> =
                    m.into_iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::Value::Object(sorted.into_iter().collect())
            }
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => sort(v).to_string(),
        Err(_) => text.to_string(),
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

/// The trust policy that lets ECS tasks assume the role.
pub fn task_trust_policy() -> String {
    canonical_json(
        &serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        })
        .to_string(),
    )
}

/// The least-privilege policy for the read-only server: `es:ESHttpGet`, `es:ESHttpHead` and
/// `es:ESHttpPost` (search, count, msearch and explain are POSTs) on the domain and its
/// paths — no PUT or DELETE, the server never writes; `aoss:APIAccessAll` on a Serverless
/// collection (its data access policy does the fine-grained part).
pub fn opensearch_policy(domain: Option<&str>, collection: Option<&str>) -> String {
    let mut statements = Vec::new();
    if let Some(d) = domain {
        statements.push(serde_json::json!({
            "Effect": "Allow",
            "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"],
            "Resource": [d, format!("{d}/*")]
        }));
    }
    if let Some(c) = collection {
        statements.push(serde_json::json!({
            "Effect": "Allow",
            "Action": ["aoss:APIAccessAll"],
            "Resource": [c]
        }));
    }
    canonical_json(
        &serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
    )
}

/// A policy document as its statements, normalised (no `Sid`, single values as lists, lists
/// sorted), one per `; ` — so that documents AWS reformatted compare equal and a difference
/// reads as the statements that differ.
pub fn policy_statements(doc: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(doc) else {
        return doc.to_string();
    };
    let statements = match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Null => Vec::new(),
        one => vec![one.clone()],
    };
    let mut out: Vec<String> = statements
        .into_iter()
        .map(|mut st| {
            if let Some(m) = st.as_object_mut() {
                m.remove("Sid");
                for key in ["Action", "NotAction", "Resource", "NotResource"] {
                    if let Some(val) = m.get_mut(key) {
                        normalise_list(val);
                    }
                }
                if let Some(serde_json::Value::Object(p)) = m.get_mut("Principal") {
                    for val in p.values_mut() {
                        normalise_list(val);
                    }
                }
            }
            canonical_json(&st.to_string())
        })
        .collect();
    out.sort();
    format!(
        "version {}: {}",
        v["Version"].as_str().unwrap_or("(none)"),
        out.join("; ")
    )
}

fn normalise_list(val: &mut serde_json::Value) {
    let mut items: Vec<serde_json::Value> = match val.take() {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    items.sort_by_key(|i| i.to_string());
    *val = serde_json::Value::Array(items);
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

impl Desired {
    /// Desired state of `stack`, deploying `image` (`None`: to be built by `up`). The tasks'
    /// network defaults to the ALB's subnets and security groups.
    pub fn new(stack: &Stack, shared: &Shared, image: Option<String>) -> Desired {
        let tags = stack.resource_tags();
        let mut subnets = if stack.network.subnets.is_empty() {
            shared.alb.subnets.clone()
        } else {
            stack.network.subnets.clone()
        };
        subnets.sort();
        let mut security_groups = if stack.network.security_groups.is_empty() {
            shared.alb.security_groups.clone()
        } else {
            stack.network.security_groups.clone()
        };
        security_groups.sort();
        let mut env: Vec<(String, String)> = stack
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        env.sort();
        let mut secrets: Vec<(String, String)> = stack
            .secrets
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        secrets.sort();
        Desired {
            stack: stack.name.clone(),
            repository: RepositorySpec {
                name: stack.names.ecr_repository.clone(),
                scan_on_push: stack.ecr.scan_on_push,
                lifecycle_policy: lifecycle_policy(stack.ecr.keep_images),
                tags: tags.clone(),
            },
            log_group: LogGroupSpec {
                name: stack.names.log_group.clone(),
                retention_days: stack.log_retention_days,
                tags: tags.clone(),
            },
            task_role: stack.roles.managed_task_role.as_ref().map(|r| {
                let mut tags: Vec<(String, String)> = stack
                    .tags
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                tags.push((MANAGED_ROLE_TAG.to_string(), "true".to_string()));
                TaskRoleSpec {
                    name: r.name.clone(),
                    trust_policy: task_trust_policy(),
                    policy: opensearch_policy(
                        r.opensearch_domain_arn.as_deref(),
                        r.opensearch_collection_arn.as_deref(),
                    ),
                    tags,
                }
            }),
            task_definition: TaskDefinitionSpec {
                family: stack.names.task_family.clone(),
                cpu: stack.cpu.to_string(),
                memory: stack.memory.to_string(),
                execution_role_arn: stack.roles.execution_role_arn.clone(),
                task_role_arn: stack.roles.task_role_arn.clone(),
                container: stack.names.container.clone(),
                image,
                port: i32::from(stack.container_port),
                env,
                secrets,
                log_group: stack.names.log_group.clone(),
                log_region: stack.region.clone(),
                log_stream_prefix: "ecs".to_string(),
                health_check: ContainerHealthCheck {
                    command: HEALTH_COMMAND.iter().map(|s| s.to_string()).collect(),
                    interval: 30,
                    timeout: 5,
                    retries: 3,
                    start_period: 10,
                },
            },
            target_group: TargetGroupSpec {
                name: stack.names.target_group.clone(),
                port: i32::from(stack.container_port),
                vpc_id: shared.alb.vpc_id.clone(),
                health_check_path: stack.health_check.path.clone(),
                interval: stack.health_check.interval_seconds,
                timeout: stack.health_check.timeout_seconds,
                healthy_threshold: stack.health_check.healthy_threshold,
                unhealthy_threshold: stack.health_check.unhealthy_threshold,
                matcher: stack.health_check.matcher.clone(),
                deregistration_delay: stack.health_check.deregistration_delay_seconds,
                tags: tags.clone(),
            },
            rule: ListenerRuleSpec {
                listener_port: i32::from(stack.load_balancer.listener_port),
                path_patterns: stack.routing.path_patterns.clone(),
                preferred_priority: stack.routing.priority,
                target_group: stack.names.target_group.clone(),
                tags: tags.clone(),
            },
            service: ServiceSpec {
                name: stack.names.service.clone(),
                cluster: stack.cluster.clone(),
                desired_count: stack.service.desired_count,
                subnets,
                security_groups,
                assign_public_ip: stack.network.assign_public_ip,
                container: stack.names.container.clone(),
                container_port: i32::from(stack.container_port),
                target_group: stack.names.target_group.clone(),
                min_healthy_percent: stack.service.min_healthy_percent,
                max_percent: stack.service.max_percent,
                circuit_breaker_rollback: stack.service.circuit_breaker_rollback,
                enable_execute_command: stack.service.enable_execute_command,
                health_check_grace_period_seconds: stack.service.health_check_grace_period_seconds,
                tags,
            },
        }
    }
}
