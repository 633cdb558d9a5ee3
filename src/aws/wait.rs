//! Waiting for a deployment: steady (rollout completed, running = desired, targets healthy),
//! rolled back by the circuit breaker, or timed out. [`assess`] is pure and tested on recorded
//! service states; [`wait_with`] is the polling loop (any source of states), [`wait_service`]
//! polls ECS and the target group with a live progress display.

use std::future::Future;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::Clients;
use crate::error::{Error, Result};

/// A deployment of a service (the fields of `DescribeServices` the waiter reads).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSnapshot {
    /// Deployment id.
    #[serde(default)]
    pub id: String,
    /// PRIMARY / ACTIVE / INACTIVE.
    pub status: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// Desired tasks.
    #[serde(default)]
    pub desired_count: i32,
    /// Running tasks.
    #[serde(default)]
    pub running_count: i32,
    /// Tasks that failed to start.
    #[serde(default)]
    pub failed_tasks: i32,
    /// IN_PROGRESS / COMPLETED / FAILED.
    #[serde(default)]
    pub rollout_state: Option<String>,
    /// Why.
    #[serde(default)]
    pub rollout_state_reason: Option<String>,
}

/// A service event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSnapshot {
    /// Event id.
    pub id: String,
    /// Message.
    pub message: String,
}

/// A service as `DescribeServices` returns it (the fields the waiter reads).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSnapshot {
    /// ACTIVE / DRAINING / INACTIVE.
    pub status: String,
    /// Desired tasks.
    pub desired_count: i32,
    /// Running tasks.
    pub running_count: i32,
    /// Pending tasks.
    #[serde(default)]
    pub pending_count: i32,
    /// The service's task definition.
    pub task_definition: String,
    /// Deployments (PRIMARY first in AWS's output).
    pub deployments: Vec<DeploymentSnapshot>,
    /// Events, newest first.
    #[serde(default)]
    pub events: Vec<EventSnapshot>,
}

pub use super::target_group::HealthCount;

/// What a service state means for the deployment of `expected` task definition.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Done: the primary deployment runs `expected`, rollout completed, running = desired,
    /// targets healthy.
    Steady,
    /// Not yet.
    InProgress {
        /// Running tasks of the primary deployment.
        running: i32,
        /// Desired tasks.
        desired: i32,
    },
    /// ECS gave up on `expected` (circuit breaker rollback, or the rollout failed).
    RolledBack {
        /// What happened.
        reason: String,
    },
}

