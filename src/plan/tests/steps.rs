//! The steps `apply` takes are decided here, from typed differences.

use super::super::steps::*;
use super::*;

#[test]
fn from_nothing_every_step_creates() {
    let d = desired(&stack("stateless"));
    let mut o = Observed {
        shared: shared(),
        ..Default::default()
    };
    o.shared.listener = None;
    let s = plan(&d, &o).steps;
    assert_eq!(
        s.listener.own,
        ListenerStep::Create {
            alb_arn: o.shared.alb.arn.clone(),
            listener: crate::plan::endpoint::ListenerSpec {
                port: 80,
                protocol: crate::stack::ListenerProtocol::Http,
                certificate_arn: None,
            },
        }
    );
    assert_eq!(s.repository, Step::Create);
    assert_eq!(s.log_group, Step::Create);
    assert_eq!(s.task_role, Some(Step::Create));
    assert_eq!(
        s.task_definition,
        TaskDefinitionStep::Register { first: true }
    );
    assert_eq!(s.target_group, Step::Create);
    assert_eq!(s.rule, RuleStep::Create { priority: 110 });
    assert_eq!(s.service, Step::Create);
}

#[test]
fn applied_state_keeps_everything_with_the_observed_identities() {
    let d = desired(&stack("stateless"));
    let s = plan(&d, &applied(&d)).steps;
    assert_eq!(
        s.listener.own,
        ListenerStep::Keep {
            arn: "listener/1".into()
        }
    );
    assert_eq!(
        s.repository,
        Step::Keep(RepositoryRef {
            arn: "repo".into(),
            uri: "uri".into()
        })
    );
    assert_eq!(s.log_group, Step::Keep("lg".into()));
    assert_eq!(
        s.task_definition,
        TaskDefinitionStep::Keep { arn: "td:3".into() }
    );
    assert_eq!(s.target_group, Step::Keep(TG_ARN.into()));
    assert_eq!(
        s.rule,
        RuleStep::Keep {
            arn: "rule/own".into()
        }
    );
    assert_eq!(s.service, Step::Keep("svc".into()));
}

#[test]
fn a_desired_count_change_is_one_update_service_part() {
    let mut s = stack("stateless");
    let d = desired(&s);
    let o = applied(&d);
    s.service.desired_count += 1;
    let p = plan(&desired(&s), &o);
    assert_eq!(
        p.steps.service,
        Step::Update(
            "svc".into(),
            ServiceUpdate {
                desired_count: Some(s.service.desired_count),
                ..Default::default()
            }
        )
    );
    assert_eq!(
        p.steps.task_definition,
        TaskDefinitionStep::Keep { arn: "td:3".into() }
    );
}

#[test]
fn an_env_change_registers_a_revision_and_points_the_service_at_it() {
    let s = stack("stateless");
    let o = applied(&desired(&s));
    let mut s2 = s.clone();
    s2.env
        .insert("MCP_ALLOWED_HOSTS".into(), "x.example".into());
    let steps = plan(&desired(&s2), &o).steps;
    assert_eq!(
        steps.task_definition,
        TaskDefinitionStep::Register { first: false }
    );
    assert_eq!(
        steps.service,
        Step::Update(
            "svc".into(),
            ServiceUpdate {
                task_definition: true,
                ..Default::default()
            }
        )
    );
}

/// Every comparable field of the service, changed alone, reaches exactly the call that
/// carries it: a field compared but not applied fails here.
#[test]
fn each_service_field_reaches_its_call() {
    type Edit = fn(&mut crate::plan::desired::ServiceSpec);
    let cases: [(Edit, ServiceUpdate); 11] = [
        (
            |s| s.desired_count = 7,
            ServiceUpdate {
                desired_count: Some(7),
                ..Default::default()
            },
        ),
        (
            |s| s.deployment_alarms = vec!["a-5xx-rollback".into()],
            ServiceUpdate {
                deployment: true,
                alarms: true,
                ..Default::default()
            },
        ),
        (
            |s| s.subnets.push("subnet-z".into()),
            ServiceUpdate {
                network: true,
                ..Default::default()
            },
        ),
        (
            |s| s.security_groups.push("sg-z".into()),
            ServiceUpdate {
                network: true,
                ..Default::default()
            },
        ),
        (
            |s| s.assign_public_ip = !s.assign_public_ip,
            ServiceUpdate {
                network: true,
                ..Default::default()
            },
        ),
        (
            |s| s.container_port += 1,
            ServiceUpdate {
                load_balancer: true,
                ..Default::default()
            },
        ),
        (
            |s| s.min_healthy_percent -= 1,
            ServiceUpdate {
                deployment: true,
                ..Default::default()
            },
        ),
        (
            |s| s.circuit_breaker_rollback = !s.circuit_breaker_rollback,
            ServiceUpdate {
                deployment: true,
                ..Default::default()
            },
        ),
        (
            |s| s.enable_execute_command = !s.enable_execute_command,
            ServiceUpdate {
                execute_command: true,
                ..Default::default()
            },
        ),
        (
            |s| s.health_check_grace_period_seconds += 1,
            ServiceUpdate {
                grace_period: true,
                ..Default::default()
            },
        ),
        (
            |s| s.tags.push(("team".into(), "x".into())),
            ServiceUpdate {
                tags: true,
                ..Default::default()
            },
        ),
    ];
    let d = desired(&stack("stateless"));
    let o = applied(&d);
    for (edit, want) in cases {
        let mut d2 = d.clone();
        edit(&mut d2.service);
        let p = plan(&d2, &o);
        assert_eq!(p.steps.service, Step::Update("svc".into(), want.clone()));
        assert_eq!(want.deploys(), !want.tags);
    }
}

