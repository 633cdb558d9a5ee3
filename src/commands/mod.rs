//! One file per subcommand. Commands are thin: they wire a stack, the AWS clients and the plan
//! together and decide what to print.

pub mod call;
pub mod cleanup;
mod common;
pub mod completions;
pub mod cutover;
pub mod local;
pub mod logs;
pub mod man;
pub mod plan;
pub mod rollback;
pub mod shell;
pub mod status;
pub mod up;
pub mod verify;

pub use common::{explain_not_found, not_found_in_region, show_identity};
