//! One step of a progressive rollout: make sure `--to` has the capacity, set the step's
//! weights, bake under the gates, then go on, or restore the recorded routing (a breach) or
//! stop (an interrupt).

use tokio::sync::mpsc::Receiver;

use super::bake::{bake, now_secs, BakeEnd, BakeSpec};
use super::capacity;
use super::rollout::{Observer, Outcome, RolloutReport, RolloutSpec, Scene, StepReport};
use crate::aws::listener_rule::RuleChange;
use crate::cutover::apply::restore;
use crate::cutover::apply::step;
use crate::cutover::decide::judgement::not_judged;
use crate::cutover::decide::progress::Progress;
use crate::cutover::decide::window::StepWindow;
use crate::cutover::decide::Percent;
use crate::error::{Error, Result};

/// A progressive rollout under way.
pub(super) struct Rollout<'a, 'b> {
    /// Where it happens.
    pub scene: Scene<'a>,
    /// How it runs.
    pub spec: &'a RolloutSpec,
    /// Who hears about it.
    pub observer: &'b mut dyn Observer,
    /// Ctrl-C / SIGTERM.
    pub interrupts: &'b mut Receiver<()>,
    /// What happened so far.
    pub report: RolloutReport,
    /// The previous step's bake window.
    pub previous: Option<StepWindow>,
}

impl Rollout<'_, '_> {
    /// Raise `--to`'s capacity if the step needs it (unless `--force`), then set step `index`'s
    /// weights (`first`: the first step of this run, whose bake restarts when resuming on a
    /// step whose weights never got set).
    pub async fn set_step(
        &mut self,
        index: usize,
        first: bool,
        progress: &mut Progress,
    ) -> Result<step::Step> {
        let (scene, spec) = (self.scene, self.spec);
        let weight = spec.steps[index];
        if !spec.force {
            let raised = capacity::ensure(scene, weight, spec.capacity_wait, self.interrupts)
                .await
                .map_err(|e| stopped_at(e, &self.report))?;
            if let Some(r) = raised {
                self.observer.note(&r.describe(&scene.to.name));
                self.report.capacity_raised.push(r);
            }
        }
        let stopped = |e| stopped_at(e, &self.report);
        let mut prepared = prepare(scene, spec, weight, progress)
            .await
            .map_err(stopped)?;
        if self.report.resumed && first && switches(&prepared) {
            // Resumed on a step whose weights never got set (stopped between the record and
            // the switch): its bake starts now.
            progress.since = now_secs();
            prepared = prepare(scene, spec, weight, progress)
                .await
                .map_err(stopped)?;
        }
        step::apply(scene.aws, &mut prepared)
            .await
            .map_err(stopped)?;
        self.observer
            .step_set(index, spec.steps.len(), &prepared.report);
        Ok(prepared)
    }

    /// Bake step `index` under the gates and record it in the report.
    pub async fn bake_step(
        &mut self,
        index: usize,
        progress: &Progress,
        prepared: &step::Step,
    ) -> BakeEnd {
        let spec = self.spec;
        let (weight, of) = (spec.steps[index], spec.steps.len());
        let now = now_secs();
        let bake_spec = BakeSpec {
            alb_arn: &prepared.report.listener.load_balancer_arn,
            to_arn: &prepared.to_arn,
            window: StepWindow::new(
                progress.since,
                now + progress.bake_left(now),
                spec.metrics_lag.as_secs(),
                self.previous.as_ref(),
            ),
            interval: spec.interval,
            thresholds: &spec.thresholds,
            probe: spec.probe.as_ref(),
        };
        self.previous = Some(bake_spec.window);
        let mut readings = 0u32;
        let observer = &mut *self.observer;
        let (mut end, last) = bake(self.scene.aws, &bake_spec, self.interrupts, &mut |r| {
            readings += 1;
            observer.reading(index, of, weight, r)
        })
        .await;
        let judgement = match &end {
            BakeEnd::Passed(j) => Some(j.clone()),
            _ => None,
        };
        if let Some(j) = judgement
            .as_ref()
            .filter(|j| spec.require_traffic && !j.judged)
        {
            end = BakeEnd::Breached(not_judged(j));
        }
        self.report.steps.push(StepReport {
            index,
            weight: weight.get(),
            since: progress.since,
            routing: prepared.report.routing_after.clone(),
            calls: prepared.report.calls.clone(),
            last_reading: last,
            readings,
            judgement,
        });
        end
    }

