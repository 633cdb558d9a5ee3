//! One module per resource kind `up` manages, each in one place: what the stack wants (the
//! spec and how it is made from the stack), what AWS has (the observed shape), the fields they
//! can differ in, the pure comparison and the calls an update makes. Each module's unit type
//! implements [`Resource`], and the one list of them, `plan::resources!`, generates
//! `Desired`, `Observed`, `Steps` and the comparison's order. The AWS side of each kind
//! (observe, apply) is its module in `crate::aws`, which implements `aws::deploy::Deploy` for
//! the same type.

pub mod listener_rule;
pub mod log_group;
pub mod repository;
pub mod service;
pub mod target_group;
pub mod task_definition;
pub mod task_role;

use super::compare::Walk;
use super::observed::Shared;
use super::steps::Step;
use crate::stack::Stack;

/// What every kind's spec is made from.
pub struct Inputs<'a> {
    /// The stack.
    pub stack: &'a Stack,
    /// The shared resources (the ALB's network, the listener, the certificate).
    pub shared: &'a Shared,
    /// The image to deploy (`None`: built by `up`).
    pub image: Option<&'a str>,
}

/// One resource kind's pure part: its three shapes and how the plan decides its step. The
/// list `plan::resources!` names each implementor once, which gives it a field in `Desired`,
/// `Observed` and `Steps` and its place in the comparison and the apply order.
pub trait Resource {
    /// What the stack wants.
    type Spec: std::fmt::Debug + Clone + PartialEq;
    /// What AWS has (filled in by `aws`; `()` when it is part of the shared resources).
    type Observed: std::fmt::Debug + Clone + PartialEq + Default;
    /// What `apply` does.
    type Step: std::fmt::Debug + Clone + PartialEq;

    /// The spec the stack makes.
    fn desired(from: &Inputs<'_>) -> Self::Spec;

    /// Compare wanted and observed: add the kind's changes, problems and warnings to `w`, and
    /// return the step `apply` takes.
    fn compare(w: &mut Walk<'_>) -> Self::Step;

    /// What is decided once every kind has its step (e.g. the rule's attachment, which
    /// depends on the service's step). Nothing by default.
    fn settle(_w: &mut Walk<'_>, _steps: &mut super::Steps) {}

    /// True when the step only tags (nothing created, nothing else changed): what `adopt`
    /// promises about the file it writes.
    fn only_tags(step: &Self::Step) -> bool;
}

/// [`Resource::only_tags`] for a [`Step`]: keep, or an update that `tags_only` says only tags.
pub(crate) fn step_only_tags<E, U>(step: &Step<E, U>, tags_only: impl Fn(&U) -> bool) -> bool {
    match step {
        Step::Create => false,
        Step::Update(_, u) => tags_only(u),
        Step::Keep(_) => true,
    }
}
