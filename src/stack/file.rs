//! The stack file as written: every key optional (a file may be a shared layer or extend one),
//! unknown keys rejected, every value kept with its line and column so that validation can point
//! at it. Scalars are read as text (`${VAR}` may stand for a number); `resolve` parses them.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A scalar read as text, with where it was written.
pub type Text = Spanned<Scalar>;

/// Any YAML scalar (string, number, boolean) kept as the text it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a single value (text, number or true/false), not a list or mapping")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An ordered mapping of names to scalars (`env:`, `secrets:`, `tags:`), keys with locations.
/// A value written as `~` (YAML null) is `None`: the name is removed from what the file
/// extends (`env: {MCP_PORT: ~}`: the container gets no `MCP_PORT`).
#[derive(Debug, Clone, Default)]
pub struct TextMap(pub Vec<(Spanned<String>, Option<Text>)>);

impl<'de> Deserialize<'de> for TextMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of NAME: value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<TextMap, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Spanned<String>>()? {
                    let v = m.next_value::<Option<Text>>()?;
                    out.push((k, v));
                }
                Ok(TextMap(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<TextMap, E> {
                Ok(TextMap::default())
            }
        }
        d.deserialize_map(V)
    }
}

/// A list of scalars (`subnets:`, `path_patterns:`); a single scalar counts as a one-item list.
#[derive(Debug, Clone, Default)]
pub struct TextList(pub Vec<Text>);

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list like [a, b]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<TextList, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = s.next_element::<Text>()? {
                    out.push(v);
                }
                Ok(TextList(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<TextList, E> {
                Ok(TextList::default())
            }
        }
        d.deserialize_seq(V)
    }
}

/// One stack file (or a shared layer it extends).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackFile {
    /// Another stack file (relative to this one) whose settings this one starts from.
    pub extends: Option<Text>,
    /// The stack's name (default: the file name without `.yaml`).
    pub name: Option<Text>,
    /// AWS region.
    pub region: Option<Text>,
    /// ECS cluster name.
    pub cluster: Option<Text>,
    /// The shared ALB.
    pub load_balancer: Option<Spanned<LoadBalancerFile>>,
    /// Where tasks run.
    pub network: Option<Spanned<NetworkFile>>,
    /// IAM roles.
    pub roles: Option<Spanned<RolesFile>>,
    /// Resource names.
    pub names: Option<Spanned<NamesFile>>,
    /// Image to deploy (otherwise `up` builds and pushes `server/`).
    pub image: Option<Text>,
    /// Task size and port.
    pub container: Option<Spanned<ContainerFile>>,
    /// ECS service settings.
    pub service: Option<Spanned<ServiceFile>>,
    /// Listener rule.
    pub routing: Option<Spanned<RoutingFile>>,
    /// Target group health check.
    pub health_check: Option<Spanned<HealthCheckFile>>,
    /// CloudWatch Logs settings.
    pub logs: Option<Spanned<LogsFile>>,
    /// ECR settings.
    pub ecr: Option<Spanned<EcrFile>>,
    /// Container environment.
    pub env: Option<Spanned<TextMap>>,
    /// Container secrets: NAME -> Secrets Manager / SSM parameter ARN.
    pub secrets: Option<Spanned<TextMap>>,
    /// Extra tags on every resource.
    pub tags: Option<Spanned<TextMap>>,
    /// OAuth 2.1 bearer tokens for the MCP endpoint.
    pub auth: Option<Spanned<AuthFile>>,
}

/// `load_balancer:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerFile {
    pub name: Option<Text>,
    pub arn: Option<Text>,
    pub listener_port: Option<Text>,
    pub listener_protocol: Option<Text>,
    pub certificate_arn: Option<Text>,
    pub domain_names: Option<Spanned<TextList>>,
}

/// `auth:` (OAuth 2.1 resource server settings of the MCP endpoint)
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFile {
    pub issuer: Option<Text>,
    pub jwks_url: Option<Text>,
    pub audience: Option<Spanned<TextList>>,
    pub client_ids: Option<Spanned<TextList>>,
    pub scopes: Option<Spanned<TextList>>,
    pub resource_url: Option<Text>,
}

/// `network:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    pub subnets: Option<Spanned<TextList>>,
    pub security_groups: Option<Spanned<TextList>>,
    pub assign_public_ip: Option<Text>,
}

/// `roles:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesFile {
    pub execution_role_arn: Option<Text>,
    pub task_role_arn: Option<Text>,
    pub task_role: Option<Spanned<TaskRoleFile>>,
}

/// `roles.task_role:` — a task role mcpctl creates and keeps least-privilege.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRoleFile {
    pub name: Option<Text>,
    pub opensearch_domain_arn: Option<Text>,
    pub opensearch_collection_arn: Option<Text>,
    pub fine_grained_access_control: Option<Text>,
}

/// `names:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamesFile {
    pub ecr_repository: Option<Text>,
    pub service: Option<Text>,
    pub task_family: Option<Text>,
    pub container: Option<Text>,
    pub target_group: Option<Text>,
    pub log_group: Option<Text>,
}

/// `container:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerFile {
    pub port: Option<Text>,
    pub cpu: Option<Text>,
    pub memory: Option<Text>,
    /// `x86_64` or `arm64`.
    pub architecture: Option<Text>,
    /// The container health check ECS runs inside the task.
    pub health_check: Option<Spanned<ContainerHealthCheckFile>>,
}

/// `container.health_check:` — ECS's container health check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerHealthCheckFile {
    pub command: Option<Spanned<TextList>>,
    pub interval_seconds: Option<Text>,
    pub timeout_seconds: Option<Text>,
    pub retries: Option<Text>,
    pub start_period_seconds: Option<Text>,
}

/// `service:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub desired_count: Option<Text>,
    pub min_healthy_percent: Option<Text>,
    pub max_percent: Option<Text>,
    pub circuit_breaker_rollback: Option<Text>,
    pub enable_execute_command: Option<Text>,
    pub health_check_grace_period_seconds: Option<Text>,
    /// Application Auto Scaling of the desired count.
    pub autoscaling: Option<Spanned<AutoscalingFile>>,
    /// A CloudWatch alarm on the target group's 5XX share rolls a deployment back.
    pub alarm_rollback: Option<Text>,
}

/// `service.autoscaling:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingFile {
    pub min: Option<Text>,
    pub max: Option<Text>,
    pub requests_per_target: Option<Text>,
    pub cpu_percent: Option<Text>,
    pub scale_in_cooldown: Option<Text>,
    pub scale_out_cooldown: Option<Text>,
}

/// `routing:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingFile {
    pub path_patterns: Option<Spanned<TextList>>,
    pub priority: Option<Text>,
}

/// `health_check:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckFile {
    pub path: Option<Text>,
    pub interval_seconds: Option<Text>,
    pub timeout_seconds: Option<Text>,
    pub healthy_threshold: Option<Text>,
    pub unhealthy_threshold: Option<Text>,
    pub matcher: Option<Text>,
    pub deregistration_delay_seconds: Option<Text>,
}

/// `logs:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsFile {
    pub retention_days: Option<Text>,
}

/// `ecr:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcrFile {
    pub scan_on_push: Option<Text>,
    pub keep_images: Option<Text>,
}
