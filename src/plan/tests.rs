//! The plan is pure: these tests build desired and observed states by hand.

use super::observed::*;
use super::rules::choose_priority;
use super::*;
use crate::model::forward::{Forward, WeightedGroup};

mod attach;
mod scaling;
use crate::stack::{load_with_env, Stack};

fn stack(name: &str) -> Stack {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stacks");
    load_with_env(name, &dir, &|k| {
        (k == "AWS_ACCOUNT_ID").then(|| "123456789012".to_string())
    })
    .unwrap()
}

fn shared() -> Shared {
    Shared {
        cluster_arn: "arn:aws:ecs:us-east-1:123456789012:cluster/fastmcp-time-server-cluster"
            .into(),
        alb: Alb {
            arn:
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fastmcp-alb/1"
                    .into(),
            name: "fastmcp-alb".into(),
            dns_name: "fastmcp-alb-1.us-east-1.elb.amazonaws.com".into(),
            vpc_id: "vpc-1".into(),
            subnets: vec!["subnet-b".into(), "subnet-a".into()],
            security_groups: vec!["sg-1".into()],
        },
        listener: Some(Listener {
            arn: "listener/1".into(),
            port: 80,
            protocol: "HTTP".into(),
            certificates: Vec::new(),
        }),
        rules: vec![ListenerRule {
            arn: "default".into(),
            priority: None,
            path_patterns: vec![],
            actions: vec![],
            tags: vec![],
        }],
        http_listener: None,
        certificate: None,
    }
}

const TG_ARN: &str = "arn:tg/opensearch-mcp-tg-stateless";

/// What AWS would hold after `up` applied `d`.
fn applied(d: &Desired) -> Observed {
    let mut shared = shared();
    shared.rules.insert(
        0,
        ListenerRule {
            arn: "rule/own".into(),
            priority: Some(110),
            path_patterns: d.rule.path_patterns.clone(),
            actions: vec![crate::model::RuleAction::forward_to(TG_ARN)],
            tags: d.rule.tags.clone(),
        },
    );
    Observed {
        shared,
        task_role: d.task_role.as_ref().map(|r| ObservedTaskRole {
            arn: "arn:aws:iam::123456789012:role/ecsTaskRole".into(),
            spec: r.clone(),
        }),
        repository: Some(ObservedRepository {
            arn: "repo".into(),
            uri: "uri".into(),
            spec: d.repository.clone(),
            tags: d.repository.tags.clone(),
        }),
        log_group: Some(ObservedLogGroup {
            arn: "lg".into(),
            spec: d.log_group.clone(),
            tags: d.log_group.tags.clone(),
        }),
        task_definition: Some(ObservedTaskDefinition {
            arn: "td:3".into(),
            revision: 3,
            spec: d.task_definition.clone(),
        }),
        target_group: Some(ObservedTargetGroup {
            arn: TG_ARN.into(),
            protocol: "HTTP".into(),
            target_type: "ip".into(),
            spec: d.target_group.clone(),
            tags: d.target_group.tags.clone(),
        }),
        service: Some(ObservedService {
            arn: "svc".into(),
            status: "ACTIVE".into(),
            task_definition: format!(
                "arn:aws:ecs:us-east-1:123456789012:task-definition/{}:3",
                d.task_definition.family
            ),
            launch_type: "FARGATE".into(),
            spec: d.service.clone(),
            tags: d.service.tags.clone(),
        }),
        scaling: None,
        alarm: None,
        ..Default::default()
    }
}

fn desired(s: &Stack) -> Desired {
    Desired::new(
        s,
        &shared(),
        Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/x@sha256:aa".into()),
    )
}

#[test]
fn from_nothing_everything_is_created_with_the_preferred_priority() {
    let s = stack("stateless");
    let d = desired(&s);
    let mut o = Observed {
        shared: shared(),
        ..Default::default()
    };
    o.shared.listener = None;
    let p = plan(&d, &o);
    assert!(
        p.changes.iter().all(|c| c.action == Action::Create),
        "{p:#?}"
    );
    assert_eq!(p.changes.len(), 8);
    assert_eq!(p.rule_priority, Some(110));
    assert!(p.problems.is_empty());
    // network defaults to the ALB's, sorted
    assert_eq!(d.service.subnets, vec!["subnet-a", "subnet-b"]);
    assert_eq!(d.service.security_groups, vec!["sg-1"]);
}

#[test]
fn applied_state_plans_no_changes() {
    let d = desired(&stack("stateless"));
    let p = plan(&d, &applied(&d));
    assert!(p.is_noop(), "{}", render_text(&p));
    assert!(render_text(&p).ends_with("No changes.\n"));
    assert_eq!(p.rule_arn.as_deref(), Some("rule/own"));
}

