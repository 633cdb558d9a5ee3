//! Cutover in one place: moving production traffic from one stack's target group to another's,
//! and back.
//!
//! * [`decide`] — the pure decisions (no AWS call): the "before → after" of a cutover, the
//!   rollback decision, the routing record kept on the production rule's tags, the progressive
//!   record, whether `--to` can carry a step, drift, and what `cleanup` does with each rule.
//! * [`apply`] — the AWS side of those decisions: one cutover step and the restore of a
//!   recorded routing, used by `cutover`, `rollback` and the progressive rollout.
//! * [`progressive`] — the progressive rollout (`--steps`): its gates and bake windows (pure)
//!   and its bakes, probe, rollout loop and `monitor` (AWS).
//!
//! `commands/cutover`, `commands/rollback` and `commands/monitor` parse the flags and print.

pub mod apply;
pub mod decide;
pub mod progressive;
