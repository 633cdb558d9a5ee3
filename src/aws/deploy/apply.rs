//! Carrying out a plan's steps, kind by kind in the order of the one list
//! (`plan::resources!`): each kind's module in `crate::aws` implements [`Deploy`] for the
//! kind's type, which observes it and applies its step ([`crate::plan::Steps`]), keeping what
//! later kinds need (the listener's, the target group's, the task definition's ARN) in
//! [`Applying`].

use super::{Applied, ImageSource, Record};
use crate::aws::{image, Clients};
use crate::error::Result;
use crate::plan::kinds::Resource;
use crate::plan::observed::Shared;
use crate::plan::{Desired, Observed, Plan, Steps};
use crate::stack::Stack;

/// One resource kind's AWS part, implemented in its module in `crate::aws` for the kind's type
/// in `crate::plan`. A kind in the list without it does not compile.
pub(crate) trait Deploy: Resource {
    /// What exists for `stack`; `so_far` holds the shared resources and the kinds listed
    /// before this one (the service is read with its target group, autoscaling with the
    /// service).
    async fn observe(c: &Clients, stack: &Stack, so_far: &Observed) -> Result<Self::Observed>;

    /// Carry out the kind's step in `steps` for what `desired` wants, recording each change in
    /// `run` and leaving there what later kinds need.
    async fn apply(run: &mut Applying<'_>, desired: &Desired, steps: &Steps) -> Result<()>;
}

/// What the kinds applied so far made, for the later ones.
pub(crate) struct Applying<'a> {
    /// The AWS clients.
    pub c: &'a Clients,
    /// Each change made, in order.
    pub rec: Record,
    /// The stack's listener.
    pub listener_arn: String,
    /// The ECR repository's URI.
    pub repo_uri: String,
    /// The task definition revision the service runs.
    pub td_arn: String,
    /// The target group.
    pub tg_arn: String,
    /// True when the service was created or its deployment changed.
    pub service_deploying: bool,
}

/// A plan being applied: what is wanted, the steps, and what the kinds applied so far gave
/// the later ones.
struct Run<'a, R> {
    ctx: Applying<'a>,
    desired: Desired,
    plan: Plan,
    image: ImageSource,
    /// Re-plans with the built image's digest (taken once, after the repository).
    replan: Option<R>,
}

/// The AWS part generated from the one list: observing every kind a stack owns, and applying
/// every step, in the list's order.
macro_rules! deploy {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty {
        $($(#[doc = $kdoc:literal])* $kind:ident $label:literal,)+
    })*) => {
        /// What the stack owns, each kind read by its module's [`Deploy::observe`] (the same
        /// reads `status`, `cleanup` and `adopt` use), in the list's order.
        pub(super) async fn observe_owned(c: &Clients, stack: &Stack, shared: Shared) -> Result<Observed> {
            let mut o = Observed { shared, ..Default::default() };
            $(o.$field = <$ty as Deploy>::observe(c, stack, &o).await?;)*
            Ok(o)
        }

        impl<R: FnOnce(&Desired) -> Plan> Run<'_, R> {
            /// Apply every kind's step in the list's order; the image is built as soon as its
            /// repository exists.
            async fn apply_all(&mut self) -> Result<()> {
                $(
                    <$ty as Deploy>::apply(&mut self.ctx, &self.desired, &self.plan.steps).await?;
                    self.build_image().await?;
                )*
                Ok(())
            }
        }
    };
}

crate::plan::resources!(deploy);

/// Carry out `plan.steps` in the list's order. When the image is built here, the plan for the
/// resources after the repository is recomputed with its digest by `replan` (pure: the planner
/// over the same observed state); `apply` itself never looks at what was observed.
pub async fn apply(
    c: &Clients,
    desired: &Desired,
    plan: &Plan,
    image: ImageSource,
    replan: impl FnOnce(&Desired) -> Plan,
) -> Result<Applied> {
    let mut run = Run {
        ctx: Applying {
            c,
            rec: Record::default(),
            listener_arn: String::new(),
            repo_uri: String::new(),
            td_arn: String::new(),
            tg_arn: String::new(),
            service_deploying: false,
        },
        desired: desired.clone(),
        plan: plan.clone(),
        image,
        replan: Some(replan),
    };
    run.apply_all().await?;
    Ok(Applied {
        done: run.ctx.rec.into_done(),
        task_definition_arn: run.ctx.td_arn,
        image: run.desired.task_definition.image.clone(),
        service_deploying: run.ctx.service_deploying,
        target_group_arn: run.ctx.tg_arn,
        plan: run.plan,
    })
}

impl<R: FnOnce(&Desired) -> Plan> Run<'_, R> {
    /// Once the repository exists (its URI known), build and push the image when `up` builds
    /// it, then re-plan with its digest. Once.
    async fn build_image(&mut self) -> Result<()> {
        let ImageSource::Build(workspace) = &self.image else {
            return Ok(());
        };
        if self.ctx.repo_uri.is_empty() || self.replan.is_none() {
            return Ok(());
        }
        let d = &self.desired;
        let uri = image::build_and_push(
            self.ctx.c,
            workspace,
            &d.repository.name,
            &self.ctx.repo_uri,
            &d.task_definition.cpu_architecture,
        )
        .await?;
        self.desired.task_definition.image = Some(uri);
        if let Some(replan) = self.replan.take() {
            self.plan = replan(&self.desired);
        }
        Ok(())
    }
}
