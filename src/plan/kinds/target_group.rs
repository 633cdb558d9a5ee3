//! The target group: what the stack wants ([`TargetGroupSpec`], from the stack's
//! `health_check`), what AWS has ([`ObservedTargetGroup`]), the fields they can differ in
//! ([`TargetGroupField`]; [`TargetGroupFixedField`] for what AWS cannot change in place), the
//! comparison (`compare`) and the calls an update makes ([`TargetGroupUpdate`]). Reading and
//! changing it in AWS is `aws::target_group`.

use serde::Serialize;

use crate::plan::compare::{change, owner_problem, Walk};
use crate::plan::fields::{diff, f, field_enum, tag_fields, Diff, Field, Fields, Value};
use crate::plan::kinds::{step_only_tags, Inputs, Resource};
use crate::plan::steps::{step, Step};
use crate::plan::Kind;
use crate::stack::stack_tag;

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
    pub fn fixed_fields(&self) -> Fields<TargetGroupFixedField> {
        vec![
            f(TargetGroupFixedField::Port, self.port),
            f(TargetGroupFixedField::Protocol, "HTTP"),
            f(TargetGroupFixedField::TargetType, "ip"),
            f(TargetGroupFixedField::VpcId, &self.vpc_id),
        ]
    }

    /// Comparable fields that can be changed in place.
    pub fn fields(&self) -> Fields<TargetGroupField> {
        use TargetGroupField as F;
        let Self {
            name: _,   // the identity
            port: _,   // fixed: see `fixed_fields`
            vpc_id: _, // fixed
            health_check_path,
            interval,
            timeout,
            healthy_threshold,
            unhealthy_threshold,
            matcher,
            deregistration_delay,
            tags,
        } = self;
        let mut v = vec![
            f(F::HealthCheckPath, health_check_path),
            f(F::HealthCheckInterval, interval),
            f(F::HealthCheckTimeout, timeout),
            f(F::HealthyThreshold, healthy_threshold),
            f(F::UnhealthyThreshold, unhealthy_threshold),
            f(F::Matcher, matcher),
            f(F::DeregistrationDelay, deregistration_delay),
        ];
        v.extend(tag_fields(tags, F::Tag));
        v
    }
}

field_enum! {
    /// What a target group can differ in, in place.
    TargetGroupField {
        /// Health check path.
        HealthCheckPath => "health_check_path",
        /// Seconds between checks.
        HealthCheckInterval => "health_check_interval",
        /// Seconds before a check fails.
        HealthCheckTimeout => "health_check_timeout",
        /// Successes before healthy.
        HealthyThreshold => "healthy_threshold",
        /// Failures before unhealthy.
        UnhealthyThreshold => "unhealthy_threshold",
        /// Healthy HTTP codes.
        Matcher => "matcher",
        /// Draining seconds.
        DeregistrationDelay => "deregistration_delay",
    }
    tag Tag
}

/// What AWS cannot change on an existing target group (a difference is a problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetGroupFixedField {
    /// Port.
    Port,
    /// Protocol.
    Protocol,
    /// Target type.
    TargetType,
    /// VPC.
    VpcId,
}

impl Field for TargetGroupFixedField {
    fn label(&self) -> String {
        match self {
            Self::Port => "port",
            Self::Protocol => "protocol",
            Self::TargetType => "target_type",
            Self::VpcId => "vpc_id",
        }
        .to_string()
    }
    fn is_tag(&self) -> bool {
        false
    }
}

/// An existing target group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedTargetGroup {
    /// ARN.
    pub arn: String,
    /// HTTP / HTTPS.
    pub protocol: String,
    /// `ip` / `instance` / `lambda` / `alb`.
    pub target_type: String,
    /// Its settings.
    pub spec: TargetGroupSpec,
    /// All its tags.
    pub tags: Vec<(String, String)>,
}

/// The calls that update a target group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetGroupUpdate {
    /// `ModifyTargetGroup` with the whole health check.
    pub health_check: bool,
    /// `ModifyTargetGroupAttributes` (deregistration delay).
    pub deregistration_delay: bool,
    /// `AddTags`.
    pub tags: bool,
}

impl From<Vec<Diff<TargetGroupField>>> for TargetGroupUpdate {
    fn from(diffs: Vec<Diff<TargetGroupField>>) -> Self {
        use TargetGroupField as F;
        let mut u = Self::default();
        for d in diffs {
            match d.field {
                F::HealthCheckPath
                | F::HealthCheckInterval
                | F::HealthCheckTimeout
                | F::HealthyThreshold
                | F::UnhealthyThreshold
                | F::Matcher => u.health_check = true,
                F::DeregistrationDelay => u.deregistration_delay = true,
                F::Tag(_) => u.tags = true,
            }
        }
        u
    }
}

impl TargetGroupUpdate {
    /// True when the update only tags (what `adopt` promises `up` does with its file).
    pub fn only_tags(&self) -> bool {
        let Self {
            health_check,
            deregistration_delay,
            tags: _,
        } = self;
        !health_check && !deregistration_delay
    }
}

/// The target group.
pub struct TargetGroup;

impl Resource for TargetGroup {
    type Spec = TargetGroupSpec;
    type Observed = Option<ObservedTargetGroup>;
    type Step = Step<String, TargetGroupUpdate>;

    fn desired(from: &Inputs<'_>) -> TargetGroupSpec {
        let (stack, shared, tags) = (from.stack, from.shared, from.stack.resource_tags());
        TargetGroupSpec {
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
            tags,
        }
    }

    fn compare(w: &mut Walk<'_>) -> Self::Step {
        let g = &w.desired.target_group;
        let o = w.observed.target_group.as_ref();
        if let Some(o) = o {
            w.problems.extend(owner_problem(
                Kind::TargetGroup,
                &g.name,
                &o.tags,
                w.stack,
                "target_group",
            ));
            let mut have = o.spec.fixed_fields();
            for (k, v) in have.iter_mut() {
                match k {
                    TargetGroupFixedField::Protocol => *v = Value::from(&o.protocol),
                    TargetGroupFixedField::TargetType => *v = Value::from(&o.target_type),
                    TargetGroupFixedField::Port | TargetGroupFixedField::VpcId => {}
                }
            }
            for fc in diff(&g.fixed_fields(), &have).iter().map(Diff::shown) {
                w.problems.push(format!(
                    "target group `{}` has {} {} but the stack needs {}; AWS cannot change that on an existing target group: move traffic off it and delete it, or give the stack another `names.target_group`",
                    g.name,
                    fc.field,
                    fc.from,
                    fc.to
                ));
            }
        }
        let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
        let diffs = o
            .map(|o| diff(&g.fields(), &o.spec.fields()))
            .unwrap_or_default();
        w.changes.push(change(
            Kind::TargetGroup,
            &g.name,
            o.is_some(),
            &diffs,
            adopt,
        ));
        step(o.map(|o| o.arn.clone()), diffs)
    }

    fn only_tags(step: &Self::Step) -> bool {
        step_only_tags(step, TargetGroupUpdate::only_tags)
    }
}
