//! How commands print: a readable text form for people, JSON for machines. Everything a
//! command prints on stdout goes through [`out!`](crate::out)/[`outln!`](crate::outln) (or
//! [`print_json_now`]), which return an error instead of panicking when stdout is gone: a closed
//! pipe (`mcpctl logs --follow | head`) becomes [`Error::StdoutClosed`], which ends the process
//! quietly with exit code 0, as ripgrep does. A command's `--output json` document is a value
//! it leaves in its [`Report`], which `Cli::run` returns ([`Ran`]); `main` prints it once.

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

/// True when stderr may carry colours: it is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>). Logs, progress and messages on a file or pipe are plain text.
pub fn stderr_colors() -> bool {
    use std::io::IsTerminal;
    colors_allowed(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

fn colors_allowed(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// What a command leaves for `main` to print when it ends with `--output json`: its result
/// document (or the part it had reported before a step that failed), or that it streamed its
/// JSON itself. `Cli::run` returns it ([`Ran`]) and `main` prints one document at the end
/// ([`Report::finish`]); nothing is global.
#[derive(Debug, Default)]
pub struct Report {
    /// The command's result so far; a later [`Report::json`] replaces it.
    document: Option<serde_json::Value>,
    /// True when the command printed its own JSON (`logs`: one object per event; `monitor`:
    /// one per reading; `local`: the ready document while it runs).
    streamed: bool,
}

impl Report {
    /// The command's JSON result (`--output json`): kept and printed once when the command
    /// ends, with `ok` and `exit_code` added, or folded into the error document if the command
    /// then fails, so a script always reads one document. A later call replaces the document
    /// (a command may record what it knows before a step that can fail, then the full result).
    pub fn json<T: serde::Serialize>(&mut self, value: &T) -> Result<()> {
        let value = serde_json::to_value(value).map_err(|e| {
            Error::Failed(anyhow::Error::new(e).context("could not render JSON output"))
        })?;
        self.document = Some(value);
        Ok(())
    }

    /// Say that this command streams its own JSON on stdout: then a successful end adds no
    /// document.
    pub fn streamed(&mut self) {
        self.streamed = true;
    }

    /// The document to print at the end of a `--output json` run (see [`json_document`]), or
    /// `None` after a command that streamed its JSON and succeeded.
    pub fn into_document(
        self,
        result: std::result::Result<(), &Error>,
        calls: &[crate::aws::Call],
    ) -> Option<serde_json::Value> {
        if result.is_ok() && self.streamed {
            return None;
        }
        Some(json_document(result, self.document, calls))
    }

    /// End a `--output json` run: print its one document (see [`json_document`]); after a
    /// command that streamed its JSON, only a failure is printed.
    pub fn finish(self, result: std::result::Result<(), &Error>) -> Result<()> {
        let (calls, _) = crate::aws::calls::process_calls();
        match self.into_document(result, &calls) {
            Some(doc) => print_json_now(&doc),
            None => Ok(()),
        }
    }
}

/// What a command gives back when it ends: its `--output json` document (or the part it had
/// gathered before a step that failed) and how it ended. `main` prints the document once
/// ([`Ran::finish`]) and maps the result to the exit code.
#[derive(Debug)]
pub struct Ran {
    /// The command's output.
    pub report: Report,
    /// How the command ended; an error keeps its cause chain and exit code.
    pub result: Result<()>,
}

impl Ran {
    /// Print the one `--output json` document (unless stdout is closed), and return the
    /// command's result.
    pub fn finish(self, json: bool) -> Result<()> {
        if json && !matches!(self.result, Err(Error::StdoutClosed)) {
            // One document on stdout, also on errors and refusals; a closed stdout ends quietly.
            if let Err(e) = self.report.finish(self.result.as_ref().map(|_| ())) {
                if !matches!(e, Error::StdoutClosed) {
                    eprintln!("error: {e:#}");
                }
            }
        }
        self.result
    }
}

/// Print a value as pretty JSON on stdout at once (for a document a script waits for while
/// the command keeps running, like `local`'s ready document).
pub fn print_json_now<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        Error::Failed(anyhow::Error::new(e).context("could not render JSON output"))
    })?;
    crate::outln!("{text}")
}

