//! The ECS service's comparison (with the task definition revision it runs and the target
//! group's attachment to a rule), autoscaling and the alarm, and the plan's warnings.

use super::super::fields::{diff, Diff, ServiceField, Value};
use super::super::observed::{ListenerRule, ObservedService};
use super::super::rules::{attach, Attach};
use super::super::scaling::{govern_count, plan_scaling, ScalingSteps};
use super::super::steps::{step, RuleStep, ServiceUpdate, Step};
use super::super::{Action, Kind};
use super::{change, owner_problem, short_arn_problem, Walk, CREDENTIAL_WORDS};
use crate::stack::stack_tag;

impl Walk<'_> {
    /// The ECS service (`td_changes`: a new task definition revision is registered); returns
    /// its step and the rule's, which attaches the target group when the service changes.
    pub(super) fn service(
        &mut self,
        td_changes: bool,
        own: Option<&ListenerRule>,
        rule_step: RuleStep,
    ) -> (Step<String, ServiceUpdate>, RuleStep) {
        let (desired, observed) = (self.desired, self.observed);
        let s = &desired.service;
        let o = observed.service.as_ref().filter(|o| o.status == "ACTIVE");
        if let Some(o) = o {
            self.service_problems(o);
        }
        let mut svc_fields = o
            .map(|o| diff(&s.fields(), &o.spec.fields()))
            .unwrap_or_default();
        if let Some(d) = o.and_then(|o| self.task_definition_diff(&o.task_definition, td_changes)) {
            svc_fields.insert(0, d);
        }
        govern_count(
            &mut svc_fields,
            desired.scaling.as_ref().map(|a| (a.min, a.max)),
        );
        let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
        let mut svc = change(Kind::Service, &s.name, o.is_some(), &svc_fields, adopt);
        let service_step = step(o.map(|o| o.arn.clone()), svc_fields);
        let mut rule_step = rule_step;
        if !matches!(service_step, Step::Keep(_)) {
            let tg_arn = observed.target_group.as_ref().map(|t| t.arn.as_str());
            let tg_name = &desired.target_group.name;
            match attach(&rule_step, own, &observed.shared.rules, tg_arn, tg_name) {
                Attach::Attached => {}
                Attach::Plan { step, note } => {
                    rule_step = step;
                    if let Some(c) = self
                        .changes
                        .iter_mut()
                        .find(|c| c.kind == Kind::ListenerRule)
                    {
                        c.action = Action::Update;
                        c.note = Some(note);
                    }
                }
                Attach::Refuse(problem) => self.problems.push(problem),
            }
        }
        if svc.action == Action::Create {
            svc.note = Some(self.new_service_note());
        }
        self.changes.push(svc);
        (service_step, rule_step)
    }

    /// What stops `up` for an existing service: another stack's, a short ARN it would tag, a
    /// launch type other than Fargate.
    fn service_problems(&mut self, o: &ObservedService) {
        let s = &self.desired.service;
        self.problems.extend(owner_problem(
            Kind::Service,
            &s.name,
            &o.tags,
            self.stack,
            "service",
        ));
        if let Some(p) = short_arn_problem(&s.name, &o.arn, &s.tags, &o.tags) {
            self.problems.push(p);
        }
        if !o.launch_type.is_empty() && o.launch_type != "FARGATE" {
            self.problems.push(format!(
                "ECS service `{}` uses launch type {}; mcpctl deploys on FARGATE and ECS cannot change it in place: delete the service or give the stack another `names.service`",
                s.name, o.launch_type
            ));
        }
    }

    /// The service's task definition difference: to the new revision (`td_changes`), or to the
    /// latest active one when it runs another.
    fn task_definition_diff(&self, running: &str, td_changes: bool) -> Option<Diff<ServiceField>> {
        let current = running.rsplit('/').next().unwrap_or(running).to_string();
        let latest = self
            .observed
            .task_definition
            .as_ref()
            .map(|t| format!("{}:{}", t.spec.family, t.revision));
        let to = if td_changes {
            format!("{}:(new revision)", self.desired.task_definition.family)
        } else if latest.as_deref() != Some(current.as_str()) {
            latest.unwrap_or_default()
        } else {
            return None;
        };
        Some(Diff {
            field: ServiceField::TaskDefinition,
            from: Some(Value::Text(current)),
            to: Some(Value::Text(to)),
        })
    }

    /// The note on a service to create: its tasks, and a DRAINING one of the same name.
    fn new_service_note(&self) -> String {
        let s = &self.desired.service;
        let draining = self
            .observed
            .service
            .as_ref()
            .is_some_and(|o| o.status == "DRAINING");
        format!(
            "{} task(s) on FARGATE in cluster {}{}",
            s.desired_count,
            s.cluster,
            if draining {
                "; ECS still has a deleted service of this name DRAINING: up waits until it is INACTIVE"
            } else {
                ""
            }
        )
    }

    /// Autoscaling and the rollback alarm.
    pub(super) fn scaling(&mut self) -> ScalingSteps {
        let (desired, observed) = (self.desired, self.observed);
        let s = &desired.service;
        let scaling = plan_scaling(
            desired.scaling.as_ref(),
            desired.alarm.as_ref(),
            (observed.scaling.as_ref(), observed.alarm.as_ref()),
            &observed.shared.alb.arn,
            observed.target_group.as_ref().map(|t| t.arn.as_str()),
            (&s.cluster, &s.name),
        );
        self.changes.extend(scaling.changes);
        self.warnings.extend(scaling.warnings);
        scaling.steps
    }

    /// A warning for each plain `env` name that looks like a credential.
    pub(super) fn credential_warnings(&mut self) {
        for (k, _) in &self.desired.task_definition.env {
            let upper = k.to_ascii_uppercase();
            if CREDENTIAL_WORDS.iter().any(|w| upper.contains(w)) {
                self.warnings.push(format!(
                    "env {k} looks like a credential but is given as plain `env` (visible in the task definition); put it under `secrets:` as a Secrets Manager or SSM parameter ARN"
                ));
            }
        }
    }
}
