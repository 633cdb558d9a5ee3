//! The ECS task definition: what the stack wants ([`TaskDefinitionSpec`]: the container, its
//! environment with the defaults `up` adds, its health check), the latest active revision AWS
//! has ([`ObservedTaskDefinition`]), the fields they can differ in ([`TaskDefinitionField`]; any
//! difference registers a new revision), the comparison (`compare`) and the step
//! ([`TaskDefinitionStep`]). Registering it in AWS is `aws::task_definition`.

use serde::Serialize;

use crate::plan::compare::{change, Walk};
use crate::plan::endpoint::{client_domains, origin, ListenerSpec};
use crate::plan::fields::{diff, f, field_enum, Fields};
use crate::plan::kinds::{Inputs, Resource};
use crate::plan::observed::Shared;
use crate::plan::{Action, Kind};
use crate::stack::Stack;

/// The server's `Host` allow-list variable.
const ALLOWED_HOSTS: &str = "MCP_ALLOWED_HOSTS";
/// The server's CloudWatch EMF namespace; metrics are on when the stack sets it.
const METRICS_NAMESPACE: &str = "MCP_METRICS_NAMESPACE";
/// The `service` dimension of the server's metrics.
const METRICS_SERVICE: &str = "MCP_METRICS_SERVICE";

/// `MCP_ALLOWED_HOSTS` when the stack does not set it: the names clients use (the stack's
/// `domain_names`, else its certificate's), the ALB's DNS name (what clients put in `Host`
/// through the ALB) and the loopback names the container health check uses.
fn default_allowed_hosts(domains: &[String], dns_name: &str) -> String {
    let mut hosts: Vec<&str> = domains.iter().map(String::as_str).collect();
    if !dns_name.is_empty() {
        hosts.push(dns_name);
    }
    hosts.extend(["localhost", "127.0.0.1"]);
    hosts.join(",")
}

/// The container health check: the stack's `container.health_check`; else, for this
/// repository's server (built by `up`, or `--image` with a build of it), its own
/// `--check-health`; an `image:` of another server gets none (it may not have that command).
fn container_health_check(stack: &Stack) -> Option<ContainerHealthCheck> {
    if let Some(h) = &stack.container_health_check {
        return Some(ContainerHealthCheck {
            command: h.command.clone(),
            interval: h.interval_seconds,
            timeout: h.timeout_seconds,
            retries: h.retries,
            start_period: h.start_period_seconds,
        });
    }
    stack.image.is_none().then(|| ContainerHealthCheck {
        command: HEALTH_COMMAND.iter().map(|s| s.to_string()).collect(),
        interval: 30,
        timeout: 5,
        retries: 3,
        start_period: 10,
    })
}

/// The container's environment, sorted: the stack's, plus `MCP_ALLOWED_HOSTS` (unless set or
/// unset), the metrics' service name and the auth settings' variables.
fn container_env(stack: &Stack, shared: &Shared, listener: &ListenerSpec) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = stack
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let domains = client_domains(stack, shared.certificate.as_ref());
    if !stack.env.contains_key(ALLOWED_HOSTS) && !stack.env_unset.iter().any(|k| k == ALLOWED_HOSTS)
    {
        env.push((
            ALLOWED_HOSTS.to_string(),
            default_allowed_hosts(&domains, &shared.alb.dns_name),
        ));
    }
    // The server's EMF metrics are counted per ECS service unless the stack names another.
    if stack.env.contains_key(METRICS_NAMESPACE) && !stack.env.contains_key(METRICS_SERVICE) {
        env.push((METRICS_SERVICE.to_string(), stack.names.service.clone()));
    }
    if let Some(auth) = &stack.auth {
        let resource_url = auth.resource_url.clone().unwrap_or_else(|| {
            format!(
                "{}{}",
                origin(listener, &domains, &shared.alb.dns_name),
                stack.mcp_path().unwrap_or_default()
            )
        });
        env.extend(auth.env(&resource_url));
    }
    env.sort();
    env
}

/// The ECS task definition.
pub struct TaskDefinition;

impl Resource for TaskDefinition {
    type Spec = TaskDefinitionSpec;
    type Observed = Option<ObservedTaskDefinition>;
    type Step = TaskDefinitionStep;

    fn desired(from: &Inputs<'_>) -> TaskDefinitionSpec {
        let listener = ListenerSpec::of(from.stack);
        let image = from.image.map(str::to_string);
        desired(from.stack, from.shared, &listener, image)
    }

    fn compare(w: &mut Walk<'_>) -> TaskDefinitionStep {
        let (step, new_revision) = compare(w);
        w.new_task_definition = new_revision;
        step
    }

    /// Once every kind is compared: a warning for each plain `env` name that looks like a
    /// credential.
    fn settle(w: &mut Walk<'_>, _steps: &mut crate::plan::Steps) {
        credential_warnings(w);
    }

    fn only_tags(step: &TaskDefinitionStep) -> bool {
        matches!(step, TaskDefinitionStep::Keep { .. })
    }
}