#[test]
fn allowed_hosts_default_to_the_alb_dns_name_unless_the_stack_sets_them() {
    let s = stack("stateless");
    let env = desired(&s).task_definition.env;
    let hosts = env.iter().find(|(k, _)| k == "MCP_ALLOWED_HOSTS").unwrap();
    assert_eq!(
        hosts.1,
        "fastmcp-alb-1.us-east-1.elb.amazonaws.com,localhost,127.0.0.1"
    );
    let mut custom = s.clone();
    custom
        .env
        .insert("MCP_ALLOWED_HOSTS".into(), "mcp.example.com".into());
    let env = desired(&custom).task_definition.env;
    let set: Vec<&String> = env
        .iter()
        .filter(|(k, _)| k == "MCP_ALLOWED_HOSTS")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(set, vec!["mcp.example.com"]);
}

#[test]
fn one_env_change_is_one_new_revision_and_one_service_update() {
    let s = stack("stateless");
    let before = desired(&s);
    let o = applied(&before);
    let mut s2 = s.clone();
    s2.env
        .insert("MCP_ALLOWED_HOSTS".into(), "fastmcp-alb-1.example".into());
    let p = plan(&desired(&s2), &o);
    let changed: Vec<Kind> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .map(|c| c.kind)
        .collect();
    assert_eq!(changed, vec![Kind::TaskDefinition, Kind::Service]);
    let td = p.get(Kind::TaskDefinition).unwrap();
    assert_eq!(td.fields.len(), 1);
    assert_eq!(td.fields[0].field, "env MCP_ALLOWED_HOSTS");
    assert!(td.note.as_deref().unwrap().contains(
        "registers a new revision of opensearch-mcp-server-stateless (the latest active is :3)"
    ));
    let svc = p.get(Kind::Service).unwrap();
    assert_eq!(svc.fields.len(), 1);
    assert_eq!(
        svc.fields[0].to,
        "opensearch-mcp-server-stateless:(new revision)"
    );
}

#[test]
fn untagged_resources_are_adopted_by_tagging_them() {
    let d = desired(&stack("stateful"));
    let mut o = applied(&d);
    o.target_group.as_mut().unwrap().spec.tags.clear();
    o.target_group.as_mut().unwrap().tags.clear();
    o.service.as_mut().unwrap().spec.tags.clear();
    o.service.as_mut().unwrap().tags.clear();
    let p = plan(&d, &o);
    let tg = p.get(Kind::TargetGroup).unwrap();
    assert_eq!(tg.action, Action::Update);
    assert!(tg.adopt);
    assert_eq!(tg.fields[0].field, "tag mcpctl:stack");
    assert_eq!(tg.fields[0].from, "(none)");
    assert!(p.get(Kind::Service).unwrap().adopt);
    assert!(!p.get(Kind::Repository).unwrap().adopt);
}

#[test]
fn resources_of_another_stack_and_fixed_fields_are_problems() {
    let d = desired(&stack("stateless"));
    let mut o = applied(&d);
    o.target_group.as_mut().unwrap().tags = vec![("mcpctl:stack".into(), "stateful".into())];
    o.target_group.as_mut().unwrap().spec.port = 8000;
    let p = plan(&d, &o);
    assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
    assert!(p.problems[0].contains("belongs to stack `stateful`"));
    assert!(p.problems[1].contains("has port 8000 but the stack needs 9898"));
}

#[test]
fn a_taken_priority_gives_the_next_free_one_and_rules_need_not_be_sorted() {
    assert_eq!(choose_priority(Some(110), &[100, 110, 111]), 112);
    assert_eq!(choose_priority(Some(110), &[]), 110);
    assert_eq!(choose_priority(None, &[5, 3]), 6);
    assert_eq!(choose_priority(None, &[]), 1);
    assert_eq!(choose_priority(Some(50000), &[50000]), 49999);
    let d = desired(&stack("stateless"));
    let mut o = Observed {
        shared: shared(),
        ..Default::default()
    };
    o.shared.rules.insert(
        0,
        ListenerRule {
            arn: "x".into(),
            priority: Some(110),
            path_patterns: vec!["/other/*".into()],
            actions: vec![],
            tags: vec![],
        },
    );
    let p = plan(&d, &o);
    assert_eq!(p.rule_priority, Some(111));
    assert!(p
        .get(Kind::ListenerRule)
        .unwrap()
        .note
        .as_deref()
        .unwrap()
        .contains("110 is taken"));
}

