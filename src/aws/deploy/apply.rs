//! Carrying out a plan's steps, one kind at a time, in the order [`ORDER`] lists: each kind's
//! module in `crate::aws` applies its own step ([`crate::plan::Steps`]) and returns what the
//! later ones need (the listener's, the target group's, the task definition's ARN), kept in
//! `Run`.

use super::{Applied, ImageSource, Record};
use crate::aws::{
    alarm, ecr, iam_role, image, listener_rule, load_balancer, logs, scaling, service,
    target_group, task_definition, Clients,
};
use crate::error::Result;
use crate::plan::{Desired, Kind, Plan};

/// The order `up` applies a plan in: the one list, [`Kind::APPLY_ORDER`] (written once, with
/// each kind's label, in `crate::plan`). Each kind is applied by its module in `crate::aws`,
/// called from its arm in `Run::apply_kind` (the match is exhaustive, so a kind without an arm
/// does not compile). The rollback alarm comes before the service that names it; one the stack
/// no longer wants is deleted after the service stopped naming it (`Run::remove_unwanted`).
pub const ORDER: &[Kind] = Kind::APPLY_ORDER;

/// A plan being applied: what is wanted, the steps, and what the kinds applied so far gave
/// the later ones.
struct Run<'a, R> {
    c: &'a Clients,
    desired: Desired,
    plan: Plan,
    image: ImageSource,
    /// Re-plans with the built image's digest (taken once, after the repository).
    replan: Option<R>,
    rec: Record,
    listener_arn: String,
    repo_uri: String,
    td_arn: String,
    tg_arn: String,
    service_deploying: bool,
}

/// Carry out `plan.steps` in the order [`ORDER`] lists. When the image is built here, the plan
/// for the resources after the repository is recomputed with its digest by `replan` (pure: the
/// planner over the same observed state); `apply` itself never looks at what was observed.
pub async fn apply(
    c: &Clients,
    desired: &Desired,
    plan: &Plan,
    image: ImageSource,
    replan: impl FnOnce(&Desired) -> Plan,
) -> Result<Applied> {
    let mut run = Run {
        c,
        desired: desired.clone(),
        plan: plan.clone(),
        image,
        replan: Some(replan),
        rec: Record::default(),
        listener_arn: String::new(),
        repo_uri: String::new(),
        td_arn: String::new(),
        tg_arn: String::new(),
        service_deploying: false,
    };
    for &kind in ORDER {
        run.apply_kind(kind).await?;
    }
    run.remove_unwanted().await?;
    Ok(Applied {
        done: run.rec.into_done(),
        task_definition_arn: run.td_arn,
        image: run.desired.task_definition.image.clone(),
        service_deploying: run.service_deploying,
        target_group_arn: run.tg_arn,
        plan: run.plan,
    })
}

impl<R: FnOnce(&Desired) -> Plan> Run<'_, R> {
    /// Apply one kind's step, through its module in `crate::aws`.
    async fn apply_kind(&mut self, kind: Kind) -> Result<()> {
        let (c, d, rec) = (self.c, &self.desired, &mut self.rec);
        let steps = &self.plan.steps;
        match kind {
            Kind::Listener => {
                self.listener_arn = load_balancer::apply_listener(c, &steps.listener, rec).await?
            }
            Kind::RedirectListener => {
                load_balancer::apply_redirect(c, steps.redirect.as_ref(), rec).await?
            }
            Kind::Repository => {
                self.repo_uri = ecr::apply(c, &d.repository, &steps.repository, rec).await?;
                self.build_image().await?;
            }
            Kind::LogGroup => logs::apply(c, &d.log_group, &steps.log_group, rec).await?,
            Kind::TaskRole => {
                iam_role::apply(c, d.task_role.as_ref(), steps.task_role.as_ref(), rec).await?
            }
            Kind::TaskDefinition => {
                let (td, tags) = (&d.task_definition, &d.repository.tags);
                self.td_arn =
                    task_definition::apply(c, td, tags, &steps.task_definition, rec).await?
            }
            Kind::TargetGroup => {
                self.tg_arn =
                    target_group::apply(c, &d.target_group, &steps.target_group, rec).await?
            }
            Kind::ListenerRule => {
                let arns = (self.listener_arn.as_str(), self.tg_arn.as_str());
                let to = (arns.0, arns.1, d.target_group.name.as_str());
                listener_rule::apply(c, &d.rule, &steps.rule, to, rec).await?
            }
            Kind::Alarm => {
                let (s, tg) = (&steps.scaling, self.tg_arn.as_str());
                rec.extend(alarm::apply_before_service(c, s, &s.alb_arn, tg).await?)
            }
            Kind::Service => {
                let arns = (self.td_arn.as_str(), self.tg_arn.as_str());
                self.service_deploying =
                    service::apply(c, &d.service, &steps.service, arns, rec).await?
            }
            // The policies are put on the scalable target, with it.
            Kind::ScalableTarget => {
                rec.extend(scaling::apply(c, &steps.scaling, &self.tg_arn).await?)
            }
            Kind::ScalingPolicy => {}
        }
        Ok(())
    }

    /// Build and push the image now that the repository exists, then re-plan with its digest.
    async fn build_image(&mut self) -> Result<()> {
        let ImageSource::Build(workspace) = &self.image else {
            return Ok(());
        };
        let d = &self.desired;
        let uri = image::build_and_push(
            self.c,
            workspace,
            &d.repository.name,
            &self.repo_uri,
            &d.task_definition.cpu_architecture,
        )
        .await?;
        self.desired.task_definition.image = Some(uri);
        if let Some(replan) = self.replan.take() {
            self.plan = replan(&self.desired);
        }
        Ok(())
    }

    /// What the stack no longer wants and had to outlive the service's change: the rollback
    /// alarm, once the service stopped naming it.
    async fn remove_unwanted(&mut self) -> Result<()> {
        let steps = &self.plan.steps.scaling;
        self.rec
            .extend(alarm::apply_after_service(self.c, steps).await?);
        Ok(())
    }
}
