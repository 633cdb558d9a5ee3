//! The comparison for autoscaling (pure): [`plan_scaling`] lists what differs
//! and the calls `apply` makes ([`ScalingSteps`]); [`govern_count`] leaves the desired count to
//! the autoscaler.

use super::{
    policy_name, resource_id, resource_label, ObservedPolicy, ObservedScaling, PolicySpec,
    ScalingField, ScalingMetric, ScalingSpec,
};
use crate::plan::compare::Walk;
use crate::plan::fields::{diff, Diff, Fields, Value};
use crate::plan::kinds::service::ServiceField;
use crate::plan::kinds::{Inputs, Resource};
use crate::plan::{Action, Change, Kind};

fn policy_fields(p: &PolicySpec, label: Option<&str>) -> Fields<ScalingField> {
    let PolicySpec {
        name: _, // the identity
        metric,
        target_value,
        scale_in_cooldown,
        scale_out_cooldown,
    } = p;
    let mut v = vec![(ScalingField::Metric, Value::from(metric.predefined()))];
    if *metric == ScalingMetric::RequestsPerTarget {
        let l = label.unwrap_or("(the target group up creates)");
        v.push((ScalingField::ResourceLabel, Value::from(l)));
    }
    v.extend([
        (
            ScalingField::TargetValue,
            Value::Text(format!("{}", f64::from(*target_value))),
        ),
        (
            ScalingField::ScaleInCooldown,
            Value::from(scale_in_cooldown),
        ),
        (
            ScalingField::ScaleOutCooldown,
            Value::from(scale_out_cooldown),
        ),
    ]);
    v
}

