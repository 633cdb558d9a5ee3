//! Writing a resolved [`Stack`] back as a self-contained stack file: no `extends:`, no
//! `${VAR}`, every default spelled out. `cleanup` archives a stack this way, and
//! `up --stack stacks/archive/.../stack.yaml` loads it again to the same [`Stack`].

use indexmap::IndexMap;
use serde::Serialize;

use super::interpolate::escape;
use super::model::{LoadBalancerRef, Stack};
use super::Auth;

#[derive(Serialize)]
struct Out {
    name: String,
    region: String,
    cluster: String,
    load_balancer: Lb,
    network: Net,
    roles: Roles,
    names: Names,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    container: Container,
    service: Service,
    routing: Routing,
    health_check: Hc,
    logs: Logs,
    ecr: Ecr,
    env: IndexMap<String, Option<String>>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    secrets: IndexMap<String, String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    tags: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<AuthOut>,
}

#[derive(Serialize)]
struct Lb {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    listener_port: u16,
    listener_protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_arn: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    domain_names: Vec<String>,
}

#[derive(Serialize)]
struct AuthOut {
    issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    audience: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    client_ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_url: Option<String>,
}

#[derive(Serialize)]
struct Net {
    subnets: Vec<String>,
    security_groups: Vec<String>,
    assign_public_ip: bool,
}

#[derive(Serialize)]
struct Roles {
    execution_role_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_role: Option<TaskRole>,
}

#[derive(Serialize)]
struct TaskRole {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    opensearch_domain_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opensearch_collection_arn: Option<String>,
    fine_grained_access_control: bool,
}

#[derive(Serialize)]
struct Names {
    ecr_repository: String,
    service: String,
    task_family: String,
    container: String,
    target_group: String,
    log_group: String,
}

#[derive(Serialize)]
struct Container {
    port: u16,
    cpu: u32,
    memory: u32,
    architecture: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    health_check: Option<ContainerHc>,
}

#[derive(Serialize)]
struct ContainerHc {
    command: Vec<String>,
    interval_seconds: i32,
    timeout_seconds: i32,
    retries: i32,
    start_period_seconds: i32,
}

#[derive(Serialize)]
struct Service {
    desired_count: i32,
    min_healthy_percent: i32,
    max_percent: i32,
    circuit_breaker_rollback: bool,
    enable_execute_command: bool,
    health_check_grace_period_seconds: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    autoscaling: Option<super::model::Autoscaling>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    alarm_rollback: bool,
}

#[derive(Serialize)]
struct Routing {
    path_patterns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i32>,
}

#[derive(Serialize)]
struct Hc {
    path: String,
    interval_seconds: i32,
    timeout_seconds: i32,
    healthy_threshold: i32,
    unhealthy_threshold: i32,
    matcher: String,
    deregistration_delay_seconds: i32,
}

#[derive(Serialize)]
struct Logs {
    retention_days: String,
}

#[derive(Serialize)]
struct Ecr {
    scan_on_push: bool,
    keep_images: i32,
}

fn esc_map(m: &IndexMap<String, String>) -> IndexMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), escape(v))).collect()
}

