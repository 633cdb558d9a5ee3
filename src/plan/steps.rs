//! What `apply` does, decided by the plan: one step per resource, carrying the identity of what
//! exists (so `apply` never looks at the observed state) and, for an update, exactly which
//! calls to make. Each update is built from the typed differences by an exhaustive match, so a
//! new comparable field does not compile until it says which call carries it.

use super::fields::{Diff, RuleField, ServiceField, Value};

pub use super::kinds::log_group::LogGroupUpdate;
pub use super::kinds::repository::{RepositoryRef, RepositoryUpdate};
pub use super::kinds::target_group::TargetGroupUpdate;
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
    pub port: i32,
    /// The HTTPS listener's port.
    pub to_port: i32,
}

/// The task definition.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskDefinitionStep {
    /// Register a new revision (`first`: the family does not exist yet).
    Register {
        /// True when this is the family's first revision.
        first: bool,
    },
    /// Use the revision `arn`.
    Keep {
        /// Its ARN.
        arn: String,
    },
}

/// The stack's listener rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleStep {
    /// Create it at `priority`.
    Create {
        /// The free priority chosen.
        priority: i32,
    },
    /// Update the rule `arn`.
    Update {
        /// Its ARN.
        arn: String,
        /// What to change.
        update: RuleUpdate,
    },
    /// The rule `arn` is as wanted.
    Keep {
        /// Its ARN.
        arn: String,
    },
    /// The rule `arn`'s routing is managed by `cutover` and does not name the stack's target
    /// group: add the group at weight 0 to `forward` (no request moves), so that ECS can attach
    /// the service to it.
    Attach {
        /// Its ARN.
        arn: String,
        /// Its routing now.
        forward: crate::model::Forward,
    },
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

/// The calls that update the stack's listener rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleUpdate {
    /// `ModifyRule` with the path condition.
    pub conditions: bool,
    /// The same `ModifyRule` also sets the forward action.
    pub forward: bool,
    /// `AddTags`.
    pub tags: bool,
    /// `SetRulePriorities` to this priority.
    pub priority: Option<i32>,
}

impl From<Vec<Diff<RuleField>>> for RuleUpdate {
    fn from(diffs: Vec<Diff<RuleField>>) -> Self {
        let mut u = Self::default();
        for d in diffs {
            match d.field {
                RuleField::PathPatterns => u.conditions = true,
                RuleField::Forward => u.forward = true,
                RuleField::Tag(_) => u.tags = true,
                RuleField::Priority => u.priority = d.to.as_ref().and_then(Value::int),
            }
        }
        u
    }
}

impl RuleUpdate {
    /// True when a `ModifyRule` is needed (a new forward is sent with the conditions).
    pub fn modify(&self) -> bool {
        self.conditions || self.forward
    }
}

/// The parts of one `UpdateService` call, and whether to tag the service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceUpdate {
    /// Set the task definition.
    pub task_definition: bool,
    /// Set the desired count to this (with autoscaling: only when outside min..max).
    pub desired_count: Option<i32>,
    /// Set the network configuration (subnets, security groups, public IP).
    pub network: bool,
    /// Set the load balancer binding.
    pub load_balancer: bool,
    /// Set the deployment configuration (percentages, circuit breaker, alarms).
    pub deployment: bool,
    /// The deployment alarms changed: the configuration sent names them, or switches them off.
    pub alarms: bool,
    /// Set ECS Exec.
    pub execute_command: bool,
    /// Set the health check grace period.
    pub grace_period: bool,
    /// `TagResource`.
    pub tags: bool,
}

impl From<Vec<Diff<ServiceField>>> for ServiceUpdate {
    fn from(diffs: Vec<Diff<ServiceField>>) -> Self {
        use ServiceField as F;
        let mut u = Self::default();
        for d in diffs {
            match d.field {
                F::TaskDefinition => u.task_definition = true,
                F::DesiredCount => u.desired_count = d.to.as_ref().and_then(Value::int),
                F::Subnets | F::SecurityGroups | F::AssignPublicIp => u.network = true,
                F::LoadBalancer => u.load_balancer = true,
                F::MinHealthyPercent | F::MaxPercent | F::CircuitBreakerRollback => {
                    u.deployment = true
                }
                F::DeploymentAlarms => {
                    u.deployment = true;
                    u.alarms = true;
                }
                F::EnableExecuteCommand => u.execute_command = true,
                F::HealthCheckGracePeriod => u.grace_period = true,
                F::Tag(_) => u.tags = true,
            }
        }
        u
    }
}

impl ServiceUpdate {
    /// True when an `UpdateService` call is needed (a new deployment to wait for).
    pub fn deploys(&self) -> bool {
        let Self {
            task_definition,
            desired_count,
            network,
            load_balancer,
            deployment,
            alarms: _, // part of `deployment`
            execute_command,
            grace_period,
            tags: _, // a separate TagResource call
        } = self;
        *task_definition
            || desired_count.is_some()
            || *network
            || *load_balancer
            || *deployment
            || *execute_command
            || *grace_period
    }
}
