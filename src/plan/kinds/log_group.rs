//! The CloudWatch log group: what the stack wants ([`LogGroupSpec`], from `log_retention_days`),
//! what AWS has ([`ObservedLogGroup`]), the fields they can differ in ([`LogGroupField`]), the
//! comparison (`compare`) and the calls an update makes ([`LogGroupUpdate`]). Reading and
//! changing it in AWS is `aws::logs`.

use serde::Serialize;

use crate::plan::compare::{change, owner_problem, Walk};
use crate::plan::fields::{diff, f, field_enum, tag_fields, Diff, Fields, Value};
use crate::plan::kinds::{step_only_tags, Inputs, Resource};
use crate::plan::steps::{step, Step};
use crate::plan::Kind;
use crate::stack::stack_tag;

/// The CloudWatch log group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogGroupSpec {
    /// Log group name.
    pub name: String,
    /// Retention in days (`None`: never expire).
    pub retention_days: Option<i32>,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl LogGroupSpec {
    /// Comparable fields.
    pub fn fields(&self) -> Fields<LogGroupField> {
        let Self {
            name: _, // the identity
            retention_days,
            tags,
        } = self;
        let mut v = vec![f(
            LogGroupField::RetentionDays,
            retention_days.map_or(Value::from("never"), Value::Int),
        )];
        v.extend(tag_fields(tags, LogGroupField::Tag));
        v
    }
}

field_enum! {
    /// What a log group can differ in.
    LogGroupField {
        /// Retention days.
        RetentionDays => "retention_days",
    }
    tag Tag
}

/// An existing log group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedLogGroup {
    /// ARN (without the trailing `:*`).
    pub arn: String,
    /// Its settings.
    pub spec: LogGroupSpec,
    /// All its tags.
    pub tags: Vec<(String, String)>,
}

/// The calls that update a log group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogGroupUpdate {
    /// `PutRetentionPolicy` / `DeleteRetentionPolicy`.
    pub retention: bool,
    /// `TagResource`.
    pub tags: bool,
}

impl From<Vec<Diff<LogGroupField>>> for LogGroupUpdate {
    fn from(diffs: Vec<Diff<LogGroupField>>) -> Self {
        let mut u = Self::default();
        for d in diffs {
            match d.field {
                LogGroupField::RetentionDays => u.retention = true,
                LogGroupField::Tag(_) => u.tags = true,
            }
        }
        u
    }
}

impl LogGroupUpdate {
    /// True when the update only tags (what `adopt` promises `up` does with its file).
    pub fn only_tags(&self) -> bool {
        let Self { retention, tags: _ } = self;
        !retention
    }
}

/// The CloudWatch log group.
pub struct LogGroup;

impl Resource for LogGroup {
    type Spec = LogGroupSpec;
    type Observed = Option<ObservedLogGroup>;
    type Step = Step<String, LogGroupUpdate>;

    fn desired(from: &Inputs<'_>) -> LogGroupSpec {
        let (stack, tags) = (from.stack, from.stack.resource_tags());
        LogGroupSpec {
            name: stack.names.log_group.clone(),
            retention_days: stack.log_retention_days,
            tags,
        }
    }

    fn compare(w: &mut Walk<'_>) -> Self::Step {
        let l = &w.desired.log_group;
        let o = w.observed.log_group.as_ref();
        if let Some(o) = o {
            w.problems.extend(owner_problem(
                Kind::LogGroup,
                &l.name,
                &o.tags,
                w.stack,
                "log_group",
            ));
        }
        let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
        let diffs = o
            .map(|o| diff(&l.fields(), &o.spec.fields()))
            .unwrap_or_default();
        w.changes
            .push(change(Kind::LogGroup, &l.name, o.is_some(), &diffs, adopt));
        step(o.map(|o| o.arn.clone()), diffs)
    }

    fn only_tags(step: &Self::Step) -> bool {
        step_only_tags(step, LogGroupUpdate::only_tags)
    }
}