/// The one JSON document of a command that ran with `--output json`: its result with
/// `ok: true, exit_code: 0`, or on failure `ok: false`, the exit code, the error (`kind`,
/// `message`, the AWS `call` and `resource` when an AWS call failed), what the command had
/// reported so far, and the changing AWS calls made before the failure.
pub fn json_document(
    result: std::result::Result<(), &Error>,
    partial: Option<serde_json::Value>,
    calls: &[crate::aws::Call],
) -> serde_json::Value {
    let mut doc = match partial {
        Some(serde_json::Value::Object(m)) => m,
        Some(other) => {
            let mut m = serde_json::Map::new();
            m.insert("result".into(), other);
            m
        }
        None => serde_json::Map::new(),
    };
    match result {
        Ok(()) => {
            doc.insert("ok".into(), true.into());
            doc.insert("exit_code".into(), 0.into());
        }
        Err(e) => {
            doc.insert("ok".into(), false.into());
            doc.insert("exit_code".into(), e.exit_code().into());
            doc.insert("error".into(), error_json(e));
            let changes: Vec<serde_json::Value> = calls
                .iter()
                .filter(|c| c.is_mutating())
                .map(|c| serde_json::json!({"service": c.service, "operation": c.operation}))
                .collect();
            doc.insert("changes_made".into(), changes.into());
            doc.insert("aws_calls".into(), calls.len().into());
        }
    }
    serde_json::Value::Object(doc)
}

/// `{kind, message, call, resource}` of an error.
fn error_json(e: &Error) -> serde_json::Value {
    let kind = match e {
        Error::BadInput { .. } => "bad_input",
        Error::Refused { .. } => "refused",
        Error::Aborted(_) => "aborted",
        Error::Interrupted(_) => "interrupted",
        Error::Failed(_) => "failed",
        Error::StdoutClosed => "stdout_closed",
    };
    let aws = match e {
        Error::Failed(a) => a
            .chain()
            .find_map(|c| c.downcast_ref::<crate::aws::AwsError>()),
        _ => None,
    };
    serde_json::json!({
        "kind": if aws.is_some() { "aws" } else { kind },
        "message": format!("{e:#}"),
        "call": aws.map(|a| a.action.clone()),
        "resource": aws.map(|a| a.resource.clone()),
        "code": aws.and_then(|a| a.code.clone()),
    })
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
    fn the_json_document_says_ok_and_carries_the_error_and_the_changes() {
        let calls = vec![
            crate::aws::Call::recorded("ECS", "DescribeServices"),
            crate::aws::Call::recorded("ECS", "RegisterTaskDefinition"),
        ];
        let ok = json_document(Ok(()), Some(serde_json::json!({"stack": "s"})), &calls);
        assert_eq!(
            ok,
            serde_json::json!({"stack": "s", "ok": true, "exit_code": 0})
        );
        let aws = crate::aws::AwsError {
            action: "ecs:CreateService".into(),
            resource: "service s".into(),
            code: Some("InvalidParameterException".into()),
            message: "no".into(),
        };
        let e = Error::Failed(anyhow::Error::new(aws).context("up failed"));
        let doc = json_document(Err(&e), Some(serde_json::json!({"plan": []})), &calls);
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["exit_code"], 1);
        assert_eq!(doc["plan"], serde_json::json!([]));
        assert_eq!(doc["error"]["kind"], "aws");
        assert_eq!(doc["error"]["call"], "ecs:CreateService");
        assert_eq!(doc["error"]["resource"], "service s");
        assert_eq!(
            doc["changes_made"],
            serde_json::json!([{"service": "ECS", "operation": "RegisterTaskDefinition"}])
        );
        let doc = json_document(Err(&Error::refused("no healthy targets")), None, &[]);
        assert_eq!(doc["error"]["kind"], "refused");
        assert_eq!(doc["exit_code"], 3);
        assert_eq!(doc["error"]["call"], serde_json::Value::Null);
    }

    #[test]
    fn the_report_keeps_the_last_document_and_a_streamed_success_prints_none() {
        let mut r = Report::default();
        r.json(&serde_json::json!({"plan": [], "applied": null}))
            .unwrap();
        r.json(&serde_json::json!({"plan": [], "applied": {"n": 1}}))
            .unwrap();
        let e = Error::refused("gate breached");
        let doc = r.into_document(Err(&e), &[]).unwrap();
        assert_eq!(doc["applied"], serde_json::json!({"n": 1}));
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["changes_made"], serde_json::json!([]));
        assert_eq!(doc["aws_calls"], 0);

        let mut streamed = Report::default();
        streamed.streamed();
        assert_eq!(streamed.into_document(Ok(()), &[]), None);
        let mut streamed = Report::default();
        streamed.streamed();
        let doc = streamed.into_document(Err(&e), &[]).unwrap();
        assert_eq!(doc["exit_code"], 3);
        assert_eq!(doc["error"]["kind"], "refused");

        let empty = Report::default().into_document(Ok(()), &[]).unwrap();
        assert_eq!(empty, serde_json::json!({"ok": true, "exit_code": 0}));
    }

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colors_allowed(true, None));
        assert!(colors_allowed(true, Some(OsStr::new(""))));
        assert!(!colors_allowed(true, Some(OsStr::new("1"))));
        assert!(!colors_allowed(false, None));
    }

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
