//! The record of a progressive cutover in flight (`cutover --steps`), kept on the production
//! rule beside the routing record ([`super::record`]) so that `cutover --resume` continues it
//! from any machine after the process was killed or lost its connection.
//!
//! One tag value (ELB values: 256 characters of letters, digits, spaces and `_ . : / = + - @`):
//!
//! ```text
//! v1 to=opensearch-mcp-tg-stateless steps=10/50/100 step=1 since=1764650000 bake=300
//! ```
//!
//! `step` is the index (from 0) of the step whose weights were set last, `since` when that step
//! began (Unix seconds), `bake` its bake in seconds. The tag is written in the same call as the
//! routing record, before the step's `ModifyRule`, so there is never a half-step without a record.

use serde::Serialize;

use super::cutover::Percent;
use super::record::{valid_target_group_name, MAX_TAG_VALUE};

/// Tag key of the progressive record (its `mcpctl:cutover` prefix makes `up` leave the rule's
/// routing alone, like the other cutover tags).
pub const PROGRESS_TAG: &str = "mcpctl:cutover-progressive";

/// Most steps in one progressive cutover.
pub const MAX_STEPS: usize = 20;

/// Longest bake per step (a day): a typo like `--bake 5000h` is refused.
pub const MAX_BAKE_SECONDS: u64 = 24 * 3600;

const VERSION: &str = "v1";

/// A progressive cutover in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The target group (by name) receiving the traffic.
    pub to: String,
    /// The steps, rising percentages ending at 100 or below.
    pub steps: Vec<Percent>,
    /// Index of the step whose weights were set last.
    pub step: usize,
    /// When that step began, in Unix seconds.
    pub since: u64,
    /// Bake per step, in seconds.
    pub bake: u64,
}

/// Why a `--steps` list or a recorded progress tag is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProgressError(pub String);

