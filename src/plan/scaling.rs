//! Autoscaling and alarm rollback in the plan (pure): the Application Auto Scaling scalable
//! target of the service's desired count, its target-tracking policies, and the CloudWatch alarm
//! on the target group's 5XX share that ECS rolls a deployment back on. What the stack wants
//! ([`ScalingSpec`], [`AlarmSpec`]), what AWS has ([`ObservedScaling`], [`ObservedAlarm`]), and
//! the calls between them ([`ScalingSteps`]), plus [`govern_count`]: with autoscaling on, `up`
//! leaves the desired count to the autoscaler unless it is outside min..max.

use serde::Serialize;

use super::fields::{diff, Diff, Field, Fields, ServiceField};
use super::{Action, Change, Kind};
use crate::stack::Stack;

/// The scalable dimension of an ECS service's task count.
pub const DIMENSION: &str = "ecs:service:DesiredCount";
/// The 5XX share (percent of requests) above which a deployment rolls back.
pub const ERROR_PERCENT: i32 = 5;

/// The Application Auto Scaling resource ID of a service: `service/CLUSTER/SERVICE`
/// (<https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html>).
pub fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// The names of the policies a stack's service can have (owned by mcpctl by these names).
pub fn policy_name(service: &str, metric: ScalingMetric) -> String {
    match metric {
        ScalingMetric::RequestsPerTarget => format!("{service}-requests-per-target"),
        ScalingMetric::Cpu => format!("{service}-cpu"),
    }
}

/// The name of the deployment rollback alarm of a service.
pub fn alarm_name(service: &str) -> String {
    format!("{service}-5xx-rollback")
}

/// The `ResourceLabel` of `ALBRequestCountPerTarget`: `app/NAME/ID/targetgroup/NAME/ID`, the
/// final parts of the ALB's and the target group's ARNs
/// (<https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html>;
/// moto accepts any text, AWS rejects a label of another shape). `None` when an ARN is not an
/// ELB one.
pub fn resource_label(alb_arn: &str, tg_arn: &str) -> Option<String> {
    let (lb, tg) = alarm_dimensions(alb_arn, tg_arn)?;
    Some(format!("{lb}/{tg}"))
}

/// The CloudWatch dimensions of a target group's ALB metrics: `LoadBalancer` = `app/NAME/ID`,
/// `TargetGroup` = `targetgroup/NAME/ID`
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>).
pub fn alarm_dimensions(alb_arn: &str, tg_arn: &str) -> Option<(String, String)> {
    let lb = alb_arn.split_once(":loadbalancer/")?.1;
    let tg = tg_arn.split_once(":targetgroup/")?.1;
    let parts_ok = |s: &str, n: usize| {
        let parts: Vec<&str> = s.split('/').collect();
        parts.len() == n && parts.iter().all(|p| !p.is_empty())
    };
    (lb.starts_with("app/") && parts_ok(lb, 3) && parts_ok(tg, 2))
        .then(|| (lb.to_string(), format!("targetgroup/{tg}")))
}

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
            (a(P::Expression), expression.clone()),
            (a(P::Threshold), threshold.clone()),
            (a(P::Period), period.to_string()),
            (a(P::EvaluationPeriods), evaluation_periods.to_string()),
            (a(P::DatapointsToAlarm), datapoints_to_alarm.to_string()),
            (a(P::LoadBalancer), load_balancer.clone()),
            (a(P::TargetGroup), target_group.clone()),
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

fn policy_fields(p: &PolicySpec, label: Option<&str>) -> Fields<ScalingField> {
    let PolicySpec {
        name: _, // the identity
        metric,
        target_value,
        scale_in_cooldown,
        scale_out_cooldown,
    } = p;
    let mut v = vec![(ScalingField::Metric, metric.predefined().to_string())];
    if *metric == ScalingMetric::RequestsPerTarget {
        let l = label.unwrap_or("(the target group up creates)");
        v.push((ScalingField::ResourceLabel, l.to_string()));
    }
    v.extend([
        (
            ScalingField::TargetValue,
            format!("{}", f64::from(*target_value)),
        ),
        (ScalingField::ScaleInCooldown, scale_in_cooldown.to_string()),
        (
            ScalingField::ScaleOutCooldown,
            scale_out_cooldown.to_string(),
        ),
    ]);
    v
}

