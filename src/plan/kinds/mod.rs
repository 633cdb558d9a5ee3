//! One module per resource kind `up` manages, each in one place: what the stack wants (the
//! spec and how it is made from the stack), what AWS has (the observed shape), the fields they
//! can differ in, the pure comparison and the calls an update makes. The AWS side of each kind
//! (observe, apply) is its module in `crate::aws`; the order they are applied in is the one
//! list `plan::Kind::APPLY_ORDER` (`aws::deploy::ORDER`).

pub mod listener_rule;
pub mod log_group;
pub mod repository;
pub mod service;
pub mod target_group;
pub mod task_definition;
pub mod task_role;
