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

/// Everything `apply` does, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Steps {
    /// The listener.
    pub listener: ListenerStep,
    /// The HTTP-to-HTTPS redirect listener to create, if any.
    pub redirect: Option<RedirectListener>,
    /// ECR repository.
    pub repository: Step<RepositoryRef, RepositoryUpdate>,
    /// Log group (existing: its ARN).
    pub log_group: Step<String, LogGroupUpdate>,
    /// The managed task role, when the stack has one (existing: its ARN).
    pub task_role: Option<Step<String, TaskRoleUpdate>>,
    /// Task definition.
    pub task_definition: TaskDefinitionStep,
    /// Target group (existing: its ARN).
    pub target_group: Step<String, TargetGroupUpdate>,
    /// Listener rule.
    pub rule: RuleStep,
    /// ECS service (existing: its ARN).
    pub service: Step<String, ServiceUpdate>,
    /// The scalable target, its policies and the rollback alarm.
    pub scaling: super::scaling::ScalingSteps,
}

impl Steps {
    /// True when `apply` would only tag: nothing is created, and no update changes more than
    /// tags (what `adopt` promises about the file it writes). Every kind's step is named here,
    /// so a new one does not compile until it says.
    pub fn only_tags(&self) -> bool {
        let Self {
            listener,
            redirect,
            repository,
            log_group,
            task_role,
            task_definition,
            target_group,
            rule,
            service,
            scaling,
        } = self;
        let listener = matches!(listener, ListenerStep::Keep { .. }) && redirect.is_none();
        let repository = match repository {
            Step::Create => false,
            Step::Update(_, u) => u.only_tags(),
            Step::Keep(_) => true,
        };
        let log_group = match log_group {
            Step::Create => false,
            Step::Update(_, u) => u.only_tags(),
            Step::Keep(_) => true,
        };
        let task_role = match task_role {
            None | Some(Step::Keep(_)) => true,
            Some(Step::Update(_, u)) => u.only_tags(),
            Some(Step::Create) => false,
        };
        let task_definition = matches!(task_definition, TaskDefinitionStep::Keep { .. });
        let target_group = match target_group {
            Step::Create => false,
            Step::Update(_, u) => u.only_tags(),
            Step::Keep(_) => true,
        };
        let rule = match rule {
            RuleStep::Create { .. } => false,
            RuleStep::Update { update, .. } => !update.modify(),
            RuleStep::Keep { .. } => true,
            // Joining the production rule at weight 0 changes its actions.
            RuleStep::Attach { .. } => false,
        };
        let service = match service {
            Step::Create => false,
            Step::Update(_, u) => !u.deploys(),
            Step::Keep(_) => true,
        };
        let scaling = scaling.target.is_none()
            && scaling.put_policies.is_empty()
            && scaling.delete_policies.is_empty()
            && scaling.alarm.is_none();
        [
            scaling,
            listener,
            repository,
            log_group,
            task_role,
            task_definition,
            target_group,
            rule,
            service,
        ]
        .iter()
        .all(|ok| *ok)
    }
}
