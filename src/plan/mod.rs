//! Desired → observed → plan, as separate types. [`plan`] is pure: it compares what the stack
//! wants ([`Desired`]) with what AWS has ([`Observed`]) and lists, per resource in dependency
//! order, create / update (with the fields that differ) / unchanged, plus problems that stop
//! `up` before any change (preflight) and warnings; and, from the same typed differences
//! ([`fields`]), the step `apply` takes for each resource ([`steps`]). Carrying out the steps is
//! `aws::deploy::apply`'s job.

mod compare;
pub mod desired;
mod documents;
pub mod endpoint;
pub mod fields;
pub mod kinds;
pub mod observed;
mod rules;
pub mod scaling;
pub mod steps;
mod text;

pub use compare::plan;
pub use desired::Desired;
pub use observed::Observed;
pub use steps::Steps;
pub use text::render_text;

use serde::Serialize;

/// The one list of resource kinds, in the order `up` applies them: each entry is a variant of
/// [`Kind`] with its doc and the name people use. It generates [`Kind`], [`Kind::label`] and
/// [`Kind::APPLY_ORDER`] (which `aws::deploy::ORDER` is), so a kind's name and its place in the
/// apply order are one line. The variant's JSON name is its snake_case name.
macro_rules! kinds {
    ($($(#[doc = $doc:literal])* $variant:ident => $label:literal,)*) => {
        /// Resource kinds, in the order `up` applies them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Kind {
            /// Every kind, in the order `up` applies them.
            pub const APPLY_ORDER: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The name people use.
            pub fn label(self) -> &'static str {
                match self {
                    $(Kind::$variant => $label,)*
                }
            }
        }
    };
}

// The rollback alarm comes before the service that names it; one the stack no longer wants is
// deleted after the service stopped naming it (`aws::deploy::apply`).
kinds! {
    /// The ALB listener (created only when missing).
    Listener => "listener",
    /// The HTTP:80 listener redirecting to an HTTPS listener (created only when missing).
    RedirectListener => "redirect listener",
    /// ECR repository.
    Repository => "ECR repository",
    /// CloudWatch log group.
    LogGroup => "log group",
    /// The managed IAM task role.
    TaskRole => "IAM task role",
    /// ECS task definition.
    TaskDefinition => "task definition",
    /// Target group.
    TargetGroup => "target group",
    /// Listener rule.
    ListenerRule => "listener rule",
    /// CloudWatch alarm that rolls a deployment back.
    Alarm => "CloudWatch alarm",
    /// ECS service.
    Service => "ECS service",
    /// Application Auto Scaling scalable target of the service's desired count.
    ScalableTarget => "scalable target",
    /// Target-tracking scaling policy.
    ScalingPolicy => "scaling policy",
}

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// It does not exist; create it.
    Create,
    /// It exists and differs; change the listed fields.
    Update,
    /// It exists as wanted.
    Unchanged,
    /// It exists and the stack no longer wants it; delete it.
    Delete,
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Field name (`env MCP_PATH`, `desired_count`, `tag mcpctl:stack`).
    pub field: String,
    /// Current value (`(none)` when absent).
    pub from: String,
    /// Wanted value.
    pub to: String,
}

/// The plan for one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Kind.
    pub kind: Kind,
    /// Name (or path patterns for a rule).
    pub name: String,
    /// Create / update / unchanged.
    pub action: Action,
    /// Fields that differ (for updates).
    pub fields: Vec<FieldChange>,
    /// True when an untagged resource (made by hand or by the old scripts) is taken over.
    pub adopt: bool,
    /// Extra information (chosen priority, "image built at up", ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What `up` would do for a stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The stack.
    pub stack: String,
    /// One entry per resource, in apply order.
    pub changes: Vec<Change>,
    /// Problems that stop `up` before any change (all listed at once).
    pub problems: Vec<String>,
    /// Things worth knowing that do not stop `up`.
    pub warnings: Vec<String>,
    /// The priority the listener rule has or will get.
    pub rule_priority: Option<i32>,
    /// The stack's own rule as observed (ARN), if any.
    pub rule_arn: Option<String>,
    /// What `apply` does for each resource, decided here.
    #[serde(skip)]
    pub steps: Steps,
}

impl Plan {
    /// True when nothing would change.
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.action == Action::Unchanged)
    }

    /// The change for a kind.
    pub fn get(&self, kind: Kind) -> Option<&Change> {
        self.changes.iter().find(|c| c.kind == kind)
    }
}

#[cfg(test)]
mod tests;
