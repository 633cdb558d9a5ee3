//! Routing changes on the production rule that call AWS: one cutover step ([`step`]) and the
//! restore of a recorded routing ([`restore`]), used by `cutover`, `rollback` and the
//! progressive cutover. The decisions behind them are pure, in [`crate::cutover::decide`].

pub mod restore;
pub mod step;
