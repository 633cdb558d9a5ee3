//! Autoscaling and alarm rollback in the plan: created with the stack's own `ResourceLabel`,
//! unchanged once applied, a min/max edit is one `RegisterScalableTarget`, a count the
//! autoscaler chose survives `up`, and what the stack drops is deleted (only if mcpctl made it).

use super::*;
use crate::plan::fields::{Diff, Value};
use crate::plan::kinds::service::ServiceField;
use crate::plan::scaling::*;
use crate::plan::steps::Step;

const ALB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fastmcp-alb/1";
const TG: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/02";
const LABEL: &str = "app/fastmcp-alb/1/targetgroup/opensearch-mcp-tg-stateless/02";

fn scaled(extra: &str) -> Stack {
    crate::stack::stateless_for_test(&format!(
        "service:\n  alarm_rollback: true\n  autoscaling:\n    min: 2\n    max: 6\n    requests_per_target: 100\n    cpu_percent: 60\n{extra}"
    ))
    .unwrap()
}

/// What AWS holds after `up` applied `d`, with ELB-shaped ARNs and the scaling resources.
fn applied_scaled(d: &Desired) -> Observed {
    let mut o = applied(d);
    o.shared.alb.arn = ALB.into();
    o.target_group.as_mut().unwrap().arn = TG.into();
    o.shared.rules[0].actions = vec![crate::model::RuleAction::forward_to(TG)];
    o.scaling = d.scaling.as_ref().map(|s| ObservedScaling {
        min: s.min,
        max: s.max,
        policies: s
            .policies
            .iter()
            .map(|p| ObservedPolicy {
                name: p.name.clone(),
                metric: p.metric.predefined().into(),
                resource_label: (p.metric == ScalingMetric::RequestsPerTarget)
                    .then(|| LABEL.to_string()),
                target_value: f64::from(p.target_value),
                scale_in_cooldown: Some(p.scale_in_cooldown),
                scale_out_cooldown: Some(p.scale_out_cooldown),
            })
            .collect(),
    });
    o.alarm = d.alarm.as_ref().map(|a| ObservedAlarm {
        name: a.name.clone(),
        definition: a.definition(
            "app/fastmcp-alb/1",
            "targetgroup/opensearch-mcp-tg-stateless/02",
        ),
    });
    o
}

fn plan_of(s: &Stack, o: &Observed) -> Plan {
    let mut d = desired(s);
    // `desired` uses the test ALB ARN; the scaling steps take the observed one.
    d.target_group.vpc_id = o.shared.alb.vpc_id.clone();
    plan(&d, o)
}

#[test]
fn labels_and_dimensions_come_from_the_elb_arns_and_nothing_else() {
    assert_eq!(resource_label(ALB, TG).as_deref(), Some(LABEL));
    assert_eq!(
        alarm_dimensions(ALB, TG),
        Some((
            "app/fastmcp-alb/1".to_string(),
            "targetgroup/opensearch-mcp-tg-stateless/02".to_string()
        ))
    );
    assert_eq!(resource_label("arn:tg/x", TG), None);
    assert_eq!(
        resource_label(ALB, "arn:tg/opensearch-mcp-tg-stateless"),
        None
    );
    let nlb = ALB.replace("/app/", "/net/");
    assert_eq!(
        resource_label(&nlb, TG),
        None,
        "ALBRequestCountPerTarget is ALB only"
    );
    assert_eq!(resource_id("c", "s"), "service/c/s");
}

