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
pub use text::render_text;

use serde::Serialize;

use crate::stack::Stack;
use observed::Shared;

/// The one list of resource kinds, in the order `plan` compares them and `up` applies them:
/// each entry is a field name, its module's type (which implements [`kinds::Resource`] here
/// and `aws::deploy::Deploy` in `crate::aws`), and the [`Kind`]s it reports, each with the
/// name people use. It calls `$m!` with the list, so each side generates its part from the
/// same lines: `plan` the [`Kind`] enum, [`Desired`], [`Observed`], [`Steps`] and the
/// comparison; `aws` the observation and the apply loop. A new kind is its two modules and a
/// line here. The JSON name of a kind is its variant's snake_case name.
macro_rules! resources {
    ($m:ident) => {
        $m! {
            /// The stack's listener and, for HTTPS, the HTTP:80 redirect to it.
            listener: crate::plan::endpoint::Listeners {
                /// The ALB listener (created only when missing).
                Listener "listener",
                /// The HTTP:80 listener redirecting to an HTTPS listener (created only when missing).
                RedirectListener "redirect listener",
            }
            /// The ECR repository.
            repository: crate::plan::kinds::repository::Repository {
                /// ECR repository.
                Repository "ECR repository",
            }
            /// The log group.
            log_group: crate::plan::kinds::log_group::LogGroup {
                /// CloudWatch log group.
                LogGroup "log group",
            }
            /// The managed task role, if the stack has one.
            task_role: crate::plan::kinds::task_role::TaskRole {
                /// The managed IAM task role.
                TaskRole "IAM task role",
            }
            /// The task definition.
            task_definition: crate::plan::kinds::task_definition::TaskDefinition {
                /// ECS task definition.
                TaskDefinition "task definition",
            }
            /// The target group.
            target_group: crate::plan::kinds::target_group::TargetGroup {
                /// Target group.
                TargetGroup "target group",
            }
            /// The listener rule.
            rule: crate::plan::kinds::listener_rule::Rule {
                /// Listener rule.
                ListenerRule "listener rule",
            }
            /// The ECS service (the rollback alarm it names is put just before it).
            service: crate::plan::kinds::service::Service {
                /// ECS service.
                Service "ECS service",
            }
            /// Autoscaling of the service's desired count, if the stack has it.
            scaling: crate::plan::scaling::Scaling {
                /// Application Auto Scaling scalable target of the service's desired count.
                ScalableTarget "scalable target",
                /// Target-tracking scaling policy.
                ScalingPolicy "scaling policy",
            }
            /// The deployment rollback alarm, if the stack has it (one no longer wanted is
            /// deleted here, after the service stopped naming it).
            alarm: crate::plan::scaling::alarm::Alarm {
                /// CloudWatch alarm that rolls a deployment back.
                Alarm "CloudWatch alarm",
            }
        }
    };
}
pub(crate) use resources;

/// The plan's part generated from [`resources!`]: [`Kind`], and the [`Desired`], [`Observed`]
/// and [`Steps`] structs with one field per entry, typed by its [`kinds::Resource`].
macro_rules! declare {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty {
        $($(#[doc = $kdoc:literal])* $kind:ident $label:literal,)+
    })*) => {
        /// Resource kinds, in the order `plan` lists them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $($($(#[doc = $kdoc])* $kind,)+)*
        }

        impl Kind {
            /// The name people use.
            pub fn label(self) -> &'static str {
                match self {
                    $($(Kind::$kind => $label,)+)*
                }
            }
        }

        /// Everything a stack wants to exist: one spec per resource kind.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Desired {
            /// The stack's name.
            pub stack: String,
            $($(#[doc = $doc])* pub $field: <$ty as kinds::Resource>::Spec,)*
        }

        impl Desired {
            /// Desired state of `stack`, deploying `image` (`None`: to be built by `up`). The
            /// tasks' network defaults to the ALB's subnets and security groups.
            pub fn new(stack: &Stack, shared: &Shared, image: Option<String>) -> Desired {
                let from = kinds::Inputs { stack, shared, image: image.as_deref() };
                Desired {
                    stack: stack.name.clone(),
                    $($field: <$ty as kinds::Resource>::desired(&from),)*
                }
            }
        }

        /// Everything observed for one stack: the shared resources and what each kind found.
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct Observed {
            /// Shared resources.
            pub shared: Shared,
            $($(#[doc = $doc])* pub $field: <$ty as kinds::Resource>::Observed,)*
        }

        /// Everything `apply` does, one step per kind, in order.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Steps {
            $($(#[doc = $doc])* pub $field: <$ty as kinds::Resource>::Step,)*
        }

        impl Steps {
            /// True when `apply` would only tag: nothing is created, and no update changes more
            /// than tags (what `adopt` promises about the file it writes). Every kind says.
            pub fn only_tags(&self) -> bool {
                true $(&& <$ty as kinds::Resource>::only_tags(&self.$field))*
            }

            /// Each kind's step, compared in the list's order, then settled.
            fn decide(w: &mut compare::Walk<'_>) -> Steps {
                let mut steps = Steps {
                    $($field: <$ty as kinds::Resource>::compare(w),)*
                };
                $(<$ty as kinds::Resource>::settle(w, &mut steps);)*
                steps
            }
        }
    };
}

resources!(declare);

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