/// Render `stack` as a self-contained stack file (YAML) that [`super::load`] reads back to an
/// equal [`Stack`] (apart from `source`).
pub fn to_yaml(stack: &Stack) -> String {
    let s = stack;
    let e = |v: &str| escape(v);
    let out = Out {
        name: e(&s.name),
        region: e(&s.region),
        cluster: e(&s.cluster),
        load_balancer: load_balancer(s),
        network: Net {
            subnets: s.network.subnets.clone(),
            security_groups: s.network.security_groups.clone(),
            assign_public_ip: s.network.assign_public_ip,
        },
        roles: roles(s),
        names: Names {
            ecr_repository: e(&s.names.ecr_repository),
            service: e(&s.names.service),
            task_family: e(&s.names.task_family),
            container: e(&s.names.container),
            target_group: e(&s.names.target_group),
            log_group: e(&s.names.log_group),
        },
        image: s.image.as_deref().map(e),
        container: container(s),
        service: Service {
            desired_count: s.service.desired_count,
            min_healthy_percent: s.service.min_healthy_percent,
            max_percent: s.service.max_percent,
            circuit_breaker_rollback: s.service.circuit_breaker_rollback,
            enable_execute_command: s.service.enable_execute_command,
            health_check_grace_period_seconds: s.service.health_check_grace_period_seconds,
            autoscaling: s.service.autoscaling.clone(),
            alarm_rollback: s.service.alarm_rollback,
        },
        routing: Routing {
            path_patterns: s.routing.path_patterns.iter().map(|p| e(p)).collect(),
            priority: s.routing.priority,
        },
        health_check: Hc {
            path: e(&s.health_check.path),
            interval_seconds: s.health_check.interval_seconds,
            timeout_seconds: s.health_check.timeout_seconds,
            healthy_threshold: s.health_check.healthy_threshold,
            unhealthy_threshold: s.health_check.unhealthy_threshold,
            matcher: e(&s.health_check.matcher),
            deregistration_delay_seconds: s.health_check.deregistration_delay_seconds,
        },
        logs: Logs {
            retention_days: s
                .log_retention_days
                .map_or_else(|| "never".to_string(), |d| d.to_string()),
        },
        ecr: Ecr {
            scan_on_push: s.ecr.scan_on_push,
            keep_images: s.ecr.keep_images,
        },
        env: esc_map(&s.env)
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .chain(s.env_unset.iter().map(|k| (k.clone(), None)))
            .collect(),
        secrets: esc_map(&s.secrets),
        tags: esc_map(&s.tags),
        auth: s.auth.as_ref().map(auth),
    };
    let body =
        serde_saphyr::to_string(&out).unwrap_or_else(|e| format!("# could not render: {e}\n"));
    format!(
        "# Stack `{}` as deployed, written by mcpctl (self-contained: no extends, no ${{VAR}}).\n# Deploy it again with: mcpctl up --stack <this file>\n{body}",
        stack.name
    )
}

/// `load_balancer`: by name or by ARN, and the listener.
fn load_balancer(s: &Stack) -> Lb {
    let e = |v: &str| escape(v);
    Lb {
        name: match &s.load_balancer.reference {
            LoadBalancerRef::Name(n) => Some(e(n)),
            LoadBalancerRef::Arn(_) => None,
        },
        arn: match &s.load_balancer.reference {
            LoadBalancerRef::Arn(a) => Some(e(a)),
            LoadBalancerRef::Name(_) => None,
        },
        listener_port: s.load_balancer.listener_port,
        listener_protocol: s.load_balancer.listener_protocol.as_str(),
        certificate_arn: s.load_balancer.certificate_arn.as_deref().map(e),
        domain_names: s.load_balancer.domain_names.clone(),
    }
}

/// `roles`: a managed task role is written as `task_role`, not by its ARN.
fn roles(s: &Stack) -> Roles {
    let e = |v: &str| escape(v);
    Roles {
        execution_role_arn: e(&s.roles.execution_role_arn),
        task_role_arn: match &s.roles.managed_task_role {
            Some(_) => None,
            None => s.roles.task_role_arn.as_deref().map(e),
        },
        task_role: s.roles.managed_task_role.as_ref().map(|t| TaskRole {
            name: e(&t.name),
            opensearch_domain_arn: t.opensearch_domain_arn.as_deref().map(e),
            opensearch_collection_arn: t.opensearch_collection_arn.as_deref().map(e),
            fine_grained_access_control: t.fine_grained_access_control,
        }),
    }
}

/// `container`: port, size, architecture and health check.
fn container(s: &Stack) -> Container {
    let e = |v: &str| escape(v);
    Container {
        port: s.container_port,
        cpu: s.cpu,
        memory: s.memory,
        architecture: s.architecture.as_str(),
        health_check: s.container_health_check.as_ref().map(|h| ContainerHc {
            command: h.command.iter().map(|c| e(c)).collect(),
            interval_seconds: h.interval_seconds,
            timeout_seconds: h.timeout_seconds,
            retries: h.retries,
            start_period_seconds: h.start_period_seconds,
        }),
    }
}

/// `auth`.
fn auth(a: &Auth) -> AuthOut {
    let e = |v: &str| escape(v);
    let all = |v: &[String]| v.iter().map(|x| e(x)).collect();
    AuthOut {
        issuer: e(&a.issuer),
        jwks_url: a.jwks_url.as_deref().map(e),
        audience: all(&a.audience),
        client_ids: all(&a.client_ids),
        scopes: all(&a.scopes),
        resource_url: a.resource_url.as_deref().map(e),
    }
}