#[test]
fn a_rule_whose_routing_cutover_manages_keeps_its_actions() {
    let d = desired(&stack("stateful"));
    let mut o = applied(&d);
    let rule = &mut o.shared.rules[0];
    rule.actions = vec![crate::model::RuleAction::forward(Forward::weighted(vec![
        WeightedGroup::new(TG_ARN, 90),
        WeightedGroup::new("arn:tg/other", 10),
    ]))];
    let p = plan(&d, &o);
    assert_eq!(
        p.get(Kind::ListenerRule).unwrap().action,
        Action::Update,
        "forward differs without the cutover tag"
    );
    o.shared.rules[0]
        .tags
        .push(("mcpctl:cutover-previous".into(), "...".into()));
    let p = plan(&d, &o);
    assert_eq!(
        p.get(Kind::ListenerRule).unwrap().action,
        Action::Unchanged,
        "{}",
        render_text(&p)
    );
}

#[test]
fn an_edited_path_pattern_updates_the_own_rule_found_by_tag() {
    let s = stack("stateless");
    let d = desired(&s);
    let o = applied(&d);
    let mut s2 = s.clone();
    s2.routing.path_patterns = vec!["/mcp-stateless/*".into()];
    let p = plan(&desired(&s2), &o);
    let r = p.get(Kind::ListenerRule).unwrap();
    assert_eq!(r.action, Action::Update);
    assert_eq!(r.fields[0].field, "path_patterns");
    assert_eq!(p.rule_arn.as_deref(), Some("rule/own"));
}

#[test]
fn credentials_in_plain_env_are_warned_about() {
    let mut s = stack("stateless");
    s.env.insert("OPENSEARCH_PASSWORD".into(), "hunter2".into());
    let p = plan(
        &desired(&s),
        &Observed {
            shared: shared(),
            ..Default::default()
        },
    );
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].contains("OPENSEARCH_PASSWORD") && p.warnings[0].contains("secrets:"));
}

#[test]
fn an_image_to_be_built_is_not_drift() {
    let s = stack("stateless");
    let o = applied(&desired(&s));
    let p = plan(&Desired::new(&s, &shared(), None), &o);
    assert!(p.is_noop(), "{}", render_text(&p));
}

#[test]
fn a_widened_domain_is_one_policy_update_and_a_role_by_arn_is_not_planned() {
    let s = stack("stateless");
    let o = applied(&desired(&s));
    let mut s2 = s.clone();
    s2.roles
        .managed_task_role
        .as_mut()
        .unwrap()
        .opensearch_domain_arn = Some("arn:aws:es:us-east-1:123456789012:domain/other".into());
    let p = plan(&desired(&s2), &o);
    let changed: Vec<&Change> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .collect();
    assert_eq!(changed.len(), 1, "{}", render_text(&p));
    assert_eq!(changed[0].kind, Kind::TaskRole);
    assert_eq!(changed[0].fields.len(), 1);
    assert_eq!(changed[0].fields[0].field, "policy OpenSearchAccess");
    assert!(changed[0].fields[0].to.contains("domain/other/*"));
    assert!(changed[0].fields[0]
        .from
        .contains("domain/opensearch-mcp/*"));

    let mut by_arn = s.clone();
    by_arn.roles.managed_task_role = None;
    let p = plan(&desired(&by_arn), &o);
    assert!(p.get(Kind::TaskRole).is_none());
}

mod steps;

#[test]
fn a_service_with_a_short_arn_is_never_tagged() {
    // As DescribeServices answers for a service made before the long ARN format.
    let short = "arn:aws:ecs:us-east-1:123456789012:service/opensearch-mcp-server-stateless";
    let long = "arn:aws:ecs:us-east-1:123456789012:service/fastmcp-time-server-cluster/opensearch-mcp-server-stateless";
    assert!(super::kinds::service::is_short_service_arn(short));
    assert!(!super::kinds::service::is_short_service_arn(long));
    let s = stack("stateless");
    let d = desired(&s);
    let mut o = applied(&d);
    let svc = o.service.as_mut().unwrap();
    svc.arn = short.into();
    // Already carrying every tag: nothing to tag, no problem.
    assert!(plan(&d, &o).problems.is_empty());
    // Untagged (to be adopted): a problem before any call, saying what to do.
    o.service.as_mut().unwrap().tags.clear();
    let p = plan(&d, &o);
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert!(
        p.problems[0].contains("short ARN") && p.problems[0].contains("serviceLongArnFormat"),
        "{}",
        p.problems[0]
    );
    // The same service with a long ARN is adopted by tagging it.
    o.service.as_mut().unwrap().arn = long.into();
    assert!(plan(&d, &o).problems.is_empty());
}
