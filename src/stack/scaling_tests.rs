//! Loading `service.autoscaling` and `service.alarm_rollback`: defaults, the archive round
//! trip, and every mistake caught at load with its `file:line:col`.

use crate::stack::{load_with_env, to_yaml, Autoscaling, Stack};

/// The repo's stateless stack with `extra` appended (in `s.yaml`, from line 3 on).
fn load(extra: &str) -> Result<Stack, String> {
    crate::stack::stateless_for_test(extra)
}

#[test]
fn autoscaling_defaults_cooldowns_clamps_the_default_count_and_round_trips() {
    let s = load("service:\n  alarm_rollback: true\n  autoscaling:\n    min: 3\n    max: 8\n    requests_per_target: 120\n").unwrap();
    assert_eq!(
        s.service.autoscaling,
        Some(Autoscaling {
            min: 3,
            max: 8,
            requests_per_target: Some(120),
            cpu_percent: None,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
        })
    );
    // The default desired count (2) is below min: the service starts at min.
    assert_eq!(s.service.desired_count, 3);
    assert!(s.service.alarm_rollback);

    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("stack.yaml"), to_yaml(&s)).unwrap();
    let back = load_with_env(
        d.path().join("stack.yaml").to_str().unwrap(),
        d.path(),
        &|_| None,
    )
    .unwrap();
    assert_eq!(back.service, s.service);
}

#[test]
fn without_the_keys_nothing_scales_and_no_alarm_is_wanted() {
    let s = load("").unwrap();
    assert_eq!(s.service.autoscaling, None);
    assert!(!s.service.alarm_rollback);
    assert!(!to_yaml(&s).contains("autoscaling"));
}

#[test]
fn every_autoscaling_mistake_is_caught_at_load_with_its_place() {
    let sec = "service:\n  autoscaling:\n";
    let cases = [
        (format!("{sec}    min: 5\n    max: 2\n    cpu_percent: 50\n"), "s.yaml:6:10: `service.autoscaling.max` is 2, below `min` 5"),
        (format!("{sec}    max: 4\n    cpu_percent: 50\n"), "s.yaml:5:5: missing `service.autoscaling.min`"),
        (format!("{sec}    min: 1\n    max: 4\n"), "s.yaml:5:5: `service.autoscaling` tracks no metric"),
        (format!("{sec}    min: 1\n    max: 4\n    cpu_percent: 150\n"), "s.yaml:7:18: `service.autoscaling.cpu_percent` is 150, out of range: use 1-100"),
        (format!("{sec}    min: 1\n    max: 1001\n    cpu_percent: 50\n"), "s.yaml:6:10: `service.autoscaling.max` is 1001, out of range"),
        (format!("{sec}    min: 1\n    max: 4\n    cpu_percent: 50\n    scale_in_cooldown: soon\n"), "s.yaml:8:24: `service.autoscaling.scale_in_cooldown` must be a whole number"),
        (format!("{sec}    min: 1\n    max: 4\n    cpu_percent: 50\n    step: 2\n"), "step"),
        ("service:\n  desired_count: 9\n  autoscaling:\n    min: 1\n    max: 4\n    cpu_percent: 50\n".to_string(), "s.yaml:4:18: `service.desired_count` is 9, outside `service.autoscaling` min 1 .. max 4"),
        ("service:\n  alarm_rollback: sometimes\n".to_string(), "s.yaml:4:19: `service.alarm_rollback` must be true or false"),
    ];
    for (text, want) in cases {
        let e = load(&text).unwrap_err();
        assert!(e.contains(want), "{text}\n=> {e}");
    }
}
