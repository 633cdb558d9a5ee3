//! `service.autoscaling`: the range Application Auto Scaling keeps the service's desired count
//! in and the target-tracking metrics that move it, validated at load (every key in range,
//! `min <= max`, at least one metric, `desired_count` inside the range).

use super::file::{AutoscalingFile, StackFile, Text};
use super::layers::Place;
use super::model::Autoscaling;
use super::resolve::Resolver;

/// Most tasks a service scales to here (the same bound as `service.desired_count`).
pub const MAX_TASKS: i64 = 1000;

/// Default seconds after a scale-in before the next one (ECS's own default for target tracking:
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html>).
pub const SCALE_IN_COOLDOWN: i64 = 300;
/// Default seconds after a scale-out before the next one.
pub const SCALE_OUT_COOLDOWN: i64 = 60;

fn section(f: &StackFile) -> Option<&AutoscalingFile> {
    f.service
        .as_ref()
        .and_then(|s| s.value.autoscaling.as_ref())
        .map(|a| &a.value)
}

/// A getter for one key of `service.autoscaling`.
macro_rules! key {
    ($k:ident) => {
        |f: &StackFile| section(f).and_then(|a| a.$k.as_ref())
    };
}

impl<'a> Resolver<'a> {
    /// `service.autoscaling`, when a layer has it; every problem recorded.
    pub(super) fn autoscaling(&mut self) -> Option<Autoscaling> {
        let (layer, s) = self.pick(|f: &StackFile| {
            f.service
                .as_ref()
                .and_then(|s| s.value.autoscaling.as_ref())
        })?;
        let section_place = layer.place(s.referenced);
        let min = self.bound("min", 0, key!(min), &section_place);
        let max = self.bound("max", 1, key!(max), &section_place);
        let requests = self.optional_int(
            "requests_per_target",
            1,
            1_000_000,
            key!(requests_per_target),
        );
        let cpu = self.optional_int("cpu_percent", 1, 100, key!(cpu_percent));
        let scale_in = self.int(
            "service.autoscaling.scale_in_cooldown",
            SCALE_IN_COOLDOWN,
            0,
            86_400,
            key!(scale_in_cooldown),
        );
        let scale_out = self.int(
            "service.autoscaling.scale_out_cooldown",
            SCALE_OUT_COOLDOWN,
            0,
            86_400,
            key!(scale_out_cooldown),
        );
        if let (Some((lo, _)), Some((hi, hi_place))) = (&min, &max) {
            if lo > hi {
                self.error(
                    hi_place,
                    format!("`service.autoscaling.max` is {hi}, below `min` {lo}; make max at least min"),
                );
                return None;
            }
        }
        if matches!(requests, Ok(None)) && matches!(cpu, Ok(None)) {
            self.error(
                &section_place,
                "`service.autoscaling` tracks no metric; add `requests_per_target: 100` (ALB requests per task per minute) and/or `cpu_percent: 60`",
            );
            return None;
        }
        Some(Autoscaling {
            min: min?.0 as i32,
            max: max?.0 as i32,
            requests_per_target: requests.ok()?.map(|v| v as i32),
            cpu_percent: cpu.ok()?.map(|v| v as i32),
            scale_in_cooldown: scale_in?.0 as i32,
            scale_out_cooldown: scale_out?.0 as i32,
        })
    }

    /// A required count of the section (`min`, `max`).
    fn bound(
        &mut self,
        key: &str,
        lo: i64,
        get: impl Fn(&'a StackFile) -> Option<&'a Text>,
        section_place: &Place,
    ) -> Option<(i64, Place)> {
        let full = format!("service.autoscaling.{key}");
        if self.pick(&get).is_none() {
            self.error(
                section_place,
                format!("missing `{full}`; write e.g. `autoscaling: {{min: 2, max: 10, requests_per_target: 100}}`"),
            );
            return None;
        }
        match self.int(&full, lo, lo, MAX_TASKS, get) {
            Some((v, Some(p))) => Some((v, p)),
            _ => None,
        }
    }

    /// An optional whole number of the section: `Ok(None)` when absent, `Err` when broken.
    fn optional_int(
        &mut self,
        key: &str,
        lo: i64,
        hi: i64,
        get: impl Fn(&'a StackFile) -> Option<&'a Text>,
    ) -> Result<Option<i64>, ()> {
        if self.pick(&get).is_none() {
            return Ok(None);
        }
        match self.int(&format!("service.autoscaling.{key}"), lo, lo, hi, get) {
            Some((v, Some(_))) => Ok(Some(v)),
            // Present but empty: as if absent.
            Some((_, None)) => Ok(None),
            None => Err(()),
        }
    }

    /// The desired count `up` creates the service with: with autoscaling, the stack's
    /// `desired_count` when inside min..max (an explicit one outside is an error), else the
    /// nearest bound.
    pub(super) fn count_in_range(
        &mut self,
        desired: Option<(i64, Option<Place>)>,
        autoscaling: Option<&Autoscaling>,
    ) -> i32 {
        let (count, place) = desired.unwrap_or((2, None));
        let Some(a) = autoscaling else {
            return count as i32;
        };
        let (lo, hi) = (i64::from(a.min), i64::from(a.max));
        // A count written beside the range contradicts it; one inherited from a shared file
        // is only a starting point.
        let section_file = self
            .pick(|f: &StackFile| {
                f.service
                    .as_ref()
                    .and_then(|s| s.value.autoscaling.as_ref())
            })
            .map(|(l, _)| l.display.clone());
        let beside = |p: &Place| section_file.as_deref() == Some(p.file.as_str());
        if let (Some(p), false) = (place.filter(beside), (lo..=hi).contains(&count)) {
            self.error(
                &p,
                format!("`service.desired_count` is {count}, outside `service.autoscaling` min {lo} .. max {hi}; write a count in that range or leave it out"),
            );
        }
        count.clamp(lo, hi) as i32
    }
}

#[cfg(test)]
#[path = "scaling_tests.rs"]
mod tests;
