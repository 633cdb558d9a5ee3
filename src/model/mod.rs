//! The shapes every feature shares, as plain data with no SDK types: a listener rule and its
//! actions ([`rule`]), the forward action ([`forward`]), the ALB listener the rules live on
//! ([`listener`]), target health ([`health`]), the ALB metrics a gate judges ([`metrics`]), names read from ELB ARNs ([`names`]) and ALB path
//! matching ([`path`]). A leaf: `plan` and `aws` both use it,
//! neither owns it; `aws` converts the SDK's types into these at its edge.

pub mod forward;
pub mod health;
pub mod listener;
pub mod metrics;
pub mod names;
pub mod path;
pub mod rule;

pub use forward::Forward;
pub use listener::{AlbListener, Listener};
pub use metrics::AlbMetrics;
pub use rule::{ListenerRule, RuleAction};
