//! Autoscaling and alarm rollback in the plan (pure): the Application Auto Scaling scalable
//! target of the service's desired count, its target-tracking policies, and the CloudWatch alarm
//! on the target group's 5XX share that ECS rolls a deployment back on. What the stack wants
//! ([`ScalingSpec`], [`AlarmSpec`]), what AWS has ([`ObservedScaling`], [`ObservedAlarm`]), and
//! the calls between them ([`ScalingSteps`]), plus [`govern_count`]: with autoscaling on, `up`
//! leaves the desired count to the autoscaler unless it is outside min..max.

use serde::Serialize;

use super::fields::{Field, Fields, Value};
use crate::stack::Stack;

pub mod alarm;
mod decide;

pub use alarm::{AlarmStep, AlarmSteps};
pub(in crate::plan) use decide::govern_count;
pub use decide::{Scaling, ScalingSteps, TargetStep};

/// The scalable dimension of an ECS service's task count.
pub const DIMENSION: &str = "ecs:service:DesiredCount";
/// The 5XX share (percent of requests) above which a deployment rolls back.
pub const ERROR_PERCENT: i32 = 5;

/// The names of the policies a stack's service can have (owned by mcpctl by these names).
pub fn policy_name(service: &str, metric: ScalingMetric) -> String {
    match metric {
        ScalingMetric::RequestsPerTarget => format!("{service}-requests-per-target"),
        ScalingMetric::Cpu => format!("{service}-cpu"),
    }
}

pub use crate::model::names::{alarm_dimensions, alarm_name, resource_id, resource_label};

/// A target-tracking metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalingMetric {
    /// ALB requests per task per minute.
    RequestsPerTarget,
    /// The service's average CPU percent.
    Cpu,
}

impl ScalingMetric {
    /// The predefined metric type Application Auto Scaling names.
    pub fn predefined(self) -> &'static str {
        match self {
            ScalingMetric::RequestsPerTarget => "ALBRequestCountPerTarget",
            ScalingMetric::Cpu => "ECSServiceAverageCPUUtilization",
        }
    }
}

/// A target-tracking policy the stack wants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySpec {
    /// Policy name.
    pub name: String,
    /// What it tracks.
    pub metric: ScalingMetric,
    /// The value it keeps the metric at.
    pub target_value: i32,
    /// Seconds after a scale-in.
    pub scale_in_cooldown: i32,
    /// Seconds after a scale-out.
    pub scale_out_cooldown: i32,
}

/// The scalable target and its policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingSpec {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Fewest tasks.
    pub min: i32,
    /// Most tasks.
    pub max: i32,
    /// Target-tracking policies.
    pub policies: Vec<PolicySpec>,
}

impl ScalingSpec {
    /// The scaling a stack wants (`None` without `service.autoscaling`).
    pub fn of(stack: &Stack) -> Option<ScalingSpec> {
        let a = stack.service.autoscaling.as_ref()?;
        let service = &stack.names.service;
        let policy = |metric, target_value| PolicySpec {
            name: policy_name(service, metric),
            metric,
            target_value,
            scale_in_cooldown: a.scale_in_cooldown,
            scale_out_cooldown: a.scale_out_cooldown,
        };
        let mut policies = Vec::new();
        if let Some(r) = a.requests_per_target {
            policies.push(policy(ScalingMetric::RequestsPerTarget, r));
        }
        if let Some(c) = a.cpu_percent {
            policies.push(policy(ScalingMetric::Cpu, c));
        }
        Some(ScalingSpec {
            resource_id: resource_id(&stack.cluster, service),
            min: a.min,
            max: a.max,
            policies,
        })
    }
}

/// The 5XX rollback alarm the stack wants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmSpec {
    /// Alarm name.
    pub name: String,
}

impl AlarmSpec {
    /// The alarm a stack wants (`None` without `service.alarm_rollback`).
    pub fn of(stack: &Stack) -> Option<AlarmSpec> {
        stack.service.alarm_rollback.then(|| AlarmSpec {
            name: alarm_name(&stack.names.service),
        })
    }

    /// Its definition on the target group with these dimensions.
    pub fn definition(&self, load_balancer: &str, target_group: &str) -> AlarmDefinition {
        AlarmDefinition {
            expression: ERROR_EXPRESSION.to_string(),
            threshold: ERROR_PERCENT.to_string(),
            period: 60,
            evaluation_periods: 3,
            datapoints_to_alarm: 2,
            load_balancer: load_balancer.to_string(),
            target_group: target_group.to_string(),
        }
    }
}

