//! Progressive cutover: move production traffic in steps (`--steps 10,50,100`), and during each
//! step's bake read the `--to` target group's CloudWatch metrics and probe the `--to` stack,
//! judged by the pure gates over the periods the step covers
//! ([`crate::cutover::decide::gate`], [`crate::cutover::decide::window`]); a breach rolls the
//! routing back by itself. [`start`] reads what a rollout starts from (the record to resume,
//! the probe's URL, the first step).

pub mod bake;
pub mod capacity;
pub mod monitor;
pub mod probe;
pub mod rollout;
pub mod start;
mod stepping;
