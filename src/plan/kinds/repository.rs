//! The ECR repository: what the stack wants ([`RepositorySpec`], from its `ecr` settings), what
//! AWS has ([`ObservedRepository`]), the fields they can differ in ([`RepositoryField`]), the
//! comparison (`compare`) and the calls an update makes ([`RepositoryUpdate`]). Reading and
//! changing it in AWS is `aws::ecr`.

use serde::Serialize;

use crate::plan::compare::{change, owner_problem, Walk};
use crate::plan::documents::lifecycle_policy;
use crate::plan::fields::{diff, f, field_enum, tag_fields, Diff, Fields};
use crate::plan::kinds::{step_only_tags, Inputs, Resource};
use crate::plan::steps::{step, Step};
use crate::plan::Kind;
use crate::stack::stack_tag;

/// The ECR repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepositorySpec {
    /// Repository name.
    pub name: String,
    /// Scan on push.
    pub scan_on_push: bool,
    /// The lifecycle policy document (keep the last N images).
    pub lifecycle_policy: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl RepositorySpec {
    /// Comparable fields.
    pub fn fields(&self) -> Fields<RepositoryField> {
        let Self {
            name: _, // the identity, not a setting
            scan_on_push,
            lifecycle_policy,
            tags,
        } = self;
        let mut v = vec![
            f(RepositoryField::ScanOnPush, scan_on_push),
            f(RepositoryField::LifecyclePolicy, lifecycle_policy),
        ];
        v.extend(tag_fields(tags, RepositoryField::Tag));
        v
    }
}

field_enum! {
    /// What an ECR repository can differ in.
    RepositoryField {
        /// Scan on push.
        ScanOnPush => "scan_on_push",
        /// The lifecycle policy.
        LifecyclePolicy => "lifecycle_policy",
    }
    tag Tag
}

/// An existing ECR repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedRepository {
    /// ARN.
    pub arn: String,
    /// URI (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`).
    pub uri: String,
    /// Its settings in the desired shape (lifecycle policy canonicalised, "" when none).
    pub spec: RepositorySpec,
    /// All its tags.
    pub tags: Vec<(String, String)>,
}

/// An existing ECR repository.
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryRef {
    /// ARN.
    pub arn: String,
    /// URI to push to.
    pub uri: String,
}

/// The calls that update an ECR repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepositoryUpdate {
    /// `PutImageScanningConfiguration`.
    pub scanning: bool,
    /// `PutLifecyclePolicy`.
    pub lifecycle_policy: bool,
    /// `TagResource`.
    pub tags: bool,
}

impl From<Vec<Diff<RepositoryField>>> for RepositoryUpdate {
    fn from(diffs: Vec<Diff<RepositoryField>>) -> Self {
        let mut u = Self::default();
        for d in diffs {
            match d.field {
                RepositoryField::ScanOnPush => u.scanning = true,
                RepositoryField::LifecyclePolicy => u.lifecycle_policy = true,
                RepositoryField::Tag(_) => u.tags = true,
            }
        }
        u
    }
}

impl RepositoryUpdate {
    /// True when the update only tags (what `adopt` promises `up` does with its file).
    pub fn only_tags(&self) -> bool {
        let Self {
            scanning,
            lifecycle_policy,
            tags: _,
        } = self;
        !scanning && !lifecycle_policy
    }
}

/// The ECR repository.
pub struct Repository;

impl Resource for Repository {
    type Spec = RepositorySpec;
    type Observed = Option<ObservedRepository>;
    type Step = Step<RepositoryRef, RepositoryUpdate>;

    fn desired(from: &Inputs<'_>) -> RepositorySpec {
        let (stack, tags) = (from.stack, from.stack.resource_tags());
        RepositorySpec {
            name: stack.names.ecr_repository.clone(),
            scan_on_push: stack.ecr.scan_on_push,
            lifecycle_policy: lifecycle_policy(stack.ecr.keep_images),
            tags,
        }
    }

    fn compare(w: &mut Walk<'_>) -> Self::Step {
        let r = &w.desired.repository;
        let o = w.observed.repository.as_ref();
        if let Some(o) = o {
            w.problems.extend(owner_problem(
                Kind::Repository,
                &r.name,
                &o.tags,
                w.stack,
                "ecr_repository",
            ));
        }
        let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
        let diffs = o
            .map(|o| diff(&r.fields(), &o.spec.fields()))
            .unwrap_or_default();
        w.changes.push(change(
            Kind::Repository,
            &r.name,
            o.is_some(),
            &diffs,
            adopt,
        ));
        step(
            o.map(|o| RepositoryRef {
                arn: o.arn.clone(),
                uri: o.uri.clone(),
            }),
            diffs,
        )
    }

    fn only_tags(step: &Self::Step) -> bool {
        step_only_tags(step, RepositoryUpdate::only_tags)
    }
}
