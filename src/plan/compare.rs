//! The comparison itself: [`plan`] walks the resources in apply order, lists what differs (for
//! people) and decides the step `apply` takes for each (for the machine), from the same typed
//! differences.

use super::desired::{self, Desired};
use super::fields::{diff, Diff, Field, RuleField, ServiceField, TargetGroupFixedField, Value};
use super::observed::Observed;
use super::rules::{attach, choose_priority, rule_change, Attach};
use super::steps::{step, RepositoryRef, RuleStep, Step, Steps, TaskDefinitionStep};
use super::{Action, Change, Kind, Plan};
use crate::stack::stack_tag;

/// One resource's [`Change`] from its field differences (`adopt`: it exists untagged).
pub(super) fn change<F: Field>(
    kind: Kind,
    name: &str,
    exists: bool,
    fields: &[Diff<F>],
    adopt: bool,
) -> Change {
    let action = match (exists, fields.is_empty()) {
        (false, _) => Action::Create,
        (true, true) => Action::Unchanged,
        (true, false) => Action::Update,
    };
    Change {
        kind,
        name: name.to_string(),
        action,
        fields: if exists {
            fields.iter().map(Diff::shown).collect()
        } else {
            Vec::new()
        },
        adopt,
        note: None,
    }
}

fn owner_problem(
    kind: Kind,
    name: &str,
    tags: &[(String, String)],
    stack: &str,
    key: &str,
) -> Option<String> {
    match stack_tag(tags) {
        Some(other) if other != stack => Some(format!(
            "{} `{name}` belongs to stack `{other}` (tag mcpctl:stack={other}); give stack `{stack}` its own `names.{key}`",
            kind.label()
        )),
        _ => None,
    }
}

/// True for an ECS service ARN in the short format (`service/NAME`, from before the long
/// `service/CLUSTER/NAME` format).
pub fn is_short_service_arn(arn: &str) -> bool {
    arn.split_once(":service/")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.contains('/'))
}

/// A service with a short ARN cannot be tagged ("If you try to tag a service with a short ARN,
/// you receive an InvalidParameterException",
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TagResource.html>), and
/// mcpctl marks what it manages with tags: when the plan would tag it, stop before any call.
fn short_arn_problem(
    name: &str,
    arn: &str,
    want: &[(String, String)],
    have: &[(String, String)],
) -> Option<String> {
    if !is_short_service_arn(arn) || want.iter().all(|t| have.contains(t)) {
        return None;
    }
    Some(format!(
        "ECS service `{name}` has a short ARN ({arn}), from before ECS's long ARN format, and ECS refuses to tag such a service (TagResource: InvalidParameterException), while mcpctl marks what it manages with tags; opt the account in with `aws ecs put-account-setting --name serviceLongArnFormat --value enabled` and recreate the service, or deploy the stack beside it under another `names.service`; nothing was tagged"
    ))
}

/// Words in an env name that suggest a credential.
const CREDENTIAL_WORDS: [&str; 4] = ["PASSWORD", "SECRET", "TOKEN", "KEY"];

