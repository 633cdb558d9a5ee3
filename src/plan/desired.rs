//! Desired state: what each resource should look like, computed from the stack and the shared
//! resources (the ALB's VPC, subnets and security groups) by [`Desired::new`]. Pure.
//!
//! Each spec is its kind's, in [`super::kinds`] (re-exported here): it lists its comparable
//! fields under typed keys ([`super::fields`]), and each `fields()` takes the spec apart field
//! by field, so a field added to a spec does not compile until it is compared (or explicitly
//! left out, with the reason).

use serde::Serialize;

use super::endpoint::ListenerSpec;
use super::observed::Shared;
use crate::stack::Stack;

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

/// Everything a stack wants to exist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Desired {
    /// The stack's name.
    pub stack: String,
    /// ECR repository.
    pub repository: RepositorySpec,
    /// Log group.
    pub log_group: LogGroupSpec,
    /// The managed task role, if the stack has one.
    pub task_role: Option<TaskRoleSpec>,
    /// Task definition.
    pub task_definition: TaskDefinitionSpec,
    /// Target group.
    pub target_group: TargetGroupSpec,
    /// The listener the rule goes on.
    pub listener: super::endpoint::ListenerSpec,
    /// Listener rule.
    pub rule: ListenerRuleSpec,
    /// ECS service.
    pub service: ServiceSpec,
    /// Autoscaling of the service's desired count, if the stack has it.
    pub scaling: Option<super::scaling::ScalingSpec>,
    /// The deployment rollback alarm, if the stack has it.
    pub alarm: Option<super::scaling::AlarmSpec>,
}

impl Desired {
    /// Desired state of `stack`, deploying `image` (`None`: to be built by `up`). The tasks'
    /// network defaults to the ALB's subnets and security groups.
    pub fn new(stack: &Stack, shared: &Shared, image: Option<String>) -> Desired {
        let tags = stack.resource_tags();
        let listener = ListenerSpec::of(stack);
        Desired {
            stack: stack.name.clone(),
            repository: super::kinds::repository::desired(stack, tags.clone()),
            log_group: super::kinds::log_group::desired(stack, tags.clone()),
            task_role: super::kinds::task_role::desired(stack),
            task_definition: super::kinds::task_definition::desired(
                stack, shared, &listener, image,
            ),
            target_group: super::kinds::target_group::desired(stack, shared, tags.clone()),
            rule: super::kinds::listener_rule::desired(stack, tags.clone()),
            listener,
            service: super::kinds::service::desired(stack, shared, tags),
            scaling: super::scaling::ScalingSpec::of(stack),
            alarm: super::scaling::AlarmSpec::of(stack),
        }
    }
}
