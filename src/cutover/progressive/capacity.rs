//! Capacity before weight, for a `--to` stack with `service.autoscaling`: instead of refusing a
//! step its healthy targets cannot carry ([`crate::cutover::decide::capacity`]), raise the scalable
//! target's minimum to what the step needs and wait (at most `--capacity-wait`) until that many
//! targets are healthy. Target tracking would react only minutes after the load arrived.
//! Without autoscaling the step itself refuses (exit 3) with the numbers and the fix.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc::Receiver;

use super::rollout::Scene;
use crate::aws::{scaling, target_group};
use crate::cutover::decide::{capacity, Percent};
use crate::error::{Error, Result};
use crate::plan::scaling::resource_id;

/// Time between target health reads while waiting.
const POLL: Duration = Duration::from_secs(5);

/// A minimum raised for a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Raised {
    /// The step's share, in percent.
    pub weight: u8,
    /// The scalable target's minimum before.
    pub from_min: i32,
    /// The minimum set (the healthy targets the step needs).
    pub to_min: i32,
    /// Healthy `--to` targets when the wait ended.
    pub healthy: usize,
    /// Seconds waited for them.
    pub waited_seconds: u64,
}

impl Raised {
    /// What people read.
    pub fn describe(&self, stack: &str) -> String {
        if self.from_min >= self.to_min {
            return format!(
                "stack {stack} has autoscaling: waited {}s for the {} healthy targets the {}% step needs (its minimum is {})",
                self.waited_seconds, self.healthy, self.weight, self.from_min
            );
        }
        format!(
            "stack {stack} has autoscaling: its minimum was raised from {} to {} for the {}% step ({} healthy after {}s); `service.autoscaling.min` in the stack file is unchanged, so raise it there too or the next `mcpctl up` puts it back",
            self.from_min, self.to_min, self.weight, self.healthy, self.waited_seconds
        )
    }
}

/// Make sure the `--to` stack can carry `weight`: `None` when it can (or has no autoscaling,
/// or its groups do not exist: the step's own checks then say so), `Some` when its minimum was
/// raised and enough targets became healthy. An interrupt or a wait that runs out is an error
/// (nothing of this step's routing was changed).
pub async fn ensure(
    scene: Scene<'_>,
    weight: Percent,
    wait: Duration,
    interrupts: &mut Receiver<()>,
) -> Result<Option<Raised>> {
    let Some(auto) = &scene.to.service.autoscaling else {
        return Ok(None);
    };
    let aws = scene.aws;
    let Some(to_arn) = target_group::arn_by_name(aws, &scene.to.names.target_group).await? else {
        return Ok(None);
    };
    let serving = match target_group::arn_by_name(aws, &scene.from.names.target_group).await? {
        Some(arn) => target_group::health_count(aws, &arn).await?.healthy,
        None => 0,
    };
    let healthy = target_group::health_count(aws, &to_arn).await?.healthy;
    let Err(short) = capacity::check(weight, healthy, serving) else {
        return Ok(None);
    };
    let id = resource_id(&scene.to.cluster, &scene.to.names.service);
    let observed = scaling::observe(aws, &id).await?;
    let (min, max) = observed.map_or((auto.min, auto.max), |o| (o.min, o.max));
    let needed = i32::try_from(short.needed).unwrap_or(i32::MAX);
    if needed > min {
        scaling::register(aws, &id, needed, max.max(needed)).await?;
    }
    let started = Instant::now();
    let mut healthy = healthy;
    while healthy < short.needed {
        if started.elapsed() >= wait {
            return Err(Error::refused(format!(
                "stack {} cannot take {}% of production yet: {} healthy of the {} needed after waiting {}s (its autoscaling minimum is now {}); wait until `mcpctl status --stack {}` shows them, then run again with a longer --capacity-wait, or pass --force",
                scene.to.name, weight.get(), healthy, short.needed, started.elapsed().as_secs(), needed.max(min), scene.to.name
            )));
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            Some(()) = interrupts.recv() => {
                return Err(Error::Interrupted(format!(
                    "interrupted while waiting for stack {}'s healthy targets before the {}% step (its autoscaling minimum is now {}); the routing of this step was not changed",
                    scene.to.name, weight.get(), needed.max(min)
                )));
            }
        }
        healthy = target_group::health_count(aws, &to_arn).await?.healthy;
    }
    Ok(Some(Raised {
        weight: weight.get(),
        from_min: min,
        to_min: needed.max(min),
        healthy,
        waited_seconds: started.elapsed().as_secs(),
    }))
}