/// Parse and check `--steps 10,50,100`: 1 to [`MAX_STEPS`] whole percentages, each above the one
/// before (a progressive cutover only moves traffic forward; `rollback` moves it back).
pub fn parse_steps(text: &str) -> Result<Vec<Percent>, ProgressError> {
    let steps = text
        .split([',', '/'])
        .map(|s| {
            s.parse::<Percent>()
                .map_err(|_| ProgressError(format!("`{s}` in --steps is not a whole percentage from 1 to 100 (write e.g. --steps 10,50,100)")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_steps(&steps)?;
    Ok(steps)
}

fn check_steps(steps: &[Percent]) -> Result<(), ProgressError> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(ProgressError(format!(
            "--steps needs 1 to {MAX_STEPS} percentages, e.g. --steps 10,50,100"
        )));
    }
    if let Some(w) = steps.windows(2).find(|w| w[1].get() <= w[0].get()) {
        return Err(ProgressError(format!(
            "--steps must rise: {} comes after {} (a progressive cutover moves traffic forward; `mcpctl rollback` moves it back)",
            w[1].get(),
            w[0].get()
        )));
    }
    Ok(())
}

impl Progress {
    /// The tag value.
    pub fn encode(&self) -> String {
        let steps: Vec<String> = self.steps.iter().map(|p| p.get().to_string()).collect();
        format!(
            "{VERSION} to={} steps={} step={} since={} bake={}",
            self.to,
            steps.join("/"),
            self.step,
            self.since,
            self.bake
        )
    }

    /// Read a tag value; anything unexpected is an error naming it (a hand-edited tag is never
    /// guessed at).
    pub fn decode(value: &str) -> Result<Progress, ProgressError> {
        let bad = |why: &str| {
            ProgressError(format!(
                "the progressive cutover recorded in tag {PROGRESS_TAG} (`{value}`) cannot be read: {why}; finish by hand with `mcpctl cutover --weight N` or `mcpctl rollback`"
            ))
        };
        if value.len() > MAX_TAG_VALUE {
            return Err(bad("longer than a tag value can be"));
        }
        let mut words = value.split(' ');
        if words.next() != Some(VERSION) {
            return Err(bad("unknown version"));
        }
        let (mut to, mut steps, mut step, mut since, mut bake) = (None, None, None, None, None);
        for w in words {
            let (k, v) = w.split_once('=').ok_or_else(|| bad("a word without `=`"))?;
            let number = || {
                v.parse::<u64>()
                    .map_err(|_| bad("a number is not a number"))
            };
            match k {
                "to" if valid_target_group_name(v) => to = Some(v.to_string()),
                "steps" => steps = Some(parse_steps(v).map_err(|e| bad(&e.0))?),
                "step" => step = Some(number()?),
                "since" => since = Some(number()?),
                "bake" => bake = Some(number()?),
                _ => return Err(bad(&format!("unexpected `{w}`"))),
            }
        }
        let p = Progress {
            to: to.ok_or_else(|| bad("no target group"))?,
            steps: steps.ok_or_else(|| bad("no steps"))?,
            step: usize::try_from(step.ok_or_else(|| bad("no step"))?)
                .map_err(|_| bad("step out of range"))?,
            since: since.ok_or_else(|| bad("no start time"))?,
            bake: bake.ok_or_else(|| bad("no bake"))?,
        };
        if p.step >= p.steps.len() || p.bake > MAX_BAKE_SECONDS {
            return Err(bad("step or bake out of range"));
        }
        Ok(p)
    }

    /// The weight of the current step.
    pub fn weight(&self) -> Percent {
        self.steps[self.step]
    }

    /// Seconds of the current step's bake left at `now` (Unix seconds).
    pub fn bake_left(&self, now: u64) -> u64 {
        self.bake.saturating_sub(now.saturating_sub(self.since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u8) -> Percent {
        Percent::new(n).unwrap()
    }

    #[test]
    fn steps_parse_rising_and_refuse_the_rest() {
        assert_eq!(
            parse_steps("10,50,100").unwrap(),
            vec![p(10), p(50), p(100)]
        );
        assert_eq!(parse_steps("25").unwrap(), vec![p(25)]);
        for (bad, says) in [
            ("", "not a whole percentage"),
            ("10,,100", "not a whole percentage"),
            ("10,0,100", "`0`"),
            ("50,10", "must rise"),
            ("10,10", "must rise"),
            ("10,150", "`150`"),
            ("ten", "`ten`"),
        ] {
            let e = parse_steps(bad).unwrap_err();
            assert!(e.0.contains(says), "{bad}: {e}");
        }
        let many: Vec<String> = (1..=21).map(|n| n.to_string()).collect();
        assert!(parse_steps(&many.join(","))
            .unwrap_err()
            .0
            .contains("1 to 20"));
    }

    #[test]
    fn the_record_round_trips_within_a_tag_value() {
        let r = Progress {
            to: "opensearch-mcp-tg-stateless".into(),
            steps: vec![p(10), p(50), p(100)],
            step: 1,
            since: 1_764_650_000,
            bake: 300,
        };
        let v = r.encode();
        assert_eq!(
            v,
            "v1 to=opensearch-mcp-tg-stateless steps=10/50/100 step=1 since=1764650000 bake=300"
        );
        assert!(v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c)));
        assert_eq!(Progress::decode(&v).unwrap(), r);
        assert_eq!(r.weight(), p(50));
        assert_eq!(r.bake_left(1_764_650_100), 200);
        assert_eq!(r.bake_left(1_764_651_000), 0);
        // Twenty steps with the longest names still fit.
        let long = Progress {
            to: "a".repeat(32),
            steps: (1..=20).map(|n| p(n * 5)).collect(),
            step: 19,
            since: u64::from(u32::MAX),
            bake: MAX_BAKE_SECONDS,
        };
        assert!(long.encode().len() <= MAX_TAG_VALUE);
        assert_eq!(Progress::decode(&long.encode()).unwrap(), long);
    }

    #[test]
    fn hand_edited_records_are_refused_not_guessed() {
        for bad in [
            "v2 to=tg steps=10/100 step=0 since=1 bake=1",
            "v1 to=tg steps=10/100 step=2 since=1 bake=1",
            "v1 to=tg steps=100/10 step=0 since=1 bake=1",
            "v1 to=tg steps=10/100 step=0 since=soon bake=1",
            "v1 to=tg steps=10/100 step=0 since=1 bake=999999",
            "v1 to=bad_name! steps=10 step=0 since=1 bake=1",
            "v1 to=tg steps=10 step=0 since=1",
            "v1 to=tg steps=10 step=0 since=1 bake=1 extra=1",
        ] {
            let e = Progress::decode(bad).unwrap_err();
            assert!(e.0.contains(PROGRESS_TAG), "{bad}: {e}");
        }
    }
}