/// The task definition the stack wants, running `image` (`None`: built by `up`).
pub(in crate::plan) fn desired(
    stack: &Stack,
    shared: &Shared,
    listener: &ListenerSpec,
    image: Option<String>,
) -> TaskDefinitionSpec {
    let mut secrets: Vec<(String, String)> = stack
        .secrets
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    secrets.sort();
    TaskDefinitionSpec {
        family: stack.names.task_family.clone(),
        cpu: stack.cpu.to_string(),
        memory: stack.memory.to_string(),
        execution_role_arn: stack.roles.execution_role_arn.clone(),
        task_role_arn: stack.roles.task_role_arn.clone(),
        container: stack.names.container.clone(),
        image,
        port: i32::from(stack.container_port),
        env: container_env(stack, shared, listener),
        secrets,
        log_group: stack.names.log_group.clone(),
        log_region: stack.region.clone(),
        log_stream_prefix: "ecs".to_string(),
        health_check: container_health_check(stack),
        cpu_architecture: stack.architecture.ecs_cpu_architecture().to_string(),
    }
}

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

/// The container health check command.
pub const HEALTH_COMMAND: [&str; 3] = ["CMD", "opensearch-mcp-server", "--check-health"];

field_enum! {
    /// What a task definition can differ in (any difference registers a new revision).
    TaskDefinitionField {
        /// CPU units.
        Cpu => "cpu",
        /// Memory MiB.
        Memory => "memory",
        /// Execution role.
        ExecutionRoleArn => "execution_role_arn",
        /// Task role.
        TaskRoleArn => "task_role_arn",
        /// Container name.
        Container => "container",
        /// Container port.
        Port => "port",
        /// awslogs group.
        LogGroup => "log_group",
        /// awslogs region.
        LogRegion => "log_region",
        /// awslogs stream prefix.
        LogStreamPrefix => "log_stream_prefix",
        /// Container health check.
        HealthCheck => "health_check",
        /// `runtimePlatform.cpuArchitecture`.
        CpuArchitecture => "cpu_architecture",
        /// Image URI.
        Image => "image",
    }
    keyed {
        /// One environment variable.
        Env => "env",
        /// One secret.
        Secret => "secret",
    }
    tag Tag
}

/// The latest active revision of the task definition family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedTaskDefinition {
    /// ARN (with revision).
    pub arn: String,
    /// Revision number.
    pub revision: i32,
    /// Its settings, normalised.
    pub spec: TaskDefinitionSpec,
}

/// The task definition.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskDefinitionStep {
    /// Register a new revision (`first`: the family does not exist yet).
    Register {
        /// True when this is the family's first revision.
        first: bool,
    },
    /// Use the revision `arn`.
    Keep {
        /// Its ARN.
        arn: String,
    },
}

/// Compare the task definition; the step `apply` takes, and whether a new revision is
/// registered.
pub(in crate::plan) fn compare(w: &mut Walk<'_>) -> (TaskDefinitionStep, bool) {
    let t = &w.desired.task_definition;
    let o = w.observed.task_definition.as_ref();
    let td_fields = o.map(|o| {
        let mut have = o.spec.fields();
        if t.image.is_none() {
            have.retain(|(k, _)| *k != TaskDefinitionField::Image);
        }
        diff(&t.fields(), &have)
    });
    let td_name = match o {
        Some(o) => format!("{}:{}", t.family, o.revision),
        None => t.family.clone(),
    };
    let mut td = change(
        Kind::TaskDefinition,
        &td_name,
        o.is_some(),
        &td_fields.unwrap_or_default(),
        false,
    );
    if t.image.is_none() {
        td.note = Some(
            "image: built from server/ and pushed by `up`; a new digest registers a new revision"
                .into(),
        );
    }
    if td.action != Action::Unchanged {
        // The number is AWS's to give: deregistered and inactive revisions count too, so the
        // latest active one plus one is only a guess.
        let note = match o {
            Some(o) => format!(
                "registers a new revision of {} (the latest active is :{})",
                t.family, o.revision
            ),
            None => format!("registers a new revision of {}", t.family),
        };
        td.note = Some(match td.note.take() {
            Some(n) => format!("{note}; {n}"),
            None => note,
        });
    }
    let td_changes = td.action != Action::Unchanged;
    let step = match o {
        Some(o) if !td_changes => TaskDefinitionStep::Keep { arn: o.arn.clone() },
        _ => TaskDefinitionStep::Register { first: o.is_none() },
    };
    w.changes.push(td);
    (step, td_changes)
}

/// Words in an env name that suggest a credential.
const CREDENTIAL_WORDS: [&str; 4] = ["PASSWORD", "SECRET", "TOKEN", "KEY"];

/// A warning for each plain `env` name that looks like a credential.
fn credential_warnings(w: &mut Walk<'_>) {
    for (k, _) in &w.desired.task_definition.env {
        let upper = k.to_ascii_uppercase();
        if CREDENTIAL_WORDS.iter().any(|w| upper.contains(w)) {
            w.warnings.push(format!(
                "env {k} looks like a credential but is given as plain `env` (visible in the task definition); put it under `secrets:` as a Secrets Manager or SSM parameter ARN"
            ));
        }
    }
}