fn revision(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Assess one recorded state. The check that the primary deployment runs the task definition
/// just deployed is what catches a circuit-breaker rollback that otherwise looks steady.
pub fn assess(s: &ServiceSnapshot, expected: &str, targets: Option<HealthCount>) -> Verdict {
    let Some(primary) = s.deployments.iter().find(|d| d.status == "PRIMARY") else {
        return Verdict::InProgress {
            running: s.running_count,
            desired: s.desired_count,
        };
    };
    if primary.task_definition != expected {
        let failed = s.deployments.iter().find(|d| d.task_definition == expected);
        // Say what was seen, not a guess at why.
        let why = match failed {
            Some(d) => d.rollout_state_reason.clone().unwrap_or_else(|| {
                format!(
                    "its deployment is {} (rollout {}, {} failed tasks)",
                    d.status,
                    d.rollout_state.as_deref().unwrap_or("state unknown"),
                    d.failed_tasks
                )
            }),
            None => format!(
                "no deployment of {} is listed any more (rolled back or replaced; see the service events)",
                revision(expected)
            ),
        };
        return Verdict::RolledBack {
            reason: format!(
                "ECS is running {} instead of {}: {why}",
                revision(&primary.task_definition),
                revision(expected)
            ),
        };
    }
    if primary.rollout_state.as_deref() == Some("FAILED") {
        return Verdict::RolledBack {
            reason: format!(
                "the rollout of {} failed: {}",
                revision(expected),
                primary
                    .rollout_state_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            ),
        };
    }
    let rollout_done = primary
        .rollout_state
        .as_deref()
        .is_none_or(|r| r == "COMPLETED");
    let only_primary = s.deployments.len() == 1;
    let counts_ok =
        s.running_count == s.desired_count && primary.running_count == primary.desired_count;
    let targets_ok =
        s.desired_count == 0 || targets.is_none_or(|t| t.healthy >= s.desired_count as usize);
    if rollout_done && only_primary && counts_ok && targets_ok {
        Verdict::Steady
    } else {
        Verdict::InProgress {
            running: primary.running_count,
            desired: primary.desired_count,
        }
    }
}

/// What the waiter shows while it waits.
pub trait Progress {
    /// Current counts.
    fn status(&mut self, running: i32, desired: i32, targets: Option<HealthCount>);
    /// A new service event.
    fn event(&mut self, message: &str);
}

/// Progress that shows nothing (JSON output, tests).
pub struct Quiet;

impl Progress for Quiet {
    fn status(&mut self, _: i32, _: i32, _: Option<HealthCount>) {}
    fn event(&mut self, _: &str) {}
}

/// An indicatif spinner with counts and new events printed above it.
pub struct Spinner(indicatif::ProgressBar);

impl Spinner {
    /// Start a spinner for `service`.
    pub fn new(service: &str) -> Spinner {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.set_prefix(format!("waiting for {service}"));
        pb.enable_steady_tick(Duration::from_millis(120));
        Spinner(pb)
    }
}

impl Progress for Spinner {
    fn status(&mut self, running: i32, desired: i32, targets: Option<HealthCount>) {
        let t = targets.map_or(String::new(), |t| {
            format!(", targets healthy {}/{}", t.healthy, t.total)
        });
        self.0
            .set_message(format!("tasks running {running}/{desired}{t}"));
    }
    fn event(&mut self, message: &str) {
        self.0.println(format!("  event: {message}"));
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The progress display for waiting on `service`: a spinner on a terminal, plain lines
/// otherwise.
pub fn progress_for_stderr(service: &str) -> Box<dyn Progress> {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        Box::new(Spinner::new(service))
    } else {
        Box::new(Lines::new(service))
    }
}

/// Poll `poll` every `interval` until the deployment of `expected` is steady, rolled back, or
/// `timeout` passes. Events already present at the start are not repeated.
pub async fn wait_with<F, Fut>(
    mut poll: F,
    expected: &str,
    timeout: Duration,
    interval: Duration,
    ui: &mut dyn Progress,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(ServiceSnapshot, Option<HealthCount>)>>,
{
    let start = Instant::now();
    let mut seen: Option<Vec<String>> = None;
    let mut recent: Vec<String> = Vec::new();
    loop {
        let (snap, targets) = poll().await?;
        let new: Vec<&EventSnapshot> = match &seen {
            None => Vec::new(),
            Some(ids) => snap
                .events
                .iter()
                .filter(|e| !ids.contains(&e.id))
                .collect(),
        };
        for e in new.iter().rev() {
            ui.event(&e.message);
            recent.push(e.message.clone());
        }
        seen = Some(snap.events.iter().map(|e| e.id.clone()).collect());
        match assess(&snap, expected, targets) {
            Verdict::Steady => return Ok(()),
            Verdict::RolledBack { reason } => {
                return Err(Error::failed(format!(
                    "deployment failed: {reason}\nrecent service events:\n{}",
                    events_text(&snap)
                )))
            }
            Verdict::InProgress { running, desired } => ui.status(running, desired, targets),
        }
        if start.elapsed() >= timeout {
            let t = targets.map_or(String::new(), |t| {
                format!(
                    ", targets healthy {}/{}{}",
                    t.healthy,
                    t.total,
                    unused_note(t).unwrap_or_default()
                )
            });
            return Err(Error::failed(format!(
                "timed out after {}s waiting for the deployment of {} (tasks running {}/{}{t}); check the service events below, the task logs (`mcpctl logs`), and raise --timeout if it is just slow\nrecent service events:\n{}",
                timeout.as_secs(),
                revision(expected),
                snap.running_count,
                snap.desired_count,
                events_text(&snap)
            )));
        }
        tokio::time::sleep(interval).await;
    }
}

/// Why targets never become healthy when ALB reports them `unused`: the target group is in no
/// listener rule's forward action. A group at weight 0 is in use (ALB health-checks its targets),
/// which is why `cutover` keeps the `--from` group at weight 0
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>,
/// reason `Target.NotInUse`).
pub fn unused_note(t: HealthCount) -> Option<String> {
    (t.unused > 0).then(|| {
        format!(
            "; {} of {} targets are `unused` (Target.NotInUse): no listener rule forwards to the target group, so ALB does not health-check them — a rule forwarding to it at weight 0 is enough; see `mcpctl status` for the rules",
            t.unused, t.total
        )
    })
}

fn events_text(s: &ServiceSnapshot) -> String {
    if s.events.is_empty() {
        return "  (none)".to_string();
    }
    s.events
        .iter()
        .take(8)
        .map(|e| format!("  {}", e.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What to say when a deployment failed (`failure`: the waiter's message, with ECS's rollout
/// reason) and the rollback alarm `name` is in `state` (`(StateValue, StateReason)` from
/// `DescribeAlarms`). ECS fails and rolls back a deployment when one of its alarms goes to ALARM
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html>):
/// the alarm is the reason when it is in ALARM now, or when ECS's reason names it (it may be
/// back to OK once the old revision serves again). `None` otherwise: the failure is something
/// else.
pub fn alarm_rollback(
    name: &str,
    state: Option<&(String, String)>,
    failure: &str,
) -> Option<String> {
    let (value, reason) = state?;
    (value == "ALARM" || failure.contains(name)).then(|| {
        format!(
            "ECS rolled the deployment back on CloudWatch alarm {name} (now {value}: {reason}); the new revision answered too many 5XX, see `mcpctl logs` and `mcpctl status`"
        )
    })
}

/// Wait for the service's deployment of `expected` against AWS. `alarm` is the deployment
/// rollback alarm, if the service has one: a failure while it is in ALARM says so.
#[allow(clippy::too_many_arguments)]
pub async fn wait_service(
    c: &Clients,
    cluster: &str,
    service: &str,
    tg_arn: &str,
    expected: &str,
    timeout: Duration,
    alarm: Option<&str>,
    ui: &mut dyn Progress,
) -> Result<()> {
    let poll = || async {
        let s = super::service::describe(c, cluster, service)
            .await?
            .ok_or_else(|| Error::failed(format!("service {service} disappeared while waiting")))?;
        let targets = super::target_group::health_count(c, tg_arn).await?;
        Ok((super::service::snapshot(&s), Some(targets)))
    };
    let result = wait_with(poll, expected, timeout, Duration::from_secs(5), ui).await;
    match (result, alarm) {
        (Err(e), Some(name)) => {
            let state = super::alarm::state(c, name).await.ok().flatten();
            match alarm_rollback(name, state.as_ref(), &crate::error::source_chain(&e)) {
                Some(msg) => Err(Error::failed_with(msg, e)),
                None => Err(e),
            }
        }
        (r, _) => r,
    }
}

mod lines;
pub use lines::Lines;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod verdict_tests;
