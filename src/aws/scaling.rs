//! Application Auto Scaling of the service's desired count: the scalable target
//! (`ecs:service:DesiredCount` of `service/CLUSTER/SERVICE`), its target-tracking policies and
//! the latest scaling activities. Observed by resource ID (policies by name), applied as the
//! plan's [`crate::plan::scaling::ScalingSteps`] decide.

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use serde::Serialize;

use super::deploy::{Applying, Deploy};
use super::errors::unless_denied;
use super::errors::{call_error, code};
use super::Clients;
use crate::error::{Context, Result};
use crate::model::names::resource_label;
use crate::plan::scaling::{
    ObservedPolicy, ObservedScaling, PolicySpec, ScalingMetric, ScalingSteps, TargetStep, DIMENSION,
};
use crate::plan::{Action, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

/// Carry out the plan's scaling steps (after the service exists): register the target, put
/// and delete policies, or deregister. Returns what was done (kind, action, name).
pub async fn apply(
    c: &Clients,
    steps: &ScalingSteps,
    tg_arn: &str,
) -> Result<Vec<(Kind, Action, String)>> {
    let id = &steps.resource_id;
    let mut done = Vec::new();
    match &steps.target {
        Some(TargetStep::Register { first, min, max }) => {
            register(c, id, *min, *max).await?;
            let action = if *first {
                Action::Create
            } else {
                Action::Update
            };
            done.push((Kind::ScalableTarget, action, id.clone()));
        }
        Some(TargetStep::Deregister) => {
            for name in &steps.delete_policies {
                delete_policy(c, id, name).await?;
            }
            deregister(c, id).await?;
            done.push((Kind::ScalableTarget, Action::Delete, id.clone()));
            return Ok(done);
        }
        None => {}
    }
    let label = resource_label(&steps.alb_arn, tg_arn);
    for p in &steps.put_policies {
        if p.metric == ScalingMetric::RequestsPerTarget && label.is_none() {
            return Err(crate::error::Error::failed(format!(
                "cannot name the ResourceLabel of load balancer {} and target group {tg_arn} for scaling policy {}; they are not Application Load Balancer ARNs",
                steps.alb_arn, p.name
            )));
        }
        put_policy(c, id, p, label.as_deref()).await?;
        done.push((Kind::ScalingPolicy, Action::Update, p.name.clone()));
    }
    for name in &steps.delete_policies {
        delete_policy(c, id, name).await?;
        done.push((Kind::ScalingPolicy, Action::Delete, name.clone()));
    }
    Ok(done)
}

/// At most this many pages of policies are read (50 a page; a service has a handful).
const MAX_PAGES: usize = 10;

fn dimension() -> ScalableDimension {
    ScalableDimension::from(DIMENSION)
}

/// The scalable target of `resource_id` and its policies (`None`: not registered).
pub async fn observe(c: &Clients, resource_id: &str) -> Result<Option<ObservedScaling>> {
    let out = c
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(resource_id)
        .scalable_dimension(dimension())
        .send()
        .await
        .map_err(|e| call_error(resource_id, e))?;
    let Some(t) = out
        .scalable_targets()
        .iter()
        .find(|t| t.resource_id() == resource_id)
    else {
        return Ok(None);
    };
    let mut policies = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = c
            .autoscaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(dimension())
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| call_error(resource_id, e))?;
        for p in out.scaling_policies() {
            let tt = p.target_tracking_scaling_policy_configuration();
            let predefined = tt.and_then(|t| t.predefined_metric_specification());
            policies.push(ObservedPolicy {
                name: p.policy_name().to_string(),
                metric: predefined
                    .map(|m| m.predefined_metric_type().as_str().to_string())
                    .unwrap_or_default(),
                resource_label: predefined
                    .and_then(|m| m.resource_label())
                    .map(str::to_string),
                target_value: tt.map_or(0.0, |t| t.target_value()),
                scale_in_cooldown: tt.and_then(|t| t.scale_in_cooldown()),
                scale_out_cooldown: tt.and_then(|t| t.scale_out_cooldown()),
            });
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(Some(ObservedScaling {
        min: t.min_capacity(),
        max: t.max_capacity(),
        policies,
    }))
}

/// `RegisterScalableTarget`: create the target or change its range.
pub async fn register(c: &Clients, resource_id: &str, min: i32, max: i32) -> Result<()> {
    c.autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(dimension())
        .min_capacity(min)
        .max_capacity(max)
        .send()
        .await
        .map_err(|e| call_error(resource_id, e))?;
    Ok(())
}

/// `PutScalingPolicy` (target tracking): create or replace the policy. `label` is the
/// `ResourceLabel` of `ALBRequestCountPerTarget` ([`crate::model::names::resource_label`]).
pub async fn put_policy(
    c: &Clients,
    resource_id: &str,
    p: &PolicySpec,
    label: Option<&str>,
) -> Result<()> {
    let mut metric = PredefinedMetricSpecification::builder()
        .predefined_metric_type(MetricType::from(p.metric.predefined()));
    if p.metric == ScalingMetric::RequestsPerTarget {
        metric = metric.set_resource_label(label.map(str::to_string));
    }
    let metric = metric
        .build()
        .context_failed(|| format!("building the metric of scaling policy {}", p.name))?;
    let config = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(f64::from(p.target_value))
        .predefined_metric_specification(metric)
        .scale_in_cooldown(p.scale_in_cooldown)
        .scale_out_cooldown(p.scale_out_cooldown)
        .build()
        .context_failed(|| format!("building scaling policy {}", p.name))?;
    c.autoscaling
        .put_scaling_policy()
        .policy_name(&p.name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(dimension())
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(config)
        .send()
        .await
        .map_err(|e| call_error(&format!("policy {} of {resource_id}", p.name), e))?;
    Ok(())
}

/// `DeleteScalingPolicy`; already gone counts as done.
pub async fn delete_policy(c: &Clients, resource_id: &str, name: &str) -> Result<()> {
    match c
        .autoscaling
        .delete_scaling_policy()
        .policy_name(name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(dimension())
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some("ObjectNotFoundException") => Ok(()),
        Err(e) => Err(call_error(&format!("policy {name} of {resource_id}"), e)),
    }
}

/// `DeregisterScalableTarget` (AWS deletes its policies with it); already gone counts as done.
pub async fn deregister(c: &Clients, resource_id: &str) -> Result<()> {
    match c
        .autoscaling
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(dimension())
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some("ObjectNotFoundException") => Ok(()),
        Err(e) => Err(call_error(resource_id, e)),
    }
}

/// One scaling activity, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// When it started (RFC 3339).
    pub start: String,
    /// `Successful`, `InProgress`, `Failed`, ...
    pub status: String,
    /// What it did ("Setting desired count to 4.").
    pub description: String,
    /// Why.
    pub cause: String,
}

