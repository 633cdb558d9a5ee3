//! A target group on this machine: replicas, their health as the ALB sees it, and round robin
//! over the healthy ones (no session affinity).
//!
//! Health follows the ALB: a new target is `initial` until its first passing check; a healthy
//! target that fails `unhealthy_threshold` checks in a row becomes `unhealthy` and gets no
//! traffic; it is `healthy` again after `healthy_threshold` passing checks in a row. When no
//! target is healthy the group fails open to the unhealthy ones, like an ALB. A replica whose
//! process exited is `stopped` at once (ECS deregisters a stopped task) and never picked.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Called when a target's health changes: (stack, replica index, target, new health).
pub type OnHealthChange = Arc<dyn Fn(&str, usize, &Target, Health) + Send + Sync>;

pub use crate::stack::Matcher;

/// A target group's health check, as the stack file gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSettings {
    /// The health path (`/ossserver-stateless/health`).
    pub path: String,
    /// Passing checks in a row before an unhealthy target is healthy again.
    pub healthy_threshold: u32,
    /// Failing checks in a row before a healthy target is unhealthy.
    pub unhealthy_threshold: u32,
    /// Status codes that pass.
    pub matcher: Matcher,
}

/// A target's state, in the ALB's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Registered, no passing check yet.
    Initial,
    /// Gets traffic.
    Healthy,
    /// Failed its checks; no traffic until it recovers.
    Unhealthy,
    /// Its process exited; deregistered.
    Stopped,
}

#[derive(Debug)]
struct State {
    health: Health,
    passes: u32,
    failures: u32,
    reason: String,
}

/// One replica in the group.
#[derive(Debug)]
pub struct Target {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its process id.
    pub pid: u32,
    state: Mutex<State>,
    requests: AtomicU64,
}

/// A target's state for `/_mcpctl/targets` and the ready file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetStatus {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its process id.
    pub pid: u32,
    /// Its health.
    pub health: Health,
    /// Why (the last check's result, or how the process ended).
    pub reason: String,
    /// Requests the router has sent it.
    pub requests: u64,
}

impl Target {
    /// A new target in state `initial`.
    pub fn new(port: u16, pid: u32) -> Target {
        Target {
            port,
            pid,
            state: Mutex::new(State {
                health: Health::Initial,
                passes: 0,
                failures: 0,
                reason: "registered, waiting for the first health check".into(),
            }),
            requests: AtomicU64::new(0),
        }
    }

    /// Its current health.
    pub fn health(&self) -> Health {
        self.lock().health
    }

