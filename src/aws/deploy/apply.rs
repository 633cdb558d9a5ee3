//! Carrying out a plan's steps, one kind at a time, in dependency order. Each step returns
//! what the later ones need (the listener's, the target group's, the task definition's ARN).

use super::{Applied, Done, ImageSource};
use crate::aws::{
    alarm, ecr, iam_role, image, listener_rule, load_balancer, logs, scaling, service,
    target_group, task_definition, Clients,
};
use crate::error::{Error, Result};
use crate::plan::steps::{ListenerStep, RuleStep, Step, Steps, TaskDefinitionStep};
use crate::plan::{Action, Desired, Kind, Plan};

/// The changes made so far, in order.
#[derive(Default)]
struct Record(Vec<Done>);

impl Record {
    fn add(&mut self, kind: Kind, action: Action, name: &str, id: &str) {
        self.0.push(Done {
            kind,
            action,
            name: name.to_string(),
            id: id.to_string(),
        })
    }

    fn extend(&mut self, done: Vec<(Kind, Action, String)>) {
        for d in done {
            self.add(d.0, d.1, &d.2, &d.2);
        }
    }
}

/// Carry out `plan.steps` in dependency order. When the image is built here, the plan for the
/// resources after the repository is recomputed with its digest by `replan` (pure: the
/// planner over the same observed state); `apply` itself never looks at what was observed.
pub async fn apply(
    c: &Clients,
    desired: &Desired,
    plan: &Plan,
    image: ImageSource,
    replan: impl FnOnce(&Desired) -> Plan,
) -> Result<Applied> {
    let mut rec = Record::default();
    let listener_arn = listeners(c, &plan.steps, &mut rec).await?;
    let repo_uri = repository(c, desired, &plan.steps, &mut rec).await?;
    // Image: build and push now that the repository exists, then re-plan with the digest.
    let (desired, plan) = match &image {
        ImageSource::Given(_) => (desired.clone(), plan.clone()),
        ImageSource::Build(workspace) => {
            let uri = image::build_and_push(
                c,
                workspace,
                &desired.repository.name,
                &repo_uri,
                &desired.task_definition.cpu_architecture,
            )
            .await?;
            let mut d = desired.clone();
            d.task_definition.image = Some(uri);
            let p = replan(&d);
            (d, p)
        }
    };
    let steps = &plan.steps;
    log_group(c, &desired, steps, &mut rec).await?;
    task_role(c, &desired, steps, &mut rec).await?;
    let td_arn = task_definition(c, &desired, steps, &mut rec).await?;
    let tg_arn = target_group(c, &desired, steps, &mut rec).await?;
    rule(c, &desired, steps, &listener_arn, &tg_arn, &mut rec).await?;
    // The rollback alarm, before the service names it.
    let alb_arn = &steps.scaling.alb_arn;
    rec.extend(alarm::apply_before_service(c, &steps.scaling, alb_arn, &tg_arn).await?);
    let service_deploying = service(c, &desired, steps, &td_arn, &tg_arn, &mut rec).await?;
    // Autoscaling once the service exists; an alarm the service no longer names goes last.
    rec.extend(scaling::apply(c, &steps.scaling, &tg_arn).await?);
    rec.extend(alarm::apply_after_service(c, &steps.scaling).await?);
    Ok(Applied {
        done: rec.0,
        task_definition_arn: td_arn,
        image: desired.task_definition.image.clone(),
        service_deploying,
        target_group_arn: tg_arn,
        plan,
    })
}

/// The listener (its ARN) and the HTTP-to-HTTPS redirect listener.
async fn listeners(c: &Clients, steps: &Steps, rec: &mut Record) -> Result<String> {
    let listener_arn = match &steps.listener {
        ListenerStep::Keep { arn } => arn.clone(),
        ListenerStep::Create { alb_arn, listener } => {
            let l = load_balancer::create_listener(c, alb_arn, listener).await?;
            rec.add(Kind::Listener, Action::Create, &listener.label(), &l.arn);
            l.arn
        }
    };
    if let Some(redirect) = &steps.redirect {
        let l = load_balancer::create_redirect_listener(c, redirect).await?;
        rec.add(
            Kind::RedirectListener,
            Action::Create,
            &format!("HTTP:{}", redirect.port),
            &l.arn,
        );
    }
    Ok(listener_arn)
}

/// The ECR repository; its URI.
async fn repository(
    c: &Clients,
    desired: &Desired,
    steps: &Steps,
    rec: &mut Record,
) -> Result<String> {
    let repo = &desired.repository;
    Ok(match &steps.repository {
        Step::Create => {
            let uri = ecr::create(c, repo).await?;
            rec.add(Kind::Repository, Action::Create, &repo.name, &uri);
            uri
        }
        Step::Update(r, update) => {
            ecr::update(c, &r.arn, repo, update).await?;
            rec.add(Kind::Repository, Action::Update, &repo.name, &r.arn);
            r.uri.clone()
        }
        Step::Keep(r) => r.uri.clone(),
    })
}

