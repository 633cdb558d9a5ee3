//! The deployer's own IAM permissions: which action each command needs, on which resources
//! ([`table::NEEDS`]), and the policy document `mcpctl iam-policy` prints from it.

mod command;
mod policy;
mod scope;
mod table;

pub use command::{current, set_current, CommandName};
pub use policy::{actions, document, PolicyDocument, PolicyStatement, Selection};
pub use scope::{resources, Place, Scope};
pub use table::{lists, Feature, Need, NEEDS, NEEDS_NO_PERMISSION};

#[cfg(test)]
mod tests;