#[test]
fn a_new_scaled_stack_creates_target_policies_and_alarm_and_the_service_names_the_alarm() {
    let s = scaled("");
    let d = desired(&s);
    assert_eq!(
        d.service.deployment_alarms,
        vec!["opensearch-mcp-server-stateless-5xx-rollback"]
    );
    let mut o = applied_scaled(&d);
    o.service = None;
    o.scaling = None;
    o.alarm = None;
    let p = plan(&d, &o);
    let kinds: Vec<(Kind, Action)> = p
        .changes
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                Kind::ScalableTarget | Kind::ScalingPolicy | Kind::Alarm
            )
        })
        .map(|c| (c.kind, c.action))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Kind::ScalableTarget, Action::Create),
            (Kind::ScalingPolicy, Action::Create),
            (Kind::ScalingPolicy, Action::Create),
            (Kind::Alarm, Action::Create),
        ]
    );
    let st = &p.steps.scaling;
    assert_eq!(
        st.resource_id,
        "service/fastmcp-time-server-cluster/opensearch-mcp-server-stateless"
    );
    assert_eq!(
        st.target,
        Some(TargetStep::Register {
            first: true,
            min: 2,
            max: 6
        })
    );
    assert_eq!(st.put_policies.len(), 2);
    assert!(matches!(p.steps.alarm.call, Some(AlarmStep::Put(_))));
    assert_eq!(st.alb_arn, ALB);
}

#[test]
fn once_applied_a_scaled_stack_plans_no_changes() {
    let s = scaled("");
    let p = plan_of(&s, &applied_scaled(&desired(&s)));
    assert!(p.is_noop(), "{}", render_text(&p));
    assert_eq!(p.steps.scaling.target, None);
    assert!(p.steps.scaling.put_policies.is_empty());
}

#[test]
fn a_min_max_edit_is_one_register_call_and_nothing_else() {
    let o = applied_scaled(&desired(&scaled("")));
    let edited = |min: i32, max: i32| {
        crate::stack::stateless_for_test(&format!(
            "service:\n  alarm_rollback: true\n  autoscaling:\n    min: {min}\n    max: {max}\n    requests_per_target: 100\n    cpu_percent: 60\n"
        ))
        .unwrap()
    };
    let p = plan_of(&edited(1, 9), &o);
    let changed: Vec<&Change> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .collect();
    assert_eq!(changed.len(), 1, "{}", render_text(&p));
    assert_eq!(changed[0].kind, Kind::ScalableTarget);
    assert_eq!(
        p.steps.scaling.target,
        Some(TargetStep::Register {
            first: false,
            min: 1,
            max: 9
        })
    );
    assert!(matches!(p.steps.service, Step::Keep(_)));

    // A min above the running count also moves the service up to it.
    let p = plan_of(&edited(3, 9), &o);
    match &p.steps.service {
        Step::Update(_, u) => assert_eq!(u.desired_count, Some(3)),
        other => panic!("expected an update, got {other:?}"),
    }
}

#[test]
fn the_count_the_autoscaler_chose_survives_up_unless_it_is_out_of_range() {
    let s = scaled("");
    let d = desired(&s);
    let mut o = applied_scaled(&d);
    o.service.as_mut().unwrap().spec.desired_count = 5;
    let p = plan_of(&s, &o);
    assert!(p.is_noop(), "{}", render_text(&p));
    assert!(matches!(p.steps.service, Step::Keep(_)));

    o.service.as_mut().unwrap().spec.desired_count = 9;
    let p = plan_of(&s, &o);
    match &p.steps.service {
        Step::Update(_, u) => assert_eq!(u.desired_count, Some(6), "clamped to max"),
        other => panic!("expected an update, got {other:?}"),
    }

    // Without autoscaling the stack's count wins, as before.
    let plain = stack("stateless");
    let d = desired(&plain);
    let mut o = applied(&d);
    o.service.as_mut().unwrap().spec.desired_count = 5;
    let p = plan(&d, &o);
    match &p.steps.service {
        Step::Update(_, u) => assert_eq!(u.desired_count, Some(d.service.desired_count)),
        other => panic!("expected an update, got {other:?}"),
    }
}