/// The log group.
async fn log_group(c: &Clients, desired: &Desired, steps: &Steps, rec: &mut Record) -> Result<()> {
    let lg = &desired.log_group;
    match &steps.log_group {
        Step::Create => {
            logs::create(c, lg).await?;
            rec.add(Kind::LogGroup, Action::Create, &lg.name, &lg.name);
        }
        Step::Update(arn, update) => {
            logs::update(c, arn, lg, update).await?;
            rec.add(Kind::LogGroup, Action::Update, &lg.name, arn);
        }
        Step::Keep(_) => {}
    }
    Ok(())
}

/// The task role (managed ones only).
async fn task_role(c: &Clients, desired: &Desired, steps: &Steps, rec: &mut Record) -> Result<()> {
    if let (Some(spec), Some(step)) = (&desired.task_role, &steps.task_role) {
        match step {
            Step::Create => {
                let arn = iam_role::create(c, spec).await?;
                rec.add(Kind::TaskRole, Action::Create, &spec.name, &arn);
            }
            Step::Update(arn, update) => {
                iam_role::update(c, spec, update).await?;
                rec.add(Kind::TaskRole, Action::Update, &spec.name, arn);
            }
            Step::Keep(_) => {}
        }
    }
    Ok(())
}

/// The task definition; the ARN of the revision to run.
async fn task_definition(
    c: &Clients,
    desired: &Desired,
    steps: &Steps,
    rec: &mut Record,
) -> Result<String> {
    Ok(match &steps.task_definition {
        TaskDefinitionStep::Keep { arn } => arn.clone(),
        TaskDefinitionStep::Register { first } => {
            let (arn, rev) =
                task_definition::register(c, &desired.task_definition, &desired.repository.tags)
                    .await?;
            rec.add(
                Kind::TaskDefinition,
                if *first {
                    Action::Create
                } else {
                    Action::Update
                },
                &format!("{}:{rev}", desired.task_definition.family),
                &arn,
            );
            arn
        }
    })
}

/// The target group; its ARN.
async fn target_group(
    c: &Clients,
    desired: &Desired,
    steps: &Steps,
    rec: &mut Record,
) -> Result<String> {
    let tg = &desired.target_group;
    Ok(match &steps.target_group {
        Step::Create => {
            let arn = target_group::create(c, tg).await?;
            rec.add(Kind::TargetGroup, Action::Create, &tg.name, &arn);
            arn
        }
        Step::Update(arn, update) => {
            target_group::update(c, arn, tg, update).await?;
            rec.add(Kind::TargetGroup, Action::Update, &tg.name, arn);
            arn.clone()
        }
        Step::Keep(arn) => arn.clone(),
    })
}

/// The stack's listener rule on `listener_arn`, forwarding to `tg_arn`.
async fn rule(
    c: &Clients,
    desired: &Desired,
    steps: &Steps,
    listener_arn: &str,
    tg_arn: &str,
    rec: &mut Record,
) -> Result<()> {
    let rule_name = desired.rule.path_patterns.join(",");
    match &steps.rule {
        RuleStep::Create { priority } => {
            let arn =
                listener_rule::create(c, listener_arn, &desired.rule, *priority, tg_arn).await?;
            rec.add(
                Kind::ListenerRule,
                Action::Create,
                &format!("{rule_name} (priority {priority})"),
                &arn,
            );
        }
        RuleStep::Update { arn, update } => {
            listener_rule::update(c, arn, &desired.rule, tg_arn, update).await?;
            rec.add(Kind::ListenerRule, Action::Update, &rule_name, arn);
        }
        RuleStep::Attach { arn, forward } => {
            let forward = forward.with_group(tg_arn, 0).map_err(|e| {
                Error::refused(format!(
                    "cannot add target group {} to listener rule {rule_name}: {e}",
                    desired.target_group.name
                ))
            })?;
            listener_rule::RuleChange::SetForward {
                rule_arn: arn.clone(),
                forward,
            }
            .apply(c)
            .await?;
            rec.add(Kind::ListenerRule, Action::Update, &rule_name, arn);
        }
        RuleStep::Keep { .. } => {}
    }
    Ok(())
}

/// The ECS service; true when a deployment was started (to wait for).
async fn service(
    c: &Clients,
    desired: &Desired,
    steps: &Steps,
    td_arn: &str,
    tg_arn: &str,
    rec: &mut Record,
) -> Result<bool> {
    let svc = &desired.service;
    Ok(match &steps.service {
        Step::Create => {
            service::wait_not_draining(
                c,
                &svc.cluster,
                &svc.name,
                service::DRAINING_WAIT,
                std::time::Duration::from_secs(5),
            )
            .await?;
            let arn = service::create(c, svc, td_arn, tg_arn).await?;
            rec.add(Kind::Service, Action::Create, &svc.name, &arn);
            true
        }
        Step::Update(arn, update) => {
            let deploying = service::update(c, arn, svc, td_arn, tg_arn, update).await?;
            rec.add(Kind::Service, Action::Update, &svc.name, arn);
            deploying
        }
        Step::Keep(_) => false,
    })
}
