//! Desired state: what each resource should look like, computed from the stack and the shared
//! resources (the ALB's VPC, subnets and security groups) by [`super::Desired::new`]. Pure.
//!
//! Each spec is its kind's, in [`super::kinds`] (re-exported here): it lists its comparable
//! fields under typed keys ([`super::fields`]), and each `fields()` takes the spec apart field
//! by field, so a field added to a spec does not compile until it is compared (or explicitly
//! left out, with the reason).

pub use super::kinds::listener_rule::ListenerRuleSpec;
pub use super::kinds::log_group::LogGroupSpec;
pub use super::kinds::repository::RepositorySpec;
pub use super::kinds::service::ServiceSpec;
pub use super::kinds::target_group::TargetGroupSpec;
pub use super::kinds::task_definition::{ContainerHealthCheck, TaskDefinitionSpec};
pub use super::kinds::task_role::{TaskRoleSpec, MANAGED_ROLE_TAG, TASK_ROLE_POLICY};

pub use super::documents::{
    canonical_json, lifecycle_policy, opensearch_policy, policy_statements,
};