fn observed_policy_fields(p: &ObservedPolicy) -> Fields<ScalingField> {
    let mut v = vec![(ScalingField::Metric, p.metric.clone())];
    if let Some(l) = &p.resource_label {
        v.push((ScalingField::ResourceLabel, l.clone()));
    }
    let cooldown = |c: Option<i32>| c.map_or("(default)".to_string(), |c| c.to_string());
    v.extend([
        (ScalingField::TargetValue, format!("{}", p.target_value)),
        (ScalingField::ScaleInCooldown, cooldown(p.scale_in_cooldown)),
        (
            ScalingField::ScaleOutCooldown,
            cooldown(p.scale_out_cooldown),
        ),
    ]);
    v
}

/// What happens to the scalable target.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetStep {
    /// `RegisterScalableTarget` (creates or updates) with this range.
    Register {
        /// True when it is not registered yet.
        first: bool,
        /// Fewest tasks.
        min: i32,
        /// Most tasks.
        max: i32,
    },
    /// `DeregisterScalableTarget` (the stack no longer scales; its policies go with it).
    Deregister,
}

/// What happens to the rollback alarm.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmStep {
    /// `PutMetricAlarm` (creates or updates).
    Put(AlarmSpec),
    /// `DeleteAlarms` (after the service stops naming it).
    Delete(String),
}

/// The autoscaling and alarm calls `apply` makes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScalingSteps {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// The ALB (for the `ResourceLabel` and the alarm's dimensions, with the target group).
    pub alb_arn: String,
    /// The scalable target's call, if any.
    pub target: Option<TargetStep>,
    /// Policies to put (create or update).
    pub put_policies: Vec<PolicySpec>,
    /// Policies to delete, by name.
    pub delete_policies: Vec<String>,
    /// The alarm's call, if any.
    pub alarm: Option<AlarmStep>,
}

/// The plan's part for autoscaling and the alarm.
pub(super) struct ScalingPlan {
    pub changes: Vec<Change>,
    pub warnings: Vec<String>,
    pub steps: ScalingSteps,
}

fn change(
    kind: Kind,
    name: &str,
    action: Action,
    fields: &[Diff<ScalingField>],
    adopt: bool,
) -> Change {
    Change {
        kind,
        name: name.to_string(),
        action,
        fields: fields.iter().map(Diff::shown).collect(),
        adopt,
        note: None,
    }
}

fn action_of(exists: bool, diffs: &[Diff<ScalingField>]) -> Action {
    match (exists, diffs.is_empty()) {
        (false, _) => Action::Create,
        (true, true) => Action::Unchanged,
        (true, false) => Action::Update,
    }
}