/// The plan: pure comparison of `desired` with `observed`.
pub fn plan(desired: &Desired, observed: &Observed) -> Plan {
    let stack = desired.stack.as_str();
    let mut changes = Vec::new();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    // Listeners (the stack's, and for HTTPS the HTTP:80 redirect).
    let listeners = super::endpoint::plan_listeners(desired, observed);
    changes.extend(listeners.changes);
    problems.extend(listeners.problems);
    warnings.extend(listeners.warnings);
    let listener_step = listeners.step;
    let redirect_step = listeners.redirect;

    // ECR repository.
    let r = &desired.repository;
    let o = observed.repository.as_ref();
    if let Some(o) = o {
        problems.extend(owner_problem(
            Kind::Repository,
            &r.name,
            &o.tags,
            stack,
            "ecr_repository",
        ));
    }
    let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
    let diffs = o
        .map(|o| diff(&r.fields(), &o.spec.fields()))
        .unwrap_or_default();
    changes.push(change(
        Kind::Repository,
        &r.name,
        o.is_some(),
        &diffs,
        adopt,
    ));
    let repository_step = step(
        o.map(|o| RepositoryRef {
            arn: o.arn.clone(),
            uri: o.uri.clone(),
        }),
        diffs,
    );

    // Log group.
    let l = &desired.log_group;
    let o = observed.log_group.as_ref();
    if let Some(o) = o {
        problems.extend(owner_problem(
            Kind::LogGroup,
            &l.name,
            &o.tags,
            stack,
            "log_group",
        ));
    }
    let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
    let diffs = o
        .map(|o| diff(&l.fields(), &o.spec.fields()))
        .unwrap_or_default();
    changes.push(change(Kind::LogGroup, &l.name, o.is_some(), &diffs, adopt));
    let log_group_step = step(o.map(|o| o.arn.clone()), diffs);

    // Task role (when the stack manages one).
    let mut task_role_step = None;
    if let Some(r) = &desired.task_role {
        let o = observed.task_role.as_ref();
        let adopt = o.is_some_and(|o| {
            !o.spec
                .tags
                .iter()
                .any(|(k, _)| k == desired::MANAGED_ROLE_TAG)
        });
        let diffs = o
            .map(|o| diff(&r.fields(), &o.spec.fields()))
            .unwrap_or_default();
        changes.push(change(Kind::TaskRole, &r.name, o.is_some(), &diffs, adopt));
        task_role_step = Some(step(o.map(|o| o.arn.clone()), diffs));
    }

    // Task definition.
    let t = &desired.task_definition;
    let o = observed.task_definition.as_ref();
    let td_fields = o.map(|o| {
        let mut have = o.spec.fields();
        if t.image.is_none() {
            have.retain(|(k, _)| *k != super::fields::TaskDefinitionField::Image);
        }
        diff(&t.fields(), &have)
    });
    let td_name = match o {
        Some(o) => format!("{}:{}", t.family, o.revision),
        None => t.family.clone(),
    };
    let mut td = change(
        Kind::TaskDefinition,
        &td_name,
        o.is_some(),
        &td_fields.unwrap_or_default(),
        false,
    );
    if t.image.is_none() {
        td.note = Some(
            "image: built from server/ and pushed by `up`; a new digest registers a new revision"
                .into(),
        );
    }
    if td.action != Action::Unchanged {
        // The number is AWS's to give: deregistered and inactive revisions count too, so the
        // latest active one plus one is only a guess.
        let note = match o {
            Some(o) => format!(
                "registers a new revision of {} (the latest active is :{})",
                t.family, o.revision
            ),
            None => format!("registers a new revision of {}", t.family),
        };
        td.note = Some(match td.note.take() {
            Some(n) => format!("{note}; {n}"),
            None => note,
        });
    }
    let td_changes = td.action != Action::Unchanged;
    let task_definition_step = match o {
        Some(o) if !td_changes => TaskDefinitionStep::Keep { arn: o.arn.clone() },
        _ => TaskDefinitionStep::Register { first: o.is_none() },
    };
    changes.push(td);

    // Target group.
    let g = &desired.target_group;
    let o = observed.target_group.as_ref();
    if let Some(o) = o {
        problems.extend(owner_problem(
            Kind::TargetGroup,
            &g.name,
            &o.tags,
            stack,
            "target_group",
        ));
        let mut have = o.spec.fixed_fields();
        for (k, v) in have.iter_mut() {
            match k {
                TargetGroupFixedField::Protocol => *v = Value::from(&o.protocol),
                TargetGroupFixedField::TargetType => *v = Value::from(&o.target_type),
                TargetGroupFixedField::Port | TargetGroupFixedField::VpcId => {}
            }
        }
        for fc in diff(&g.fixed_fields(), &have).iter().map(Diff::shown) {
            problems.push(format!(
                "target group `{}` has {} {} but the stack needs {}; AWS cannot change that on an existing target group: move traffic off it and delete it, or give the stack another `names.target_group`",
                g.name,
                fc.field,
                fc.from,
                fc.to
            ));
        }
    }
    let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
    let diffs = o
        .map(|o| diff(&g.fields(), &o.spec.fields()))
        .unwrap_or_default();
    changes.push(change(
        Kind::TargetGroup,
        &g.name,
        o.is_some(),
        &diffs,
        adopt,
    ));
    let target_group_step = step(o.map(|o| o.arn.clone()), diffs);

    // Listener rule.
    let want = &desired.rule;
    let tg_arn = observed.target_group.as_ref().map(|t| t.arn.as_str());
    let own =
        crate::model::rule::own_rule(&observed.shared.rules, &want.path_patterns, tg_arn, stack);
    let rule_name = want.path_patterns.join(",");
    // A rule with the stack's paths that another stack owns is that stack's: taking it over
    // (ModifyRule, retag) would move its traffic with no record to roll back to. A rule that
    // cutover routes (handed over by cleanup) is left to cutover/rollback, as below.
    if let Some(rule) = own.filter(|r| !r.routed_by_cutover()) {
        if let Some(other) = stack_tag(&rule.tags).filter(|o| *o != stack) {
            problems.push(format!(
                "listener rule {} (priority {}) belongs to stack `{other}` (tag mcpctl:stack={other}); a path serves one stack: give stack `{stack}` its own `routing.path_patterns`, or move traffic with `mcpctl cutover --from {other} --to {stack}`",
                rule.path_patterns.join(","),
                rule.priority.map_or("default".to_string(), |p| p.to_string())
            ));
        }
    }
    let (rule_change, priority, rule_step) = match own {
        Some(rule) => {
            let (c, s) = rule_change(want, rule, tg_arn, &rule_name, &observed.shared.rules);
            let priority = match &s {
                RuleStep::Update { update, .. } => update.priority.or(rule.priority),
                _ => rule.priority,
            };
            (c, priority, s)
        }
        None => {
            let used: Vec<i32> = observed
                .shared
                .rules
                .iter()
                .filter_map(|r| r.priority)
                .collect();
            let p = choose_priority(want.preferred_priority, &used);
            let mut c = change::<RuleField>(Kind::ListenerRule, &rule_name, false, &[], false);
            c.note = Some(match want.preferred_priority {
                Some(pref) if pref == p => {
                    format!("priority {p}, forward to {}", want.target_group)
                }
                Some(pref) => format!(
                    "priority {p} ({pref} is taken), forward to {}",
                    want.target_group
                ),
                None => format!("priority {p} (next free), forward to {}", want.target_group),
            });
            (c, Some(p), RuleStep::Create { priority: p })
        }
    };
    changes.push(rule_change);

    // Service.
    let s = &desired.service;
    let o = observed.service.as_ref().filter(|o| o.status == "ACTIVE");
    if let Some(o) = o {
        problems.extend(owner_problem(
            Kind::Service,
            &s.name,
            &o.tags,
            stack,
            "service",
        ));
        if let Some(p) = short_arn_problem(&s.name, &o.arn, &s.tags, &o.tags) {
            problems.push(p);
        }
        if !o.launch_type.is_empty() && o.launch_type != "FARGATE" {
            problems.push(format!(
                "ECS service `{}` uses launch type {}; mcpctl deploys on FARGATE and ECS cannot change it in place: delete the service or give the stack another `names.service`",
                s.name, o.launch_type
            ));
        }
    }
    let mut svc_fields = o
        .map(|o| diff(&s.fields(), &o.spec.fields()))
        .unwrap_or_default();
    if let Some(o) = o {
        let current = o
            .task_definition
            .rsplit('/')
            .next()
            .unwrap_or(&o.task_definition)
            .to_string();
        let latest = observed
            .task_definition
            .as_ref()
            .map(|t| format!("{}:{}", t.spec.family, t.revision));
        if td_changes {
            svc_fields.insert(
                0,
                Diff {
                    field: ServiceField::TaskDefinition,
                    from: Some(Value::Text(current)),
                    to: Some(Value::Text(format!("{}:(new revision)", t.family))),
                },
            );
        } else if latest.as_deref() != Some(current.as_str()) {
            svc_fields.insert(
                0,
                Diff {
                    field: ServiceField::TaskDefinition,
                    from: Some(Value::Text(current)),
                    to: Some(Value::Text(latest.unwrap_or_default())),
                },
            );
        }
    }
    super::scaling::govern_count(
        &mut svc_fields,
        desired.scaling.as_ref().map(|a| (a.min, a.max)),
    );
    let adopt = o.is_some_and(|o| stack_tag(&o.tags).is_none());
    let mut svc = change(Kind::Service, &s.name, o.is_some(), &svc_fields, adopt);
    let service_step = step(o.map(|o| o.arn.clone()), svc_fields);
    let mut rule_step = rule_step;
    if !matches!(service_step, Step::Keep(_)) {
        match attach(&rule_step, own, &observed.shared.rules, tg_arn, &g.name) {
            Attach::Attached => {}
            Attach::Plan { step, note } => {
                rule_step = step;
                if let Some(c) = changes.iter_mut().find(|c| c.kind == Kind::ListenerRule) {
                    c.action = Action::Update;
                    c.note = Some(note);
                }
            }
            Attach::Refuse(problem) => problems.push(problem),
        }
    }
    if svc.action == Action::Create {
        let draining = observed
            .service
            .as_ref()
            .is_some_and(|o| o.status == "DRAINING");
        svc.note = Some(format!(
            "{} task(s) on FARGATE in cluster {}{}",
            s.desired_count,
            s.cluster,
            if draining {
                "; ECS still has a deleted service of this name DRAINING: up waits until it is INACTIVE"
            } else {
                ""
            }
        ));
    }
    changes.push(svc);

    // Autoscaling and the rollback alarm.
    let scaling = super::scaling::plan_scaling(
        desired.scaling.as_ref(),
        desired.alarm.as_ref(),
        (observed.scaling.as_ref(), observed.alarm.as_ref()),
        &observed.shared.alb.arn,
        tg_arn,
        (&s.cluster, &s.name),
    );
    changes.extend(scaling.changes);
    warnings.extend(scaling.warnings);

    for (k, _) in &desired.task_definition.env {
        let upper = k.to_ascii_uppercase();
        if CREDENTIAL_WORDS.iter().any(|w| upper.contains(w)) {
            warnings.push(format!(
                "env {k} looks like a credential but is given as plain `env` (visible in the task definition); put it under `secrets:` as a Secrets Manager or SSM parameter ARN"
            ));
        }
    }

    Plan {
        stack: stack.to_string(),
        changes,
        problems,
        warnings,
        rule_priority: priority,
        rule_arn: own.map(|r| r.arn.clone()),
        steps: Steps {
            listener: listener_step,
            redirect: redirect_step,
            repository: repository_step,
            log_group: log_group_step,
            task_role: task_role_step,
            task_definition: task_definition_step,
            target_group: target_group_step,
            rule: rule_step,
            service: service_step,
            scaling: scaling.steps,
        },
    }
}