/// The latest `max` scaling activities of `resource_id`, newest first (one call).
pub async fn activities(c: &Clients, resource_id: &str, max: i32) -> Result<Vec<Activity>> {
    let out = c
        .autoscaling
        .describe_scaling_activities()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(dimension())
        .max_results(max)
        .send()
        .await
        .map_err(|e| call_error(resource_id, e))?;
    Ok(out
        .scaling_activities()
        .iter()
        .take(usize::try_from(max).unwrap_or(0))
        .map(|a| Activity {
            start: a
                .start_time()
                .fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap_or_default(),
            status: a.status_code().as_str().to_string(),
            description: a.description().to_string(),
            cause: a.cause().to_string(),
        })
        .collect())
}

/// Read only when the service exists; a stack without autoscaling plans without the
/// permission to read it.
impl Deploy for crate::plan::scaling::Scaling {
    async fn observe(c: &Clients, stack: &Stack, so_far: &Observed) -> Result<Self::Observed> {
        if so_far.service.is_none() {
            return Ok(None);
        }
        let id = crate::model::names::resource_id(&stack.cluster, &stack.names.service);
        unless_denied(stack.service.autoscaling.is_none(), observe(c, &id).await)
    }

    /// After the service exists (a scalable target needs it).
    async fn apply(run: &mut Applying<'_>, _: &Desired, steps: &Steps) -> Result<()> {
        let done = apply(run.c, &steps.scaling, &run.tg_arn).await?;
        run.rec.extend(done);
        Ok(())
    }
}