#[test]
fn govern_count_only_touches_the_desired_count() {
    let mut diffs = vec![
        Diff {
            field: ServiceField::DesiredCount,
            from: Some(Value::Int(4)),
            to: Some(Value::Int(2)),
        },
        Diff {
            field: ServiceField::MaxPercent,
            from: Some(Value::Int(100)),
            to: Some(Value::Int(200)),
        },
    ];
    govern_count(&mut diffs, Some((2, 6)));
    assert_eq!(diffs.len(), 1);
    assert_eq!(diffs[0].field, ServiceField::MaxPercent);
    let mut diffs = vec![Diff {
        field: ServiceField::DesiredCount,
        from: Some(Value::Int(0)),
        to: Some(Value::Int(2)),
    }];
    govern_count(&mut diffs, Some((1, 6)));
    assert_eq!(diffs[0].to, Some(Value::Int(1)));
    let mut diffs = vec![Diff {
        field: ServiceField::DesiredCount,
        from: Some(Value::Int(4)),
        to: Some(Value::Int(2)),
    }];
    govern_count(&mut diffs, None);
    assert_eq!(diffs[0].to, Some(Value::Int(2)));
}

#[test]
fn what_the_stack_drops_is_deleted_only_when_mcpctl_made_it() {
    let scaled_d = desired(&scaled(""));
    let mut o = applied_scaled(&scaled_d);
    // The stack no longer scales nor rolls back on the alarm.
    let plain = stack("stateless");
    let d = desired(&plain);
    o.service.as_mut().unwrap().spec = d.service.clone();
    let p = plan(&d, &o);
    let st = &p.steps.scaling;
    assert_eq!(st.target, Some(TargetStep::Deregister));
    assert_eq!(st.delete_policies.len(), 2);
    assert_eq!(
        p.steps.alarm.call,
        Some(AlarmStep::Delete(
            "opensearch-mcp-server-stateless-5xx-rollback".into()
        ))
    );
    assert!(
        render_text(&p).contains("- delete    scalable target"),
        "{}",
        render_text(&p)
    );

    // A scalable target made by hand (no policy of mcpctl's names) is left, with a warning.
    o.scaling
        .as_mut()
        .unwrap()
        .policies
        .iter_mut()
        .for_each(|p| p.name = format!("hand-{}", p.name));
    o.alarm = None;
    let p = plan(&d, &o);
    assert_eq!(p.steps.scaling.target, None);
    assert!(
        p.warnings.iter().any(|w| w.contains("mcpctl did not make")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn a_policy_made_by_hand_on_the_target_is_kept_and_mentioned() {
    let s = scaled("");
    let mut o = applied_scaled(&desired(&s));
    o.scaling.as_mut().unwrap().policies.push(ObservedPolicy {
        name: "by-hand".into(),
        metric: "ECSServiceAverageMemoryUtilization".into(),
        resource_label: None,
        target_value: 70.0,
        scale_in_cooldown: None,
        scale_out_cooldown: None,
    });
    let p = plan_of(&s, &o);
    assert!(p.is_noop());
    assert!(p.steps.scaling.delete_policies.is_empty());
    assert!(
        p.warnings.iter().any(|w| w.contains("`by-hand`")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn a_changed_alarm_or_policy_target_is_put_again() {
    let s = scaled("");
    let mut o = applied_scaled(&desired(&s));
    o.alarm.as_mut().unwrap().definition.threshold = "50".into();
    o.scaling.as_mut().unwrap().policies[0].resource_label =
        Some("app/other/1/targetgroup/x/2".into());
    let p = plan_of(&s, &o);
    let st = &p.steps.scaling;
    assert!(matches!(p.steps.alarm.call, Some(AlarmStep::Put(_))));
    assert_eq!(st.put_policies.len(), 1);
    assert_eq!(st.put_policies[0].metric, ScalingMetric::RequestsPerTarget);
    assert_eq!(st.target, None);
}

#[test]
fn turning_alarm_rollback_on_updates_the_deployment_configuration() {
    let plain = stack("stateless");
    let o = applied(&desired(&plain));
    let s = crate::stack::stateless_for_test("service:\n  alarm_rollback: true\n").unwrap();
    let d = desired(&s);
    let p = plan(&d, &o);
    match &p.steps.service {
        Step::Update(_, u) => assert!(u.deployment && u.deploys()),
        other => panic!("expected an update, got {other:?}"),
    }
    let svc = p.get(Kind::Service).unwrap();
    assert!(
        svc.fields.iter().any(|f| f.field == "deployment_alarms"),
        "{svc:?}"
    );
}
