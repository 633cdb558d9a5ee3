//! mcpctl: deploy the stateless OpenSearch MCP server beside the stateful one on ECS Fargate,
//! verify it under load, cut production traffic over, roll back, and clean up.
//!
//! The flow of `up`: a stack file ([`stack`]) gives the desired state; [`aws`] observes what
//! exists; [`plan`] compares the two (pure) and lists the changes; [`aws`] applies them.

pub(crate) mod adopt;
pub(crate) mod archive;
pub mod aws;
pub mod cli;
pub(crate) mod commands;
pub(crate) mod cutover;
pub(crate) mod deploy;
pub mod error;
pub(crate) mod local;
pub(crate) mod model;
pub mod output;
pub(crate) mod plan;
pub(crate) mod probe;
pub(crate) mod prompt;
pub(crate) mod scale;
pub(crate) mod shell;
pub(crate) mod signals;
pub(crate) mod stack;

#[cfg(test)]
mod layers;
