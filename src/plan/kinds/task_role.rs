//! The managed IAM task role: what the stack wants ([`TaskRoleSpec`], from
//! `roles.managed_task_role`), what AWS has ([`ObservedTaskRole`]), the fields they can differ
//! in ([`TaskRoleField`]), the comparison (`compare`) and the calls an update makes
//! ([`TaskRoleUpdate`]). Reading and changing it in AWS is `aws::iam_role`.

use serde::Serialize;

use crate::plan::compare::{change, Walk};
use crate::plan::documents::{opensearch_policy, policy_statements};
use crate::plan::kinds::{step_only_tags, Inputs, Resource};

pub use crate::plan::documents::task_trust_policy;
use crate::plan::fields::{diff, f, field_enum, tag_fields, Diff, Fields};
use crate::plan::steps::{step, Step};
use crate::plan::Kind;

/// Name of the inline policy on a managed task role.
pub const TASK_ROLE_POLICY: &str = "OpenSearchAccess";
/// Tag that marks a task role as managed by mcpctl (shared by stacks, so not `mcpctl:stack`).
pub const MANAGED_ROLE_TAG: &str = "mcpctl:managed";

/// A managed task role: trust policy for ECS tasks, one inline least-privilege policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRoleSpec {
    /// Role name.
    pub name: String,
    /// Trust policy (canonical JSON).
    pub trust_policy: String,
    /// The inline `OpenSearchAccess` policy (canonical JSON).
    pub policy: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

impl TaskRoleSpec {
    /// Comparable fields: policies as normalised statements.
    pub fn fields(&self) -> Fields<TaskRoleField> {
        let Self {
            name: _, // the identity
            trust_policy,
            policy,
            tags,
        } = self;
        let mut v = vec![
            f(TaskRoleField::TrustPolicy, policy_statements(trust_policy)),
            f(TaskRoleField::Policy, policy_statements(policy)),
        ];
        v.extend(tag_fields(tags, TaskRoleField::Tag));
        v
    }
}

field_enum! {
    /// What the managed task role can differ in.
    TaskRoleField {
        /// The trust policy.
        TrustPolicy => "trust_policy",
        /// The inline `OpenSearchAccess` policy.
        Policy => "policy OpenSearchAccess",
    }
    tag Tag
}

/// An existing task role (the managed one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedTaskRole {
    /// ARN.
    pub arn: String,
    /// Its trust policy, inline `OpenSearchAccess` policy ("" when absent) and tags.
    pub spec: TaskRoleSpec,
}

/// The calls that update the managed task role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRoleUpdate {
    /// `UpdateAssumeRolePolicy`.
    pub trust_policy: bool,
    /// `PutRolePolicy`.
    pub policy: bool,
    /// `TagRole`.
    pub tags: bool,
}

impl From<Vec<Diff<TaskRoleField>>> for TaskRoleUpdate {
    fn from(diffs: Vec<Diff<TaskRoleField>>) -> Self {
        let mut u = Self::default();
        for d in diffs {
            match d.field {
                TaskRoleField::TrustPolicy => u.trust_policy = true,
                TaskRoleField::Policy => u.policy = true,
                TaskRoleField::Tag(_) => u.tags = true,
            }
        }
        u
    }
}

impl TaskRoleUpdate {
    /// True when the update only tags (what `adopt` promises `up` does with its file).
    pub fn only_tags(&self) -> bool {
        let Self {
            trust_policy,
            policy,
            tags: _,
        } = self;
        !trust_policy && !policy
    }
}

/// The managed IAM task role (when the stack has one).
pub struct TaskRole;

impl Resource for TaskRole {
    type Spec = Option<TaskRoleSpec>;
    type Observed = Option<ObservedTaskRole>;
    type Step = Option<Step<String, TaskRoleUpdate>>;

    fn desired(from: &Inputs<'_>) -> Option<TaskRoleSpec> {
        let stack = from.stack;
        stack.roles.managed_task_role.as_ref().map(|r| {
            let mut tags: Vec<(String, String)> = stack
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            tags.push((MANAGED_ROLE_TAG.to_string(), "true".to_string()));
            TaskRoleSpec {
                name: r.name.clone(),
                trust_policy: task_trust_policy(),
                policy: opensearch_policy(
                    r.opensearch_domain_arn.as_deref(),
                    r.opensearch_collection_arn.as_deref(),
                    stack.service.enable_execute_command,
                ),
                tags,
            }
        })
    }

    fn compare(w: &mut Walk<'_>) -> Self::Step {
        let r = w.desired.task_role.as_ref()?;
        let o = w.observed.task_role.as_ref();
        let adopt = o.is_some_and(|o| !o.spec.tags.iter().any(|(k, _)| k == MANAGED_ROLE_TAG));
        let diffs = o
            .map(|o| diff(&r.fields(), &o.spec.fields()))
            .unwrap_or_default();
        w.changes
            .push(change(Kind::TaskRole, &r.name, o.is_some(), &diffs, adopt));
        Some(step(o.map(|o| o.arn.clone()), diffs))
    }

    fn only_tags(step: &Self::Step) -> bool {
        step.as_ref()
            .is_none_or(|s| step_only_tags(s, TaskRoleUpdate::only_tags))
    }
}
