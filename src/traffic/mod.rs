//! The routing model behind `cutover`, `rollback` and `cleanup`: a listener rule's forward
//! action as a typed value ([`Forward`]), the pure "before → after" of a cutover
//! ([`cutover::cutover`]), the rollback decision, and the record of the replaced routing kept on
//! the production rule's tags ([`record`]). Deciding is pure; the one module that reads and
//! changes AWS is [`alb`] (a listener's rules as [`alb::RuleView`]s, and
//! [`alb::RuleChange::apply`] for the calls the decisions plan).

pub mod alb;
pub mod call;
pub mod cutover;
pub mod forward;
pub mod handover;
pub mod record;

pub use cutover::{CutoverChange, Percent, RecordUpdate, RollbackDecision};
pub use forward::{Forward, ForwardError, Spelling, Stickiness, WeightedGroup};
