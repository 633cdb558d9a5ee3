//! [`Desired::new`]: the desired state of a stack, from the stack file and the shared
//! resources (the tasks' network defaults to the ALB's subnets and security groups).

use super::desired::*;
use super::endpoint::{client_domains, origin, ListenerSpec};
use super::observed::Shared;
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

impl Desired {
    /// Desired state of `stack`, deploying `image` (`None`: to be built by `up`). The tasks'
    /// network defaults to the ALB's subnets and security groups.
    pub fn new(stack: &Stack, shared: &Shared, image: Option<String>) -> Desired {
        let tags = stack.resource_tags();
        let listener = ListenerSpec::of(stack);
        Desired {
            stack: stack.name.clone(),
            repository: super::kinds::repository::desired(stack, tags.clone()),
            log_group: super::kinds::log_group::desired(stack, tags.clone()),
            task_role: super::kinds::task_role::desired(stack),
            task_definition: task_definition(stack, shared, &listener, image),
            target_group: super::kinds::target_group::desired(stack, shared, tags.clone()),
            rule: ListenerRuleSpec {
                listener_port: i32::from(stack.load_balancer.listener_port),
                path_patterns: stack.rule_path_patterns(),
                preferred_priority: stack.routing.priority,
                target_group: stack.names.target_group.clone(),
                tags: tags.clone(),
            },
            listener,
            service: service(stack, shared, tags),
            scaling: super::scaling::ScalingSpec::of(stack),
            alarm: super::scaling::AlarmSpec::of(stack),
        }
    }
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

/// The task definition, running `image` (`None`: built by `up`).
fn task_definition(
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

/// The ECS service; its network defaults to the ALB's subnets and security groups (sorted).
fn service(stack: &Stack, shared: &Shared, tags: Vec<(String, String)>) -> ServiceSpec {
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
        deployment_alarms: super::scaling::AlarmSpec::of(stack)
            .map(|a| a.name)
            .into_iter()
            .collect(),
        tags,
    }
}