/// Plan the scalable target, its policies and the alarm. `alb_arn` and `tg_arn` (when the
/// target group exists) give the `ResourceLabel` and the alarm's dimensions; `service` is the
/// stack's service name (whose policy names mcpctl owns).
pub(super) fn plan_scaling(
    scaling: Option<&ScalingSpec>,
    alarm: Option<&AlarmSpec>,
    observed: (Option<&ObservedScaling>, Option<&ObservedAlarm>),
    alb_arn: &str,
    tg_arn: Option<&str>,
    resource: (&str, &str),
) -> ScalingPlan {
    let (cluster, service) = resource;
    let (have, have_alarm) = observed;
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    let mut steps = ScalingSteps {
        resource_id: resource_id(cluster, service),
        alb_arn: alb_arn.to_string(),
        ..Default::default()
    };
    let ours = [
        policy_name(service, ScalingMetric::RequestsPerTarget),
        policy_name(service, ScalingMetric::Cpu),
    ];
    let label = tg_arn.and_then(|t| resource_label(alb_arn, t));
    match (scaling, have) {
        (Some(want), have) => {
            let diffs = have
                .map(|h| {
                    diff(
                        &vec![
                            (ScalingField::Min, want.min.to_string()),
                            (ScalingField::Max, want.max.to_string()),
                        ],
                        &vec![
                            (ScalingField::Min, h.min.to_string()),
                            (ScalingField::Max, h.max.to_string()),
                        ],
                    )
                })
                .unwrap_or_default();
            let adopt = have.is_some_and(|h| !h.policies.iter().any(|p| ours.contains(&p.name)));
            let mut c = change(
                Kind::ScalableTarget,
                &want.resource_id,
                action_of(have.is_some(), &diffs),
                &diffs,
                adopt,
            );
            c.note = Some(format!("{} .. {} tasks", want.min, want.max));
            if c.action != Action::Unchanged {
                steps.target = Some(TargetStep::Register {
                    first: have.is_none(),
                    min: want.min,
                    max: want.max,
                });
            }
            changes.push(c);
            let existing: &[ObservedPolicy] = have.map_or(&[], |h| &h.policies);
            for p in &want.policies {
                let o = existing.iter().find(|o| o.name == p.name);
                let diffs = o
                    .map(|o| {
                        diff(
                            &policy_fields(p, label.as_deref()),
                            &observed_policy_fields(o),
                        )
                    })
                    .unwrap_or_default();
                let mut c = change(
                    Kind::ScalingPolicy,
                    &p.name,
                    action_of(o.is_some(), &diffs),
                    &diffs,
                    false,
                );
                c.note = Some(format!("{} at {}", p.metric.predefined(), p.target_value));
                if c.action != Action::Unchanged {
                    steps.put_policies.push(p.clone());
                }
                changes.push(c);
            }
            for o in existing {
                if want.policies.iter().any(|p| p.name == o.name) {
                    continue;
                }
                if ours.contains(&o.name) {
                    changes.push(change(
                        Kind::ScalingPolicy,
                        &o.name,
                        Action::Delete,
                        &[],
                        false,
                    ));
                    steps.delete_policies.push(o.name.clone());
                } else {
                    warnings.push(format!(
                        "scaling policy `{}` on {} is not the stack's; it is left as it is and scales the service too",
                        o.name, want.resource_id
                    ));
                }
            }
        }
        (None, Some(h)) => {
            let id = resource_id(cluster, service);
            if h.policies.iter().any(|p| ours.contains(&p.name)) {
                changes.push(change(
                    Kind::ScalableTarget,
                    &id,
                    Action::Delete,
                    &[],
                    false,
                ));
                steps.target = Some(TargetStep::Deregister);
                steps.delete_policies = h
                    .policies
                    .iter()
                    .filter(|p| ours.contains(&p.name))
                    .map(|p| p.name.clone())
                    .collect();
            } else {
                warnings.push(format!(
                    "{id} has a scalable target mcpctl did not make ({} .. {} tasks); `up` sets the desired count from the stack while it exists: add `service.autoscaling` to the stack, or deregister it",
                    h.min, h.max
                ));
            }
        }
        (None, None) => {}
    }

    let dims = tg_arn.and_then(|t| alarm_dimensions(alb_arn, t));
    match (alarm, have_alarm) {
        (Some(want), have) => {
            let diffs = match (have, &dims) {
                (Some(h), Some((lb, tg))) => {
                    diff(&want.definition(lb, tg).fields(), &h.definition.fields())
                }
                (Some(h), None) => diff(
                    &want
                        .definition("(the ALB)", "(the target group up creates)")
                        .fields(),
                    &h.definition.fields(),
                ),
                (None, _) => Vec::new(),
            };
            let mut c = change(
                Kind::Alarm,
                &want.name,
                action_of(have.is_some(), &diffs),
                &diffs,
                false,
            );
            c.note = Some(format!(
                "5XX above {ERROR_PERCENT}% of requests rolls a deployment back"
            ));
            if c.action != Action::Unchanged {
                steps.alarm = Some(AlarmStep::Put(want.clone()));
            }
            changes.push(c);
        }
        (None, Some(h)) => {
            changes.push(change(Kind::Alarm, &h.name, Action::Delete, &[], false));
            steps.alarm = Some(AlarmStep::Delete(h.name.clone()));
        }
        (None, None) => {}
    }
    ScalingPlan {
        changes,
        warnings,
        steps,
    }
}

/// With autoscaling (`range` = min..max), the desired count is the autoscaler's: drop a
/// `desired_count` difference when the service's count is inside the range, and move it to the
/// nearest bound when outside.
pub(super) fn govern_count(diffs: &mut Vec<Diff<ServiceField>>, range: Option<(i32, i32)>) {
    let Some((lo, hi)) = range else { return };
    diffs.retain_mut(|d| {
        if d.field != ServiceField::DesiredCount {
            return true;
        }
        match d.from.parse::<i32>() {
            Ok(n) if (lo..=hi).contains(&n) => false,
            Ok(n) => {
                d.to = n.clamp(lo, hi).to_string();
                true
            }
            Err(_) => true,
        }
    });
}
