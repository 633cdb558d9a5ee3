//! A progressive cutover (`cutover --steps 10,50,100 --bake 5m`): for each step set the weights
//! ([`crate::cutover::apply::step`], with the progress record on the rule), bake it ([`super::bake`]),
//! and on a breach restore the routing recorded before the cutover
//! ([`crate::cutover::apply::restore`]). An interrupt asks the caller whether to roll back; without a
//! rollback the record stays on the rule and `cutover --resume` continues from it.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc::Receiver;

use super::bake::{now_secs, ProbeSpec, Reading};
use super::capacity::Raised;
use super::stepping::{stopped_at, Rollout};
use crate::aws::listener_rule::RuleChange;
use crate::aws::{Call, Clients};
use crate::cutover::apply::restore::RuleRollback;
use crate::cutover::apply::step::CutoverReport;
use crate::cutover::decide::gate::{Breach, Thresholds};
use crate::cutover::decide::judgement::Judgement;
use crate::cutover::decide::progress::{Progress, PROGRESS_TAG};
use crate::cutover::decide::Percent;
use crate::error::Result;
use crate::stack::Stack;

/// Where the cutover happens.
#[derive(Debug, Clone, Copy)]
pub struct Scene<'a> {
    /// AWS clients.
    pub aws: &'a Clients,
    /// The stack serving production now.
    pub from: &'a Stack,
    /// The stack receiving the traffic.
    pub to: &'a Stack,
    /// The region.
    pub region: &'a str,
    /// Where cleanup archives are searched when a restore needs deleted target groups.
    pub stacks_dir: &'a Path,
}

/// How the progressive cutover runs.
#[derive(Debug, Clone)]
pub struct RolloutSpec {
    /// The steps, rising.
    pub steps: Vec<Percent>,
    /// Bake per step.
    pub bake: Duration,
    /// Time between metric reads.
    pub interval: Duration,
    /// Longest wait after a bake for CloudWatch's late periods (`--metrics-lag`).
    pub metrics_lag: Duration,
    /// The gates.
    pub thresholds: Thresholds,
    /// `--require-traffic`: a step whose rates could not be judged breaches.
    pub require_traffic: bool,
    /// The MCP probe (`None` with `--no-probe`).
    pub probe: Option<ProbeSpec>,
    /// Go ahead even when `--to` has no healthy targets, or too few for a step.
    pub force: bool,
    /// Longest wait for the healthy targets a step needs, after raising the `--to` stack's
    /// autoscaling minimum (`--capacity-wait`).
    pub capacity_wait: Duration,
    /// Continue this recorded progressive cutover instead of starting one.
    pub resume: Option<Progress>,
}

/// One step as it went.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Index from 0.
    pub index: usize,
    /// The `--to` stack's share, in percent.
    pub weight: u8,
    /// When the step began (Unix seconds).
    pub since: u64,
    /// Routing after the step.
    pub routing: String,
    /// The calls the step made (none when resumed on weights already set).
    pub calls: Vec<Call>,
    /// The last reading of its bake.
    pub last_reading: Option<Reading>,
    /// Readings taken.
    pub readings: u32,
    /// What a step that held was judged on (`judged`, `requests`, `unread_periods`,
    /// `not_judged`); absent for a step that breached or was interrupted.
    #[serde(flatten)]
    pub judgement: Option<Judgement>,
}

/// How the progressive cutover ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Every step baked with its gates holding: the last step's weights stay.
    Completed,
    /// A gate broke at `step`; the recorded routing was restored.
    Aborted {
        /// The step (index) whose bake broke.
        step: usize,
        /// The gate and its numbers.
        breach: Breach,
    },
    /// Interrupted (Ctrl-C, SIGTERM) during `step`'s bake.
    Interrupted {
        /// The step (index).
        step: usize,
        /// True when the recorded routing was restored; false when the routing stays at the
        /// step, with the record for `--resume`.
        rolled_back: bool,
    },
}

/// Everything a progressive cutover did, for `--output json` and the closing text.
#[derive(Debug, Clone, Serialize)]
pub struct RolloutReport {
    /// The stack production moved from.
    pub from: String,
    /// The stack it moved to.
    pub to: String,
    /// The planned steps, in percent.
    pub steps_planned: Vec<u8>,
    /// Bake per step, in seconds.
    pub bake_seconds: u64,
    /// The gates.
    pub thresholds: Thresholds,
    /// The probe URL (`None` with `--no-probe`).
    pub probe_url: Option<String>,
    /// True when this run continued a recorded one.
    pub resumed: bool,
    /// The steps run, in order.
    pub steps: Vec<StepReport>,
    /// How it ended (`outcome` and its fields, at the top level of the report).
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The restored routing, after an abort or an interrupt with rollback.
    pub restored: Option<RuleRollback>,
    /// Milliseconds the restoring `ModifyRule` took.
    pub restore_ms: Option<f64>,
    /// Autoscaling minimums raised so that a step's share could be carried.
    pub capacity_raised: Vec<Raised>,
}

