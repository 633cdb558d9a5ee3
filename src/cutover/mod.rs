//! Cutover in one place: moving production traffic from one stack's target group to another's,
//! and back.
//!
//! * [`decide`] — every pure decision (no AWS call): the "before → after" of a cutover, the
//!   rollback decision, the routing record kept on the production rule's tags, the progressive
//!   record, whether `--to` can carry a step, drift, what `cleanup` does with each rule, and the
//!   progressive rollout's gates, bake windows and judgements. It imports neither `aws` nor
//!   the other two parts.
//! * [`apply`] — the AWS side of those decisions: one cutover step and the restore of a
//!   recorded routing, used by `cutover`, `rollback` and the progressive rollout.
//! * [`progressive`] — the progressive rollout (`--steps`) that drives both: its bakes (read
//!   CloudWatch, probe, ask `decide` for the verdict), the rollout loop and `monitor`.
//!
//! `commands/cutover`, `commands/rollback` and `commands/monitor` parse the flags and print.

pub mod apply;
pub mod decide;
pub mod progressive;
