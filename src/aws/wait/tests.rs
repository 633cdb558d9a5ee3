//! The waiter on recorded service states (moto never starts tasks, so real rollouts are
//! replayed from `DescribeServices` output recorded in `tests/data/ecs-waiter/`).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct Recorded {
    service: ServiceSnapshot,
    targets: TargetsJson,
}

#[derive(Deserialize)]
struct TargetsJson {
    healthy: usize,
    total: usize,
}

fn states(file: &str) -> Vec<(ServiceSnapshot, Option<HealthCount>)> {
    let path = format!(
        "{}/tests/data/ecs-waiter/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let recorded: Vec<Recorded> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    recorded
        .into_iter()
        .map(|r| {
            (
                r.service,
                Some(HealthCount {
                    healthy: r.targets.healthy,
                    total: r.targets.total,
                    unused: 0,
                }),
            )
        })
        .collect()
}

const TD: &str =
    "arn:aws:ecs:us-east-1:123456789012:task-definition/opensearch-mcp-server-stateless:";

#[derive(Default)]
struct Record {
    statuses: Vec<(i32, i32)>,
    events: Vec<String>,
}

impl Progress for Record {
    fn status(&mut self, running: i32, desired: i32, _: Option<HealthCount>) {
        self.statuses.push((running, desired));
    }
    fn event(&mut self, message: &str) {
        self.events.push(message.to_string());
    }
}

/// Replay recorded states; the last one repeats (as a stuck service would).
async fn replay(file: &str, expected: &str, timeout: Duration) -> (Result<()>, Record, usize) {
    let queue = Mutex::new(VecDeque::from(states(file)));
    let polls = Mutex::new(0usize);
    let mut rec = Record::default();
    let res = wait_with(
        || {
            let mut q = queue.lock().unwrap();
            *polls.lock().unwrap() += 1;
            let s = if q.len() > 1 {
                q.pop_front().unwrap()
            } else {
                q.front().unwrap().clone()
            };
            async move { Ok(s) }
        },
        expected,
        timeout,
        Duration::from_millis(1),
        &mut rec,
    )
    .await;
    let n = *polls.lock().unwrap();
    (res, rec, n)
}

#[test]
fn assess_each_recorded_state() {
    let s = states("rollout-then-steady.json");
    let td5 = format!("{TD}5");
    assert_eq!(
        assess(&s[0].0, &td5, s[0].1),
        Verdict::InProgress {
            running: 0,
            desired: 2
        }
    );
    assert_eq!(
        assess(&s[1].0, &td5, s[1].1),
        Verdict::InProgress {
            running: 2,
            desired: 2
        }
    );
    assert_eq!(assess(&s[2].0, &td5, s[2].1), Verdict::Steady);
    // unhealthy targets keep it in progress even when the counts match
    let few = Some(HealthCount {
        healthy: 1,
        total: 2,
        unused: 0,
    });
    assert!(matches!(
        assess(&s[2].0, &td5, few),
        Verdict::InProgress { .. }
    ));
}

#[test]
fn a_completed_rollback_is_not_success() {
    let s = states("circuit-breaker-rollback.json");
    let td6 = format!("{TD}6");
    assert!(matches!(
        assess(&s[0].0, &td6, s[0].1),
        Verdict::InProgress { .. }
    ));
    // Steady in every count — but on revision 5, not the 6 just deployed.
    match assess(&s[1].0, &td6, s[1].1) {
        Verdict::RolledBack { reason } => {
            assert!(reason.contains("running opensearch-mcp-server-stateless:5 instead of opensearch-mcp-server-stateless:6"), "{reason}")
        }
        other => panic!("expected RolledBack, got {other:?}"),
    }
}

#[tokio::test]
async fn waits_through_a_rollout_and_shows_new_events() {
    let (res, rec, polls) = replay(
        "rollout-then-steady.json",
        &format!("{TD}5"),
        Duration::from_secs(30),
    )
    .await;
    res.unwrap();
    assert_eq!(polls, 3);
    assert_eq!(rec.statuses, vec![(0, 2), (2, 2)]);
    // only events that appeared while waiting, oldest first
    assert_eq!(rec.events.len(), 2, "{:?}", rec.events);
    assert!(rec.events[0].contains("registered 2 targets"));
    assert!(rec.events[1].contains("reached a steady state"));
}

#[tokio::test]
async fn a_rollback_fails_with_the_service_events() {
    let (res, _, _) = replay(
        "circuit-breaker-rollback.json",
        &format!("{TD}6"),
        Duration::from_secs(30),
    )
    .await;
    let msg = res.unwrap_err().to_string();
    assert!(
        msg.starts_with(
            "deployment failed: ECS is running opensearch-mcp-server-stateless:5 instead of"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("deployment failed: tasks failed to start. Rolling back"),
        "{msg}"
    );
}

#[tokio::test]
async fn unused_targets_are_explained_a_group_at_weight_0_is_in_use() {
    // Tasks run, but their target group is in no rule's forward action: ALB reports the targets
    // `unused` and never health-checks them. The waiter says why instead of only "0/2".
    let s = states("stuck.json").remove(0).0;
    let unused = HealthCount {
        healthy: 0,
        total: 2,
        unused: 2,
    };
    let res = wait_with(
        || {
            let s = s.clone();
            async move { Ok((s, Some(unused))) }
        },
        &format!("{TD}7"),
        Duration::ZERO,
        Duration::from_millis(1),
        &mut Record::default(),
    )
    .await;
    let msg = res.unwrap_err().to_string();
    assert!(
        msg.contains("2 of 2 targets are `unused` (Target.NotInUse)"),
        "{msg}"
    );
    assert!(msg.contains("weight 0"), "{msg}");
    assert!(unused_note(HealthCount {
        healthy: 2,
        total: 2,
        unused: 0
    })
    .is_none());
}

#[tokio::test]
async fn a_stuck_deployment_times_out_with_counts_and_events() {
    let (res, rec, polls) =
        replay("stuck.json", &format!("{TD}7"), Duration::from_millis(30)).await;
    let msg = res.unwrap_err().to_string();
    assert!(msg.starts_with("timed out after 0s waiting for the deployment of opensearch-mcp-server-stateless:7 (tasks running 1/2, targets healthy 0/1)"), "{msg}");
    assert!(msg.contains("failed ELB health checks"), "{msg}");
    assert!(polls >= 2 && !rec.statuses.is_empty());
}