    /// After step `index`'s bake: go on (`None`), or the outcome that ends the rollout (the
    /// recorded routing restored after a breach, or as the observer decides on an interrupt).
    pub async fn after_bake(&mut self, index: usize, end: BakeEnd) -> Result<Option<Outcome>> {
        let scene = self.scene;
        let (weight, of) = (self.spec.steps[index], self.spec.steps.len());
        match end {
            BakeEnd::Passed(j) => {
                self.observer.step_done(index, of, weight, &j);
                Ok(None)
            }
            BakeEnd::Breached(breach) => {
                self.observer.restoring(&format!(
                    "step {} of {of} ({}%) breached a gate: {}",
                    index + 1,
                    weight.get(),
                    breach.message
                ));
                restore_into(scene, &mut self.report).await.map_err(|e| {
                    Error::failed_with(
                        format!(
                            "step {} ({}%) breached a gate ({}), and restoring the routing recorded before the cutover failed: run `mcpctl rollback --stack {}` now",
                            index + 1, weight.get(), breach.message, scene.from.name
                        ),
                        e,
                    )
                })?;
                Ok(Some(Outcome::Aborted {
                    step: index,
                    breach,
                }))
            }
            BakeEnd::Interrupted => {
                let rolled_back = self.observer.interrupted(index);
                if rolled_back {
                    self.observer.restoring(&format!(
                        "interrupted during step {} of {of} ({}%)",
                        index + 1,
                        weight.get()
                    ));
                    restore_into(scene, &mut self.report).await?;
                }
                Ok(Some(Outcome::Interrupted {
                    step: index,
                    rolled_back,
                }))
            }
        }
    }
}

/// An error after a step's weights were set: say where the routing was left and how to go on
/// (the error keeps its kind and exit code, and its cause).
pub(super) fn stopped_at(e: Error, report: &RolloutReport) -> Error {
    let Some(last) = report.steps.last() else {
        return e;
    };
    let note = format!(
        "the progressive cutover stopped after step {} ({}% to stack {}): the routing stays there with its record on the rule; continue with `mcpctl cutover --from {} --to {} --resume`, or undo with `mcpctl rollback`",
        last.index + 1,
        last.weight,
        report.to,
        report.from,
        report.to
    );
    match e {
        Error::Refused { message, source } => Error::Refused {
            message: format!("{message}; {note}"),
            source,
        },
        Error::BadInput { message, source } => Error::BadInput {
            message: format!("{message}; {note}"),
            source,
        },
        Error::Interrupted(m) => Error::Interrupted(format!("{m}; {note}")),
        Error::Failed(a) => Error::Failed(a.context(note)),
        other => other,
    }
}

async fn prepare(
    scene: Scene<'_>,
    spec: &RolloutSpec,
    weight: Percent,
    progress: &Progress,
) -> Result<step::Step> {
    step::prepare(
        scene.aws,
        scene.from,
        scene.to,
        scene.region,
        weight,
        spec.force,
        Some(progress.encode()),
    )
    .await
}

fn switches(s: &step::Step) -> bool {
    s.changes
        .iter()
        .any(|c| matches!(c, RuleChange::SetForward { .. }))
}

/// Restore the production rule's recorded routing (re-read now: the last look is against it).
async fn restore_into(scene: Scene<'_>, report: &mut RolloutReport) -> Result<()> {
    let (_, rule) = step::production_rule(scene.aws, scene.from, scene.region).await?;
    let Some(r) = restore::plan(scene.aws, &rule, false, scene.stacks_dir).await? else {
        return Err(Error::refused(format!(
            "{} carries no record of the routing before the cutover",
            rule.label()
        )));
    };
    report.restore_ms = restore::apply(scene.aws, std::slice::from_ref(&r)).await?;
    report.restored = Some(r.report);
    Ok(())
}
