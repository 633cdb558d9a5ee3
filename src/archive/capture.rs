//! Reading a stack's live configuration for the archive: ECS task definition and service as the
//! JSON ECS returned (captured from the response body, so no field is lost), the target group
//! and the listener rules from ELBv2's typed answers.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::{json, Value};

use crate::aws::errors::call_error;
use crate::aws::listener_rule::ListenerRule;
use crate::aws::Clients;
use crate::error::Result;

/// The image the task definition ran (its first container's `image`: a digest when it was
/// deployed by digest, else the tag it named), from `DescribeTaskDefinition`'s answer.
pub fn ran_image(task_definition: &Value) -> Option<String> {
    task_definition["taskDefinition"]["containerDefinitions"]
        .as_array()?
        .first()?
        .get("image")?
        .as_str()
        .filter(|i| !i.trim().is_empty())
        .map(str::to_string)
}

/// A stack deployed without `image:` (built from `server/` or given with `--image`) is archived
/// with the image that ran, so `mcpctl up --stack <archive>` brings back that server, not
/// whatever `server/` builds today (or fails without docker).
fn pin_image(
    archive: &mut super::Archive,
    stack: &crate::stack::Stack,
    task_definition: &Value,
) -> Result<()> {
    if stack.image.is_some() {
        return Ok(());
    }
    let Some(image) = ran_image(task_definition) else {
        return Ok(());
    };
    let mut pinned = stack.clone();
    pinned.image = Some(image);
    archive.write_text(super::STACK_FILE, &crate::stack::to_yaml(&pinned))
}

/// An interceptor keeping the body of the response it saw (one operation at a time).
#[derive(Debug, Clone, Default)]
pub struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    /// The body parsed as JSON, if it was JSON.
    pub fn json(&self) -> Option<Value> {
        let bytes = self.0.lock().ok()?.clone()?;
        serde_json::from_slice(&bytes).ok()
    }
}

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "mcpctl-archive-raw-body"
    }

    fn read_after_deserialization(
        &self,
        ctx: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (ctx.response().body().bytes(), self.0.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// `DescribeTaskDefinition` of `task_definition` (ARN or `family[:revision]`) as ECS returned
/// it: `{"taskDefinition": {...}, "tags": [...]}`.
pub async fn task_definition(c: &Clients, task_definition: &str) -> Result<Option<Value>> {
    let raw = RawBody::default();
    c.ecs
        .describe_task_definition()
        .task_definition(task_definition)
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .map_err(|e| call_error(&format!("task definition {task_definition}"), e))?;
    Ok(raw.json())
}

/// `DescribeServices` of one service as ECS returned it (the `services[0]` object).
pub async fn service(c: &Clients, cluster: &str, name: &str) -> Result<Option<Value>> {
    let raw = RawBody::default();
    c.ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(aws_sdk_ecs::types::ServiceField::Tags)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .map_err(|e| call_error(&format!("service {name} in cluster {cluster}"), e))?;
    Ok(raw
        .json()
        .and_then(|v| v["services"].as_array().and_then(|a| a.first().cloned())))
}

/// The target group's settings, attributes and tags, in the API's field names.
pub async fn target_group(c: &Clients, name: &str) -> Result<Option<Value>> {
    let what = format!("target group {name}");
    let Some(tg) = crate::aws::target_group::describe_by_name(c, name).await? else {
        return Ok(None);
    };
    let arn = tg.target_group_arn().unwrap_or_default();
    let attrs = c
        .elb
        .describe_target_group_attributes()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| call_error(&what, e))?;
    let tags = crate::aws::target_group::tags_of(c, &[arn.to_string()])
        .await?
        .into_iter()
        .next()
        .map(|t| t.1)
        .unwrap_or_default();
    Ok(Some(json!({
        "TargetGroupName": tg.target_group_name(),
        "TargetGroupArn": arn,
        "Protocol": tg.protocol().map(|p| p.as_str()),
        "Port": tg.port(),
        "VpcId": tg.vpc_id(),
        "TargetType": tg.target_type().map(|t| t.as_str()),
        "HealthCheckProtocol": tg.health_check_protocol().map(|p| p.as_str()),
        "HealthCheckPort": tg.health_check_port(),
        "HealthCheckPath": tg.health_check_path(),
        "HealthCheckEnabled": tg.health_check_enabled(),
        "HealthCheckIntervalSeconds": tg.health_check_interval_seconds(),
        "HealthCheckTimeoutSeconds": tg.health_check_timeout_seconds(),
        "HealthyThresholdCount": tg.healthy_threshold_count(),
        "UnhealthyThresholdCount": tg.unhealthy_threshold_count(),
        "Matcher": tg.matcher().and_then(|m| m.http_code()),
        "LoadBalancerArns": tg.load_balancer_arns(),
        "Attributes": attrs.attributes().iter().map(|a| json!({"Key": a.key(), "Value": a.value()})).collect::<Vec<_>>(),
        "Tags": tag_map(&tags),
    })))
}

/// Tags as one JSON object, key → value (the archive's spelling).
fn tag_map(tags: &[(String, String)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Listener rules in the API's field names (forward actions exactly; others by type).
pub fn rules(rules: &[&ListenerRule]) -> Value {
    Value::Array(
        rules
            .iter()
            .map(|r| {
                let actions: Vec<Value> = match r.forward() {
                    Ok(f) => vec![f.to_api_json()],
                    Err(_) => r
                        .actions
                        .iter()
                        .map(|a| json!({"Type": a.kind, "Order": a.order}))
                        .collect(),
                };
                json!({
                    "RuleArn": r.arn,
                    "Priority": r.priority.map(|p| p.to_string()).unwrap_or_else(|| "default".into()),
                    "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": r.path_patterns}}],
                    "Actions": actions,
                    "Tags": tag_map(&r.tags),
                })
            })
            .collect(),
    )
}