/// What the caller hears while a progressive cutover runs.
pub trait Observer {
    /// A step's weights were set (or were already in place when resuming).
    fn step_set(&mut self, index: usize, of: usize, report: &CutoverReport);
    /// A reading during a bake.
    fn reading(&mut self, index: usize, of: usize, weight: Percent, reading: &Reading);
    /// A step's bake and its wait for late metrics ended with no gate breached.
    fn step_done(&mut self, index: usize, of: usize, weight: Percent, judgement: &Judgement);
    /// Something worth saying between steps (an autoscaling minimum raised).
    fn note(&mut self, text: &str);
    /// A breach or an interrupt is about to restore the recorded routing.
    fn restoring(&mut self, why: &str);
    /// Ctrl-C or SIGTERM arrived during a bake: true to roll back, false to leave the routing
    /// at the step for `--resume`.
    fn interrupted(&mut self, index: usize) -> bool;
}

/// Run the progressive cutover. Errors are failures before or between steps (an AWS call, a
/// refusal); a breach or an interrupt is an [`Outcome`], with the routing restored or recorded.
pub async fn run(
    scene: Scene<'_>,
    spec: &RolloutSpec,
    observer: &mut dyn Observer,
    interrupts: &mut Receiver<()>,
) -> Result<RolloutReport> {
    let mut r = Rollout {
        scene,
        spec,
        observer,
        interrupts,
        report: new_report(scene, spec),
        previous: None,
    };
    let (first, mut recorded_since) = match &spec.resume {
        Some(p) => (p.step, Some(p.since)),
        None => (0, None),
    };
    let mut rule_arn = String::new();
    for index in first..spec.steps.len() {
        let mut progress = Progress {
            to: scene.to.names.target_group.clone(),
            steps: spec.steps.clone(),
            step: index,
            since: recorded_since.take().unwrap_or_else(now_secs),
            bake: spec.bake.as_secs(),
        };
        let prepared = r.set_step(index, index == first, &mut progress).await?;
        rule_arn = prepared.rule.arn.clone();
        let end = r.bake_step(index, &progress, &prepared).await;
        if let Some(outcome) = r.after_bake(index, end).await? {
            r.report.outcome = outcome;
            return Ok(r.report);
        }
    }
    // Done: the last step's weights stay, the routing record stays for `rollback`, and the
    // progress record goes.
    if !rule_arn.is_empty() {
        RuleChange::RemoveTags {
            rule_arn,
            keys: vec![PROGRESS_TAG.to_string()],
        }
        .apply(scene.aws)
        .await
        .map_err(|e| stopped_at(e, &r.report))?;
    }
    Ok(r.report)
}

/// The report of a rollout about to start (no step yet, completed until told otherwise).
fn new_report(scene: Scene<'_>, spec: &RolloutSpec) -> RolloutReport {
    RolloutReport {
        from: scene.from.name.clone(),
        to: scene.to.name.clone(),
        steps_planned: spec.steps.iter().map(|p| p.get()).collect(),
        bake_seconds: spec.bake.as_secs(),
        thresholds: spec.thresholds.clone(),
        probe_url: spec.probe.as_ref().map(|p| p.http.url().to_string()),
        resumed: spec.resume.is_some(),
        steps: Vec::new(),
        outcome: Outcome::Completed,
        restored: None,
        restore_ms: None,
        capacity_raised: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn an_error_after_a_step_says_where_the_routing_stays_and_keeps_its_kind() {
        let mut report = RolloutReport {
            from: "stateful".into(),
            to: "stateless".into(),
            steps_planned: vec![10, 100],
            bake_seconds: 60,
            thresholds: Thresholds::default(),
            probe_url: None,
            resumed: false,
            steps: Vec::new(),
            outcome: Outcome::Completed,
            restored: None,
            restore_ms: None,
            capacity_raised: Vec::new(),
        };
        // Before any step: the error as it is.
        let e = stopped_at(Error::refused("no healthy targets"), &report);
        assert_eq!(e.to_string(), "no healthy targets");
        report.steps.push(StepReport {
            index: 0,
            weight: 10,
            since: 1,
            routing: String::new(),
            calls: Vec::new(),
            last_reading: None,
            readings: 3,
            judgement: None,
        });
        let e = stopped_at(Error::refused("no healthy targets"), &report);
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().starts_with("no healthy targets; the progressive cutover stopped after step 1 (10% to stack stateless)"), "{e}");
        assert!(e
            .to_string()
            .contains("mcpctl cutover --from stateful --to stateless --resume"));
        let e = stopped_at(Error::failed("throttled"), &report);
        assert_eq!(e.exit_code(), 1);
        assert!(format!("{e:#}").ends_with(": throttled"), "{e:#}");
    }
}
