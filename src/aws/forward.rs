//! The forward action at the AWS edge: the model ([`crate::model::forward`]) re-exported, and
//! its SDK `Action` and API-JSON spellings ([`action`]).

pub use crate::model::forward::*;

pub mod action;
