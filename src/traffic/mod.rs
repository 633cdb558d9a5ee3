//! The routing model behind `cutover`, `rollback` and `cleanup`: a listener rule's forward
//! action as a typed value ([`Forward`]), the pure "before → after" of a cutover
//! ([`cutover::cutover`]), the rollback decision, and the record of the replaced routing kept on
//! the production rule's tags ([`record`]). Nothing here calls AWS.

pub mod alb;
pub mod call;
pub mod cutover;
pub mod forward;
pub mod handover;
pub mod record;

pub use cutover::{CutoverChange, Percent, RecordUpdate, RollbackDecision};
pub use forward::{Forward, ForwardError, Spelling, Stickiness, WeightedGroup};
