//! mcpctl: deploy the stateless OpenSearch MCP server beside the stateful one on ECS Fargate,
//! verify it under load, cut production traffic over, roll back, and clean up.
//!
//! The flow of `up`: a stack file ([`stack`]) gives the desired state; [`aws`] observes what
//! exists; [`plan`] compares the two (pure) and lists the changes; [`aws`] applies them.

pub mod adopt;
pub mod archive;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod deploy;
pub mod error;
pub mod local;
pub mod output;
pub mod plan;
pub mod probe;
pub mod prompt;
pub mod shell;
pub mod stack;
pub mod traffic;
