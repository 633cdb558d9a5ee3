//! The invariant behind every service `up` creates or updates: a listener rule forwards to its
//! target group (weight 0 counts), as ECS requires and moto does not check.

use super::*;
use crate::model::forward::{Forward, WeightedGroup};
use crate::model::ListenerRule;
use crate::plan::steps::{RuleStep, Step};

const STATELESS_TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/02";

/// The production rule after a full cutover and `cleanup` of stateful: handed over to
/// stateless, routing to it alone, the rollback record still on it.
fn handed_over(forward: Forward) -> ListenerRule {
    ListenerRule {
        arn: "rule/production".into(),
        priority: Some(100),
        path_patterns: vec!["/ossserver/*".into()],
        actions: vec![crate::model::RuleAction::forward(forward)],
        tags: vec![
            ("mcpctl:stack".into(), "stateless".into()),
            (
                "mcpctl:cutover-replaced".into(),
                "v1 form=arn tg:opensearch-mcp-tg=1".into(),
            ),
        ],
    }
}

/// What AWS holds for stateful after cutover + cleanup: nothing of its own but the ECR
/// repository, and the handed-over production rule.
fn cleaned_up(rule: ListenerRule) -> Observed {
    let mut shared = shared();
    shared.rules.insert(0, rule);
    Observed {
        shared,
        ..Default::default()
    }
}

#[test]
fn restoring_an_archived_stack_adds_its_group_at_weight_0_to_the_handed_over_rule() {
    let d = desired(&stack("stateful"));
    let rule = handed_over(Forward::single(STATELESS_TG));
    let p = plan(&d, &cleaned_up(rule.clone()));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.steps.target_group, Step::Create);
    assert_eq!(p.steps.service, Step::Create);
    assert_eq!(
        p.steps.rule,
        RuleStep::Attach {
            arn: rule.arn.clone(),
            forward: Forward::single(STATELESS_TG),
        }
    );
    let c = p.get(Kind::ListenerRule).unwrap();
    assert_eq!(c.action, Action::Update);
    let note = c.note.as_deref().unwrap();
    assert!(
        note.contains("adds target group opensearch-mcp-tg at weight 0"),
        "{note}"
    );
    assert!(render_text(&p).contains("weight 0"), "{}", render_text(&p));
    // What apply sends: the same traffic, the new group at weight 0.
    let after = Forward::single(STATELESS_TG)
        .with_group("arn:new-tg", 0)
        .unwrap();
    assert_eq!(after.percent_of(STATELESS_TG), 100.0);
    assert_eq!(after.weight_of("arn:new-tg"), 0);
}

#[test]
fn a_group_kept_at_weight_0_by_cutover_counts_as_forwarded_to() {
    let d = desired(&stack("stateful"));
    let mut o = applied(&d);
    // Full cutover: the stack's group stays in the production rule at weight 0.
    o.shared.rules[0] = handed_over(Forward::weighted(vec![
        WeightedGroup::new(super::TG_ARN, 0),
        WeightedGroup::new(STATELESS_TG, 100),
    ]));
    o.shared.rules[0].path_patterns = d.rule.path_patterns.clone();
    o.service.as_mut().unwrap().spec.desired_count += 1;
    let p = plan(&d, &o);
    assert!(matches!(p.steps.service, Step::Update(..)), "{p:#?}");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert!(
        matches!(p.steps.rule, RuleStep::Keep { .. }),
        "{:?}",
        p.steps.rule
    );
}

#[test]
fn a_service_whose_group_no_rule_can_forward_to_is_refused_with_the_fix() {
    let d = desired(&stack("stateful"));
    // The stack's paths are served by a rule that is not a single forward (fixed response).
    let mut rule = handed_over(Forward::single(STATELESS_TG));
    rule.actions = vec![crate::model::RuleAction {
        kind: Some("fixed-response".into()),
        order: None,
        forward: None,
        detail: String::new(),
    }];
    let p = plan(&d, &cleaned_up(rule));
    let problem = p
        .problems
        .iter()
        .find(|x| x.contains("does not have an associated load balancer"))
        .unwrap_or_else(|| panic!("{:?}", p.problems));
    assert!(problem.contains("opensearch-mcp-tg"), "{problem}");
    assert!(problem.contains("modify-rule"), "{problem}");
    // A full forward (5 groups, ALB's limit) cannot take one more.
    let five: Vec<_> = (0..5)
        .map(|i| WeightedGroup::new(format!("arn:x:targetgroup/g{i}/id"), 1))
        .collect();
    let p = plan(&d, &cleaned_up(handed_over(Forward::weighted(five))));
    assert!(
        p.problems.iter().any(|x| x.contains("ALB's limit")),
        "{:?}",
        p.problems
    );
}

#[test]
fn a_new_or_re_pointed_rule_attaches_the_group_itself() {
    let d = desired(&stack("stateless"));
    let o = Observed {
        shared: shared(),
        ..Default::default()
    };
    let p = plan(&d, &o);
    assert!(matches!(p.steps.rule, RuleStep::Create { .. }));
    assert!(p.problems.is_empty(), "{:?}", p.problems);
}