/// The metric math of the alarm: the percent of the target group's requests its targets answered
/// with 5XX (`m1` = `HTTPCode_Target_5XX_Count`, `m2` = `RequestCount`; no requests is 0%).
pub const ERROR_EXPRESSION: &str = "IF(m2 > 0, 100 * FILL(m1, 0) / m2, 0)";

/// An alarm as compared: what `PutMetricAlarm` sets and `DescribeAlarms` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmDefinition {
    /// The metric math expression.
    pub expression: String,
    /// Threshold (percent), as text.
    pub threshold: String,
    /// Seconds per datapoint.
    pub period: i32,
    /// Datapoints looked at.
    pub evaluation_periods: i32,
    /// Of those, how many must breach.
    pub datapoints_to_alarm: i32,
    /// `LoadBalancer` dimension.
    pub load_balancer: String,
    /// `TargetGroup` dimension.
    pub target_group: String,
}

/// What a scaling resource or the alarm can differ in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingField {
    /// Scalable target minimum.
    Min,
    /// Scalable target maximum.
    Max,
    /// Predefined metric type.
    Metric,
    /// `ResourceLabel`.
    ResourceLabel,
    /// Target value.
    TargetValue,
    /// Scale-in cooldown.
    ScaleInCooldown,
    /// Scale-out cooldown.
    ScaleOutCooldown,
    /// The alarm's whole definition.
    Alarm(AlarmPart),
}

/// A part of the alarm's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmPart {
    /// Expression.
    Expression,
    /// Threshold.
    Threshold,
    /// Period.
    Period,
    /// Evaluation periods.
    EvaluationPeriods,
    /// Datapoints to alarm.
    DatapointsToAlarm,
    /// `LoadBalancer` dimension.
    LoadBalancer,
    /// `TargetGroup` dimension.
    TargetGroup,
}

impl Field for ScalingField {
    fn label(&self) -> String {
        match self {
            ScalingField::Min => "min",
            ScalingField::Max => "max",
            ScalingField::Metric => "metric",
            ScalingField::ResourceLabel => "resource_label",
            ScalingField::TargetValue => "target_value",
            ScalingField::ScaleInCooldown => "scale_in_cooldown",
            ScalingField::ScaleOutCooldown => "scale_out_cooldown",
            ScalingField::Alarm(AlarmPart::Expression) => "expression",
            ScalingField::Alarm(AlarmPart::Threshold) => "threshold",
            ScalingField::Alarm(AlarmPart::Period) => "period",
            ScalingField::Alarm(AlarmPart::EvaluationPeriods) => "evaluation_periods",
            ScalingField::Alarm(AlarmPart::DatapointsToAlarm) => "datapoints_to_alarm",
            ScalingField::Alarm(AlarmPart::LoadBalancer) => "dimension LoadBalancer",
            ScalingField::Alarm(AlarmPart::TargetGroup) => "dimension TargetGroup",
        }
        .to_string()
    }
    fn is_tag(&self) -> bool {
        false
    }
}

impl AlarmDefinition {
    /// Comparable fields.
    pub fn fields(&self) -> Fields<ScalingField> {
        use AlarmPart as P;
        let Self {
            expression,
            threshold,
            period,
            evaluation_periods,
            datapoints_to_alarm,
            load_balancer,
            target_group,
        } = self;
        let a = |p| ScalingField::Alarm(p);
        vec![
            (a(P::Expression), Value::from(expression)),
            (a(P::Threshold), Value::from(threshold)),
            (a(P::Period), Value::from(period)),
            (a(P::EvaluationPeriods), Value::from(evaluation_periods)),
            (a(P::DatapointsToAlarm), Value::from(datapoints_to_alarm)),
            (a(P::LoadBalancer), Value::from(load_balancer)),
            (a(P::TargetGroup), Value::from(target_group)),
        ]
    }
}

/// An existing target-tracking policy on the service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedPolicy {
    /// Name.
    pub name: String,
    /// Predefined metric type ("" when customised).
    pub metric: String,
    /// `ResourceLabel`, if any.
    pub resource_label: Option<String>,
    /// Target value.
    pub target_value: f64,
    /// Scale-in cooldown (`None`: AWS's default).
    pub scale_in_cooldown: Option<i32>,
    /// Scale-out cooldown.
    pub scale_out_cooldown: Option<i32>,
}

/// The service's scalable target, as registered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedScaling {
    /// Fewest tasks.
    pub min: i32,
    /// Most tasks.
    pub max: i32,
    /// Its scaling policies.
    pub policies: Vec<ObservedPolicy>,
}

/// The existing rollback alarm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedAlarm {
    /// Name.
    pub name: String,
    /// Its definition.
    pub definition: AlarmDefinition,
}
