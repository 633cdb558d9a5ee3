//! Routing changes on the production rule that call AWS: one cutover step ([`step`]), the
//! restore of a recorded routing ([`restore`]), used by `cutover`, `rollback` and the
//! progressive cutover, and `rollback` over every recorded rule of a listener ([`rollback`]). The decisions behind them are pure, in [`crate::cutover::decide`].

pub mod restore;
pub mod rollback;
pub mod step;