fn observed_policy_fields(p: &ObservedPolicy) -> Fields<ScalingField> {
    let mut v = vec![(ScalingField::Metric, Value::from(&p.metric))];
    if let Some(l) = &p.resource_label {
        v.push((ScalingField::ResourceLabel, Value::from(l)));
    }
    let cooldown = |c: Option<i32>| c.map_or(Value::from("(default)"), Value::Int);
    v.extend([
        (
            ScalingField::TargetValue,
            Value::Text(format!("{}", p.target_value)),
        ),
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

/// The autoscaling calls `apply` makes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScalingSteps {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// The ALB (for the `ResourceLabel`, with the target group).
    pub alb_arn: String,
    /// The scalable target's call, if any.
    pub target: Option<TargetStep>,
    /// Policies to put (create or update).
    pub put_policies: Vec<PolicySpec>,
    /// Policies to delete, by name.
    pub delete_policies: Vec<String>,
}

/// The plan's part for autoscaling.
pub(in crate::plan) struct ScalingPlan {
    /// One entry per scaling resource, for people.
    pub changes: Vec<Change>,
    /// Things worth knowing (policies and targets mcpctl did not make).
    pub warnings: Vec<String>,
    /// The calls `apply` makes.
    pub steps: ScalingSteps,
}

pub(super) fn change(
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

pub(super) fn action_of(exists: bool, diffs: &[Diff<ScalingField>]) -> Action {
    match (exists, diffs.is_empty()) {
        (false, _) => Action::Create,
        (true, true) => Action::Unchanged,
        (true, false) => Action::Update,
    }
}

/// Plan the scalable target and its policies. `alb_arn` and `tg_arn` (when the target group
/// exists) give the `ResourceLabel`; `service` is the stack's service name (whose policy names
/// mcpctl owns).
fn plan_scaling(
    scaling: Option<&ScalingSpec>,
    have: Option<&ObservedScaling>,
    alb_arn: &str,
    tg_arn: Option<&str>,
    resource: (&str, &str),
) -> ScalingPlan {
    let (cluster, service) = resource;
    let mut out = ScalingPlan {
        changes: Vec::new(),
        warnings: Vec::new(),
        steps: ScalingSteps {
            resource_id: resource_id(cluster, service),
            alb_arn: alb_arn.to_string(),
            ..Default::default()
        },
    };
    let ours = [
        policy_name(service, ScalingMetric::RequestsPerTarget),
        policy_name(service, ScalingMetric::Cpu),
    ];
    match (scaling, have) {
        (Some(want), have) => {
            out.target(want, have, &ours);
            let label = tg_arn.and_then(|t| resource_label(alb_arn, t));
            out.policies(want, have, &ours, label.as_deref());
        }
        (None, Some(h)) => out.unwanted_target(h, &ours, &resource_id(cluster, service)),
        (None, None) => {}
    }
    out
}

impl ScalingPlan {
    /// The scalable target the stack wants (`ours`: the policy names mcpctl owns; a target
    /// with none of them is adopted).
    fn target(&mut self, want: &ScalingSpec, have: Option<&ObservedScaling>, ours: &[String]) {
        let diffs = have
            .map(|h| {
                diff(
                    &vec![
                        (ScalingField::Min, Value::Int(want.min)),
                        (ScalingField::Max, Value::Int(want.max)),
                    ],
                    &vec![
                        (ScalingField::Min, Value::Int(h.min)),
                        (ScalingField::Max, Value::Int(h.max)),
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
            self.steps.target = Some(TargetStep::Register {
                first: have.is_none(),
                min: want.min,
                max: want.max,
            });
        }
        self.changes.push(c);
    }

    /// The stack's policies (put when they differ), ours it no longer has (deleted), and
    /// others' (left, with a warning).
    fn policies(
        &mut self,
        want: &ScalingSpec,
        have: Option<&ObservedScaling>,
        ours: &[String],
        label: Option<&str>,
    ) {
        let existing: &[ObservedPolicy] = have.map_or(&[], |h| &h.policies);
        for p in &want.policies {
            let o = existing.iter().find(|o| o.name == p.name);
            let diffs = o
                .map(|o| diff(&policy_fields(p, label), &observed_policy_fields(o)))
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
                self.steps.put_policies.push(p.clone());
            }
            self.changes.push(c);
        }
        for o in existing {
            if want.policies.iter().any(|p| p.name == o.name) {
                continue;
            }
            if ours.contains(&o.name) {
                self.changes.push(change(
                    Kind::ScalingPolicy,
                    &o.name,
                    Action::Delete,
                    &[],
                    false,
                ));
                self.steps.delete_policies.push(o.name.clone());
            } else {
                self.warnings.push(format!(
                    "scaling policy `{}` on {} is not the stack's; it is left as it is and scales the service too",
                    o.name, want.resource_id
                ));
            }
        }
    }

    /// A scalable target the stack does not want: deregistered when mcpctl made it (one of
    /// `ours` policies), else a warning.
    fn unwanted_target(&mut self, h: &ObservedScaling, ours: &[String], id: &str) {
        if h.policies.iter().any(|p| ours.contains(&p.name)) {
            self.changes
                .push(change(Kind::ScalableTarget, id, Action::Delete, &[], false));
            self.steps.target = Some(TargetStep::Deregister);
            self.steps.delete_policies = h
                .policies
                .iter()
                .filter(|p| ours.contains(&p.name))
                .map(|p| p.name.clone())
                .collect();
        } else {
            self.warnings.push(format!(
                "{id} has a scalable target mcpctl did not make ({} .. {} tasks); `up` sets the desired count from the stack while it exists: add `service.autoscaling` to the stack, or deregister it",
                h.min, h.max
            ));
        }
    }
}

/// With autoscaling (`range` = min..max), the desired count is the autoscaler's: drop a
/// `desired_count` difference when the service's count is inside the range, and move it to the
/// nearest bound when outside.
pub(in crate::plan) fn govern_count(
    diffs: &mut Vec<Diff<ServiceField>>,
    range: Option<(i32, i32)>,
) {
    let Some((lo, hi)) = range else { return };
    diffs.retain_mut(|d| {
        if d.field != ServiceField::DesiredCount {
            return true;
        }
        match d.from.as_ref().and_then(Value::int) {
            Some(n) if (lo..=hi).contains(&n) => false,
            Some(n) => {
                d.to = Some(Value::Int(n.clamp(lo, hi)));
                true
            }
            None => true,
        }
    });
}

/// Autoscaling of the service's desired count: the scalable target and its policies.
pub struct Scaling;

impl Resource for Scaling {
    type Spec = Option<ScalingSpec>;
    type Observed = Option<ObservedScaling>;
    type Step = ScalingSteps;

    fn desired(from: &Inputs<'_>) -> Option<ScalingSpec> {
        ScalingSpec::of(from.stack)
    }

    fn compare(w: &mut Walk<'_>) -> ScalingSteps {
        let (desired, observed) = (w.desired, w.observed);
        let s = &desired.service;
        let scaling = plan_scaling(
            desired.scaling.as_ref(),
            observed.scaling.as_ref(),
            &observed.shared.alb.arn,
            observed.target_group.as_ref().map(|t| t.arn.as_str()),
            (&s.cluster, &s.name),
        );
        w.changes.extend(scaling.changes);
        w.warnings.extend(scaling.warnings);
        scaling.steps
    }

    fn only_tags(step: &ScalingSteps) -> bool {
        step.target.is_none() && step.put_policies.is_empty() && step.delete_policies.is_empty()
    }
}