#[test]
fn each_target_group_field_reaches_its_call() {
    type Edit = fn(&mut crate::plan::desired::TargetGroupSpec);
    let hc = TargetGroupUpdate {
        health_check: true,
        ..Default::default()
    };
    let cases: [(Edit, TargetGroupUpdate); 8] = [
        (|g| g.health_check_path = "/other".into(), hc.clone()),
        (|g| g.interval += 1, hc.clone()),
        (|g| g.timeout += 1, hc.clone()),
        (|g| g.healthy_threshold += 1, hc.clone()),
        (|g| g.unhealthy_threshold += 1, hc.clone()),
        (|g| g.matcher = "200-299".into(), hc.clone()),
        (
            |g| g.deregistration_delay += 1,
            TargetGroupUpdate {
                deregistration_delay: true,
                ..Default::default()
            },
        ),
        (
            |g| g.tags.push(("team".into(), "x".into())),
            TargetGroupUpdate {
                tags: true,
                ..Default::default()
            },
        ),
    ];
    let d = desired(&stack("stateless"));
    let o = applied(&d);
    for (edit, want) in cases {
        let mut d2 = d.clone();
        edit(&mut d2.target_group);
        assert_eq!(
            plan(&d2, &o).steps.target_group,
            Step::Update(TG_ARN.into(), want)
        );
    }
}

#[test]
fn an_edited_path_pattern_modifies_the_rule_conditions_only() {
    let s = stack("stateless");
    let o = applied(&desired(&s));
    let mut s2 = s.clone();
    s2.routing.path_patterns = vec!["/mcp-stateless/*".into()];
    assert_eq!(
        plan(&desired(&s2), &o).steps.rule,
        RuleStep::Update {
            arn: "rule/own".into(),
            update: RuleUpdate {
                conditions: true,
                ..Default::default()
            }
        }
    );
}

#[test]
fn an_edited_priority_moves_the_rule_or_the_plan_says_why_not() {
    let s = stack("stateless");
    let o = applied(&desired(&s));
    let mut s2 = s.clone();
    s2.routing.priority = Some(120);
    let p = plan(&desired(&s2), &o);
    assert_eq!(
        p.steps.rule,
        RuleStep::Update {
            arn: "rule/own".into(),
            update: RuleUpdate {
                priority: Some(120),
                ..Default::default()
            }
        }
    );
    assert_eq!(p.rule_priority, Some(120));
    let rule = p
        .changes
        .iter()
        .find(|c| c.kind == Kind::ListenerRule)
        .unwrap();
    assert_eq!(rule.action, Action::Update, "{rule:?}");

    // 120 is another rule's: the rule keeps 110 and the plan says why.
    let mut o2 = o.clone();
    o2.shared.rules.insert(
        1,
        ListenerRule {
            arn: "rule/other".into(),
            priority: Some(120),
            path_patterns: vec!["/other/*".into()],
            actions: vec![],
            tags: vec![],
        },
    );
    let p = plan(&desired(&s2), &o2);
    assert_eq!(
        p.steps.rule,
        RuleStep::Keep {
            arn: "rule/own".into()
        }
    );
    let note = p
        .changes
        .iter()
        .find(|c| c.kind == Kind::ListenerRule)
        .and_then(|c| c.note.clone())
        .unwrap();
    assert!(
        note.contains("keeps priority 110, not the stack's 120: another rule (/other/*) has 120"),
        "{note}"
    );
}

#[test]
fn a_rule_with_the_same_path_owned_by_another_stack_is_a_problem_not_a_takeover() {
    let s = stack("stateless");
    let mut o = applied(&desired(&s));
    for (k, v) in o.shared.rules[0].tags.iter_mut() {
        if k == "mcpctl:stack" {
            *v = "stateful".into();
        }
    }
    let p = plan(&desired(&s), &o);
    assert!(
        p.problems.iter().any(|m| m.starts_with(
            "listener rule /ossserver-stateless/* (priority 110) belongs to stack `stateful`"
        )),
        "{:?}",
        p.problems
    );
}

#[test]
fn a_widened_domain_puts_the_role_policy_only() {
    let s = stack("stateless");
    let o = applied(&desired(&s));
    let mut s2 = s.clone();
    s2.roles
        .managed_task_role
        .as_mut()
        .unwrap()
        .opensearch_domain_arn = Some("arn:aws:es:us-east-1:123456789012:domain/other".into());
    assert_eq!(
        plan(&desired(&s2), &o).steps.task_role,
        Some(Step::Update(
            "arn:aws:iam::123456789012:role/ecsTaskRole".into(),
            TaskRoleUpdate {
                policy: true,
                ..Default::default()
            }
        ))
    );
}
