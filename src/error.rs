//! The error type every command returns, and the exit code each kind maps to.
//!
//! Exit codes (documented in the README):
//! * `0` — done, or nothing to do (or the reader of stdout went away: a closed pipe)
//! * `1` — failed (an AWS call, a process, the network)
//! * `2` — bad input (stack file, CLI flag, arguments); nothing was changed
//! * `3` — refused by a safety check (e.g. cutover to a group with no healthy targets)
//! * `4` — a progressive cutover was aborted (a gate breached, or it was interrupted without
//!   anyone to ask) and the routing recorded before it was restored
//! * `130` — a progressive cutover was interrupted and left at a step (`cutover --resume`)

use std::process::ExitCode;

/// An error with the exit code it maps to. The message says what went wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong: a stack file, a flag, an argument. Exit code 2.
    #[error("{message}{}", cause_text(.source))]
    BadInput {
        /// What is wrong and what to write instead.
        message: String,
        /// What was found wrong underneath (a read error, a parse error), when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// A safety check refused the change. Exit code 3.
    #[error("{message}{}", cause_text(.source))]
    Refused {
        /// What the check found and what to do.
        message: String,
        /// The failure that made the check refuse, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// Something failed while running. Exit code 1.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
    /// A progressive cutover was aborted and the routing restored. Exit code 4.
    #[error("{0}")]
    Aborted(String),
    /// A progressive cutover was interrupted and its routing left at a step. Exit code 130.
    #[error("{0}")]
    Interrupted(String),
    /// Stdout was closed by the reader (`mcpctl logs --follow | head`): stop quietly, exit 0.
    #[error("stdout was closed")]
    StdoutClosed,
}

/// The cause an error keeps in its chain.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `: cause` when there is one, so the message printed names it too.
fn cause_text(source: &Option<Cause>) -> String {
    source
        .as_ref()
        .map(|c| format!(": {c}"))
        .unwrap_or_default()
}

impl Error {
    /// A bad-input error (exit 2).
    pub fn bad_input(msg: impl Into<String>) -> Self {
        Error::BadInput {
            message: msg.into(),
            source: None,
        }
    }

    /// A bad-input error (exit 2) found through `cause`, which stays in the chain.
    pub fn bad_input_with(msg: impl Into<String>, cause: impl Into<Cause>) -> Self {
        Error::BadInput {
            message: msg.into(),
            source: Some(cause.into()),
        }
    }

    /// A refusal by a safety check (exit 3).
    pub fn refused(msg: impl Into<String>) -> Self {
        Error::Refused {
            message: msg.into(),
            source: None,
        }
    }

    /// A refusal (exit 3) because of `cause`, which stays in the chain.
    pub fn refused_with(msg: impl Into<String>, cause: impl Into<Cause>) -> Self {
        Error::Refused {
            message: msg.into(),
            source: Some(cause.into()),
        }
    }

    /// A runtime failure (exit 1).
    pub fn failed(msg: impl Into<String>) -> Self {
        Error::Failed(anyhow::anyhow!(msg.into()))
    }

    /// A runtime failure (exit 1) caused by `cause`, which stays in the chain (shown as
    /// `msg: cause`).
    pub fn failed_with(msg: impl Into<String>, cause: impl Into<anyhow::Error>) -> Self {
        Error::Failed(cause.into().context(msg.into()))
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::StdoutClosed => 0,
            Error::Failed(_) => 1,
            Error::BadInput { .. } => 2,
            Error::Refused { .. } => 3,
            Error::Aborted(_) => 4,
            Error::Interrupted(_) => 130,
        }
    }

    /// The exit code as a [`std::process::ExitCode`].
    pub fn to_exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit_code())
    }
}

/// An error with its causes on one line (`a: b: c`), each cause left out when the text before
/// already contains it (many errors repeat their source in their own message).
pub fn source_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Keep an error as the cause of a [`Error::Failed`] with a message saying what was being done
/// (`main` prints `message: cause: its cause`), instead of flattening it into a string.
pub trait Context<T> {
    /// Fail with `what` (computed only on failure) and the error as its cause.
    fn context_failed(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E> Context<T> for std::result::Result<T, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn context_failed(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Failed(anyhow::Error::new(e).context(what())))
    }
}

/// The result type of every command.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_and_refusals_keep_their_cause_and_their_exit_code() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory");
        let e = Error::bad_input_with("cannot read the stacks directory x", io);
        assert_eq!(e.exit_code(), 2);
        assert_eq!(e.source().unwrap().to_string(), "no such directory");
        assert_eq!(
            source_chain(&e),
            "cannot read the stacks directory x: no such directory"
        );
        assert_eq!(format!("{e:#}"), source_chain(&e));
        let r = Error::refused_with("cannot roll back", Error::failed("rule gone"));
        assert_eq!(r.exit_code(), 3);
        assert!(
            source_chain(&r).ends_with("rule gone"),
            "{}",
            source_chain(&r)
        );
        assert!(Error::refused("no").source().is_none());
    }

    #[test]
    fn exit_codes_follow_the_documented_table() {
        assert_eq!(Error::bad_input("x").exit_code(), 2);
        assert_eq!(Error::refused("x").exit_code(), 3);
        assert_eq!(Error::failed("x").exit_code(), 1);
        assert_eq!(Error::Aborted("x".into()).exit_code(), 4);
        assert_eq!(Error::Interrupted("x".into()).exit_code(), 130);
        let from_anyhow: Error = anyhow::anyhow!("boom").into();
        assert_eq!(from_anyhow.exit_code(), 1);
        assert_eq!(from_anyhow.to_string(), "boom");
    }

    #[test]
    fn context_keeps_the_cause_chain() {
        let r: std::result::Result<(), std::io::Error> =
            Err(std::io::Error::other("permission denied"));
        let e = r.context_failed(|| "cannot create /x".into()).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(format!("{e:#}"), "cannot create /x: permission denied");
        let Error::Failed(inner) = &e else {
            panic!("{e:?}")
        };
        assert!(inner
            .root_cause()
            .downcast_ref::<std::io::Error>()
            .is_some());
    }
}
