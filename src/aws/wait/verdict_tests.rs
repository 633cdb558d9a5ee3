//! The waiter's verdicts on ECS service snapshots.

use super::*;

#[test]
fn an_alarm_in_alarm_is_named_as_the_reason_and_only_then() {
    let alarm = (
        "ALARM".to_string(),
        "Threshold Crossed: 2 datapoints [40.0, 35.5] were greater than the threshold (5.0)."
            .to_string(),
    );
    let m = alarm_rollback("svc-5xx-rollback", Some(&alarm), "deployment failed").unwrap();
    assert!(
        m.contains(
            "on CloudWatch alarm svc-5xx-rollback (now ALARM: Threshold Crossed: 2 datapoints"
        ),
        "{m}"
    );
    let ok = ("OK".to_string(), "fine".to_string());
    assert_eq!(
        alarm_rollback("svc-5xx-rollback", Some(&ok), "timed out after 600s"),
        None
    );
    // Back to OK once the old revision serves, but ECS's reason names the alarm.
    let m = alarm_rollback(
        "svc-5xx-rollback",
        Some(&ok),
        "deployment failed: ECS is running f:1 instead of f:2: alarm svc-5xx-rollback in ALARM",
    )
    .unwrap();
    assert!(m.contains("(now OK: fine)"), "{m}");
    assert_eq!(
        alarm_rollback("svc-5xx-rollback", None, "svc-5xx-rollback"),
        None
    );
}

#[test]
fn a_rollback_says_what_was_seen_not_a_guess() {
    let d = |status: &str, td: &str, reason: Option<&str>| DeploymentSnapshot {
        id: status.into(),
        status: status.into(),
        task_definition: td.into(),
        desired_count: 2,
        running_count: 0,
        failed_tasks: 3,
        rollout_state: Some("FAILED".into()),
        rollout_state_reason: reason.map(str::to_string),
    };
    let mut s = ServiceSnapshot {
        status: "ACTIVE".into(),
        desired_count: 2,
        running_count: 2,
        pending_count: 0,
        task_definition: "td/f:1".into(),
        deployments: vec![d("PRIMARY", "td/f:1", None), d("ACTIVE", "td/f:2", None)],
        events: vec![],
    };
    let Verdict::RolledBack { reason } = assess(&s, "td/f:2", None) else {
        panic!()
    };
    assert_eq!(
        reason,
        "ECS is running f:1 instead of f:2: its deployment is ACTIVE (rollout FAILED, 3 failed tasks)"
    );
    s.deployments.pop();
    let Verdict::RolledBack { reason } = assess(&s, "td/f:2", None) else {
        panic!()
    };
    assert!(reason.ends_with("no deployment of f:2 is listed any more (rolled back or replaced; see the service events)"), "{reason}");
}