    /// Its state, for status output.
    pub fn status(&self) -> TargetStatus {
        let s = self.lock();
        TargetStatus {
            port: self.port,
            pid: self.pid,
            health: s.health,
            reason: s.reason.clone(),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }

    /// Count a request sent to it.
    pub fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Apply one health check result; returns the new health when it changed.
    pub fn record_check(
        &self,
        passed: bool,
        reason: String,
        settings: &HealthSettings,
    ) -> Option<Health> {
        let mut s = self.lock();
        let before = s.health;
        if before == Health::Stopped {
            return None;
        }
        if passed {
            s.passes += 1;
            s.failures = 0;
        } else {
            s.failures += 1;
            s.passes = 0;
        }
        s.health = match (before, passed) {
            (Health::Initial, true) => Health::Healthy,
            (Health::Unhealthy, true) if s.passes >= settings.healthy_threshold => Health::Healthy,
            (Health::Healthy, false) if s.failures >= settings.unhealthy_threshold => {
                Health::Unhealthy
            }
            (h, _) => h,
        };
        s.reason = reason;
        (s.health != before).then_some(s.health)
    }

    /// The process exited: deregister it for good.
    pub fn mark_stopped(&self, reason: String) {
        let mut s = self.lock();
        s.health = Health::Stopped;
        s.reason = reason;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The replicas of one stack and the round-robin cursor over them.
#[derive(Debug)]
pub struct TargetGroup {
    /// The stack's name.
    pub name: String,
    /// The health check.
    pub settings: HealthSettings,
    /// The replicas, in start order.
    pub targets: Vec<Arc<Target>>,
    next: AtomicUsize,
}

impl TargetGroup {
    /// A group of targets.
    pub fn new(name: &str, settings: HealthSettings, targets: Vec<Arc<Target>>) -> TargetGroup {
        TargetGroup {
            name: name.to_string(),
            settings,
            targets,
            next: AtomicUsize::new(0),
        }
    }

    /// The next target by round robin among the healthy ones (fail-open to unhealthy ones when
    /// none is healthy), skipping `tried`. `None` when no target can take traffic.
    pub fn pick(&self, tried: &[usize]) -> Option<usize> {
        let n = self.targets.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        // Round robin over the targets that can take traffic now, not over all of them:
        // skipping a dead one must not hand its turn to its neighbour (which would then get
        // twice the share).
        let with = |wanted: Health| -> Vec<usize> {
            (0..n)
                .filter(|&i| self.targets[i].health() == wanted)
                .collect()
        };
        let mut pool = with(Health::Healthy);
        if pool.is_empty() {
            pool = with(Health::Unhealthy);
        }
        pool.retain(|i| !tried.contains(i));
        (!pool.is_empty()).then(|| pool[start % pool.len()])
    }

    /// True when every target is healthy.
    pub fn all_healthy(&self) -> bool {
        self.targets.iter().all(|t| t.health() == Health::Healthy)
    }

    /// Check every target every `interval` (each check limited to `timeout`) until the process
    /// ends; report state changes.
    pub async fn run_health_checks(
        self: Arc<Self>,
        http: reqwest::Client,
        interval: Duration,
        timeout: Duration,
        on_change: OnHealthChange,
    ) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let checks = self.targets.iter().enumerate().map(|(i, t)| {
                let http = http.clone();
                let group = self.clone();
                let on_change = on_change.clone();
                async move {
                    if t.health() == Health::Stopped {
                        return;
                    }
                    let url = format!("http://127.0.0.1:{}{}", t.port, group.settings.path);
                    let (passed, reason) = match http.get(&url).timeout(timeout).send().await {
                        Ok(resp) => {
                            let code = resp.status().as_u16();
                            (
                                group.settings.matcher.matches(code),
                                format!("health check HTTP {code}"),
                            )
                        }
                        Err(e) if e.is_timeout() => {
                            (false, format!("health check timed out after {timeout:?}"))
                        }
                        Err(e) => (
                            false,
                            format!("health check failed: {}", crate::error::source_chain(&e)),
                        ),
                    };
                    if let Some(h) = t.record_check(passed, reason, &group.settings) {
                        on_change(&group.name, i, t, h);
                    }
                }
            });
            futures::future::join_all(checks).await;
        }
    }

    /// Every target's state.
    pub fn status(&self) -> Vec<TargetStatus> {
        self.targets.iter().map(|t| t.status()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> HealthSettings {
        HealthSettings {
            path: "/h".into(),
            healthy_threshold: 3,
            unhealthy_threshold: 2,
            matcher: Matcher::parse("200-299").unwrap(),
        }
    }

    #[test]
    fn matcher_parses_alb_syntax() {
        let m = Matcher::parse("200,202-204").unwrap();
        assert!(m.matches(200) && m.matches(203) && !m.matches(201) && !m.matches(500));
        assert!(Matcher::parse("ok").unwrap_err().contains("e.g. `200`"));
        assert!(Matcher::parse("300-200").is_err());
    }

    #[test]
    fn health_follows_the_alb_thresholds() {
        let s = settings();
        let t = Target::new(1, 1);
        assert_eq!(t.record_check(false, "x".into(), &s), None, "still initial");
        assert_eq!(t.record_check(true, "ok".into(), &s), Some(Health::Healthy));
        assert_eq!(
            t.record_check(false, "x".into(), &s),
            None,
            "one failure is not enough"
        );
        assert_eq!(
            t.record_check(false, "x".into(), &s),
            Some(Health::Unhealthy)
        );
        assert_eq!(t.record_check(true, "ok".into(), &s), None);
        assert_eq!(t.record_check(true, "ok".into(), &s), None);
        assert_eq!(t.record_check(true, "ok".into(), &s), Some(Health::Healthy));
        t.mark_stopped("exited".into());
        assert_eq!(t.record_check(true, "ok".into(), &s), None);
        assert_eq!(t.health(), Health::Stopped);
    }

    #[test]
    fn round_robin_skips_unhealthy_and_stopped_targets_and_fails_open() {
        let s = settings();
        let targets: Vec<Arc<Target>> =
            (0..3).map(|i| Arc::new(Target::new(i, i as u32))).collect();
        for t in &targets {
            t.record_check(true, "ok".into(), &s);
        }
        let g = TargetGroup::new("g", s.clone(), targets.clone());
        let picks: Vec<usize> = (0..6).map(|_| g.pick(&[]).unwrap()).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        targets[1].record_check(false, "x".into(), &s);
        targets[1].record_check(false, "x".into(), &s);
        let picks: Vec<usize> = (0..4).map(|_| g.pick(&[]).unwrap()).collect();
        assert!(!picks.contains(&1), "{picks:?}");
        assert_eq!(
            g.pick(&[0, 2]),
            None,
            "unhealthy ones only when none is healthy"
        );
        targets[0].mark_stopped("exited".into());
        targets[2].mark_stopped("exited".into());
        assert_eq!(g.pick(&[]), Some(1), "fail open to the unhealthy one");
        targets[1].mark_stopped("exited".into());
        assert_eq!(g.pick(&[]), None);
    }

    #[test]
    fn a_dead_replica_s_turn_is_shared_evenly() {
        let s = settings();
        let targets: Vec<Arc<Target>> =
            (0..3).map(|i| Arc::new(Target::new(i, i as u32))).collect();
        for t in &targets {
            t.record_check(true, "ok".into(), &s);
        }
        let g = TargetGroup::new("g", s, targets.clone());
        targets[1].mark_stopped("exited".into());
        let mut counts = [0usize; 3];
        for _ in 0..3000 {
            counts[g.pick(&[]).unwrap()] += 1;
        }
        assert_eq!(counts, [1500, 0, 1500]);
    }
}
