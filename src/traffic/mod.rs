//! The routing decisions behind `cutover`, `rollback` and `cleanup`, all pure: the "before →
//! after" of a cutover ([`cutover::cutover`]), the rollback decision, the record of the
//! replaced routing kept on the production rule's tags ([`record`]), whether the `--to` stack
//! can carry a step ([`capacity`]), the comparison of that
//! record with the live routing ([`drift`]) and what `cleanup` does with each rule ([`handover`]). Nothing here calls AWS: the rules, forward actions and calls
//! these decisions read and plan are the `aws` types ([`crate::aws::listener_rule::ListenerRule`],
//! [`crate::aws::forward::Forward`], [`crate::aws::listener_rule::RuleChange`]), read and made
//! by the commands through [`crate::aws`].

pub mod capacity;
pub mod cutover;
pub mod drift;
pub mod handover;
pub mod progress;
pub mod record;

pub use cutover::{Percent, RecordUpdate, RollbackDecision};
