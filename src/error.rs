//! The error type every command returns, and the exit code each kind maps to.
//!
//! Exit codes (documented in the README):
//! * `0` — done, or nothing to do
//! * `1` — failed (an AWS call, a process, the network)
//! * `2` — bad input (stack file, CLI flag, arguments); nothing was changed
//! * `3` — refused by a safety check (e.g. cutover to a group with no healthy targets)

use std::process::ExitCode;

/// An error with the exit code it maps to. The message says what went wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong: a stack file, a flag, an argument. Exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// A safety check refused the change. Exit code 3.
    #[error("{0}")]
    Refused(String),
    /// Something failed while running. Exit code 1.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl Error {
    /// A bad-input error (exit 2).
    pub fn bad_input(msg: impl Into<String>) -> Self {
        Error::BadInput(msg.into())
    }

    /// A refusal by a safety check (exit 3).
    pub fn refused(msg: impl Into<String>) -> Self {
        Error::Refused(msg.into())
    }

    /// A runtime failure (exit 1).
    pub fn failed(msg: impl Into<String>) -> Self {
        Error::Failed(anyhow::anyhow!(msg.into()))
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Failed(_) => 1,
            Error::BadInput(_) => 2,
            Error::Refused(_) => 3,
        }
    }

    /// The exit code as a [`std::process::ExitCode`].
    pub fn to_exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit_code())
    }
}

/// The result type of every command.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_table() {
        assert_eq!(Error::bad_input("x").exit_code(), 2);
        assert_eq!(Error::refused("x").exit_code(), 3);
        assert_eq!(Error::failed("x").exit_code(), 1);
        let from_anyhow: Error = anyhow::anyhow!("boom").into();
        assert_eq!(from_anyhow.exit_code(), 1);
        assert_eq!(from_anyhow.to_string(), "boom");
    }
}
