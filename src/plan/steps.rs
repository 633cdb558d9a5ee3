//! What `apply` does, decided by the plan: one step per resource, carrying the identity of what
//! exists (so `apply` never looks at the observed state) and, for an update, exactly which
//! calls to make. Each update is built from the typed differences by an exhaustive match, so a
//! new comparable field does not compile until it says which call carries it.

use super::fields::Diff;

pub use super::kinds::listener_rule::{RuleStep, RuleUpdate};
pub use super::kinds::log_group::LogGroupUpdate;
pub use super::kinds::repository::{RepositoryRef, RepositoryUpdate};
pub use super::kinds::service::ServiceUpdate;
pub use super::kinds::target_group::TargetGroupUpdate;
pub use super::kinds::task_definition::TaskDefinitionStep;
pub use super::kinds::task_role::TaskRoleUpdate;

/// What happens to one resource that `up` creates or updates in place.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<E, U> {
    /// Create it.
    Create,
    /// It exists (`E` says which) and these calls bring it to the stack.
    Update(E, U),
    /// It exists as wanted.
    Keep(E),
}

impl<E, U> Step<E, U> {
    /// The existing resource, when there is one.
    pub fn existing(&self) -> Option<&E> {
        match self {
            Step::Create => None,
            Step::Update(e, _) | Step::Keep(e) => Some(e),
        }
    }
}

/// The step for a resource: create when `existing` is `None`, keep when nothing differs, else
/// the update built from the differences.
pub(super) fn step<E, F, U: From<Vec<Diff<F>>>>(
    existing: Option<E>,
    diffs: Vec<Diff<F>>,
) -> Step<E, U> {
    match existing {
        None => Step::Create,
        Some(e) if diffs.is_empty() => Step::Keep(e),
        Some(e) => Step::Update(e, U::from(diffs)),
    }
}

/// The listener.
#[derive(Debug, Clone, PartialEq)]
pub enum ListenerStep {
    /// Create the listener on the ALB `alb_arn`.
    Create {
        /// The ALB.
        alb_arn: String,
        /// Port, protocol and certificate.
        listener: super::endpoint::ListenerSpec,
    },
    /// Use the listener `arn`.
    Keep {
        /// Its ARN.
        arn: String,
    },
}

/// An HTTP listener to create that redirects every request to the HTTPS listener.
#[derive(Debug, Clone, PartialEq)]
pub struct RedirectListener {
    /// The ALB.
    pub alb_arn: String,
    /// Its port (80).
    pub port: u16,
    /// The HTTPS listener's port.
    pub to_port: u16,
}