/// Write what still exists of the stack into the archive: `task-definition.json` (of
/// `task_definition`), `service.json`, `target-group.json` and `listener-rules.json` (of
/// `rules`). A file an earlier, interrupted cleanup already wrote is kept, never overwritten
/// with a poorer capture.
pub async fn live_configuration(
    c: &Clients,
    archive: &mut super::Archive,
    stack: &crate::stack::Stack,
    task_definition: Option<&str>,
    service_exists: bool,
    rules: &[&ListenerRule],
) -> Result<()> {
    let has = |a: &super::Archive, f: &str| a.manifest.files.iter().any(|x| x == f);
    if let (false, Some(td)) = (has(archive, "task-definition.json"), task_definition) {
        if let Some(v) = self::task_definition(c, td).await? {
            archive.write_json("task-definition.json", &v)?;
            pin_image(archive, stack, &v)?;
        }
    }
    if !has(archive, "service.json") && service_exists {
        if let Some(v) = service(c, &stack.cluster, &stack.names.service).await? {
            archive.write_json("service.json", &v)?;
        }
    }
    if !has(archive, "target-group.json") {
        if let Some(v) = target_group(c, &stack.names.target_group).await? {
            archive.write_json("target-group.json", &v)?;
        }
    }
    if !has(archive, "listener-rules.json") && !rules.is_empty() {
        archive.write_json("listener-rules.json", &self::rules(rules))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_that_ran_is_the_first_containers() {
        let td = json!({"taskDefinition": {"containerDefinitions": [
            {"name": "opensearch-mcp-server", "image": "1.dkr.ecr.us-east-1.amazonaws.com/r@sha256:ab"},
            {"name": "sidecar", "image": "busybox"}
        ]}});
        assert_eq!(
            ran_image(&td).as_deref(),
            Some("1.dkr.ecr.us-east-1.amazonaws.com/r@sha256:ab")
        );
        assert_eq!(ran_image(&json!({"taskDefinition": {}})), None);
        assert_eq!(
            ran_image(&json!({"taskDefinition": {"containerDefinitions": [{"image": " "}]}})),
            None
        );
    }
}
