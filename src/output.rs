//! How commands print: a readable text form for people, JSON for machines. Everything a
//! command prints on stdout goes through [`out!`](crate::out)/[`outln!`](crate::outln) (or
//! [`print_json`]), which return an error instead of panicking when stdout is gone: a closed
//! pipe (`mcpctl logs --follow | head`) becomes [`Error::StdoutClosed`], which ends the process
//! quietly with exit code 0, as ripgrep does.

use std::fmt;
use std::io::{ErrorKind, Write};

use clap::ValueEnum;

use crate::error::{Error, Result};

/// The `--output` format shared by every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text and tables.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

impl OutputFormat {
    /// True when the output is JSON.
    pub fn is_json(self) -> bool {
        self == OutputFormat::Json
    }
}

/// Print a serializable value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        Error::Failed(anyhow::Error::new(e).context("could not render JSON output"))
    })?;
    crate::outln!("{text}")
}

/// Write to stdout; a closed stdout is [`Error::StdoutClosed`], any other failure an error
/// with its cause. Use it through [`out!`](crate::out) and [`outln!`](crate::outln).
pub fn write_stdout(args: fmt::Arguments<'_>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args).map_err(stdout_error)
}

fn stdout_error(e: std::io::Error) -> Error {
    if e.kind() == ErrorKind::BrokenPipe {
        Error::StdoutClosed
    } else {
        Error::Failed(anyhow::Error::new(e).context("could not write to stdout"))
    }
}

/// `print!` that returns a [`Result`](crate::error::Result) instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that returns a [`Result`](crate::error::Result) instead of panicking.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_the_quiet_error_and_others_keep_their_cause() {
        let e = stdout_error(std::io::Error::from(ErrorKind::BrokenPipe));
        assert!(matches!(e, Error::StdoutClosed));
        assert_eq!(e.exit_code(), 0);
        let e = stdout_error(std::io::Error::other("disk full"));
        assert_eq!(e.exit_code(), 1);
        assert_eq!(format!("{e:#}"), "could not write to stdout: disk full");
    }
}
