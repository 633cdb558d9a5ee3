//! One file per subcommand. Commands are thin: they wire a stack, the AWS clients and the plan
//! together and decide what to print.

pub mod adopt;
pub mod call;
pub mod cleanup;
pub mod cutover;
pub mod local;
pub mod logs;
pub mod plan;
pub mod rollback;
pub mod shell;
pub mod status;
pub mod up;
pub mod verify;
