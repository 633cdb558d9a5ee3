//! The routing decisions behind `cutover`, `rollback` and `cleanup`, all pure: the "before →
//! after" of a cutover ([`cutover::cutover`]), the rollback decision, the record of the
//! replaced routing kept on the production rule's tags ([`record`]), whether the `--to` stack
//! can carry a step ([`capacity`]), the comparison of that
//! record with the live routing ([`drift`]) and what `cleanup` does with each rule
//! ([`handover`]). Nothing here calls AWS: the rules and forward actions these decisions read
//! are the model's ([`crate::model::ListenerRule`], [`crate::model::Forward`]); the calls they
//! plan are `aws::listener_rule::RuleChange`s, made by [`super::apply`] and the commands.

pub mod capacity;
pub mod cutover;
pub mod drift;
pub mod gate;
pub mod handover;
pub mod judgement;
pub mod progress;
pub mod record;
pub mod window;

pub use cutover::{Percent, RecordUpdate, RollbackDecision};
