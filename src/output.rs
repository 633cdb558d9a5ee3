//! How commands print: a readable text form for people, JSON for machines. Everything a
//! command prints on stdout goes through [`out!`](crate::out)/[`outln!`](crate::outln) (or
//! [`print_json_now`]), which return an error instead of panicking when stdout is gone: a closed
//! pipe (`mcpctl logs --follow | head`) becomes [`Error::StdoutClosed`], which ends the process
//! quietly with exit code 0, as ripgrep does. A command returns its `--output json` document
//! as a value ([`Outcome`]: an [`Output`], or a [`Failure`] carrying the document it had before
//! the step that failed); `Cli::run` hands it to `main` ([`Ran`]), which prints it once.

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

/// What a command gives back when it succeeds, for `main` to print with `--output json`.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Its result document; `main` adds `ok` and `exit_code`.
    Document(serde_json::Value),
    /// No result document (the command printed text): with `--output json`, `main` prints
    /// `ok` and `exit_code` alone.
    Nothing,
    /// The command printed its output itself as it went (`logs`: one JSON object per event;
    /// `monitor`: one per reading; `local`: the ready document): `main` adds nothing.
    Streamed,
}

impl Output {
    /// The command's JSON result (`--output json`), as a value.
    pub fn json<T: serde::Serialize>(value: &T) -> Result<Output> {
        to_json(value).map(Output::Document)
    }

    /// The result document, if there is one.
    pub fn into_document(self) -> Option<serde_json::Value> {
        match self {
            Output::Document(v) => Some(v),
            Output::Nothing | Output::Streamed => None,
        }
    }
}

/// A value as a JSON value; failing to render is an error with its cause.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(render_failed)
}

/// A value that could not be rendered as JSON, with its cause.
fn render_failed(e: serde_json::Error) -> Error {
    Error::Failed(anyhow::Error::new(e).context("could not render JSON output"))
}

/// How a command failed, and what it had reported before the step that failed (its document
/// so far with `--output json`, folded into the error document so a script reads one).
#[derive(Debug)]
pub struct Failure {
    /// The error, with its cause chain and exit code.
    pub error: Error,
    /// The document the command had before the failure.
    pub partial: Option<serde_json::Value>,
}

impl Failure {
    /// `error`, after the command had reported `partial`.
    pub fn new(error: Error, partial: Option<serde_json::Value>) -> Failure {
        Failure { error, partial }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::new(error, None)
    }
}

/// What a command returns: its output, or how it failed.
pub type Outcome = std::result::Result<Output, Failure>;

/// Attach the document a command had so far to the error of a step that fails.
pub trait WithPartial<T> {
    /// On error, a [`Failure`] carrying `partial` (a clone: the command keeps its document).
    fn with_partial(self, partial: &Option<serde_json::Value>) -> std::result::Result<T, Failure>;
}

impl<T> WithPartial<T> for Result<T> {
    fn with_partial(self, partial: &Option<serde_json::Value>) -> std::result::Result<T, Failure> {
        self.map_err(|error| Failure::new(error, partial.clone()))
    }
}

/// The document `main` prints at the end of a `--output json` run (see [`json_document`]), or
/// `None` after a command that streamed its JSON and succeeded.
pub fn final_document(outcome: &Outcome, calls: &[crate::aws::Call]) -> Option<serde_json::Value> {
    match outcome {
        Ok(Output::Streamed) => None,
        Ok(Output::Nothing) => Some(json_document(Ok(()), None, calls)),
        Ok(Output::Document(v)) => Some(json_document(Ok(()), Some(v.clone()), calls)),
        Err(f) => Some(json_document(Err(&f.error), f.partial.clone(), calls)),
    }
}

/// What a command ended with, for `main` to print once ([`Ran::finish`]) and map to the exit
/// code.
#[derive(Debug)]
pub struct Ran {
    /// The command's output, or how it failed.
    pub outcome: Outcome,
}

impl Ran {
    /// Print the one `--output json` document (unless stdout is closed), and return the
    /// command's result.
    pub fn finish(self, json: bool) -> Result<()> {
        let closed = matches!(&self.outcome, Err(f) if matches!(f.error, Error::StdoutClosed));
        if json && !closed {
            // One document on stdout, also on errors and refusals; a closed stdout ends quietly.
            let (calls, _) = crate::aws::calls::process_calls();
            if let Some(doc) = final_document(&self.outcome, &calls) {
                if let Err(e) = print_json_now(&doc) {
                    if !matches!(e, Error::StdoutClosed) {
                        eprintln!("error: {e:#}");
                    }
                }
            }
        }
        self.outcome.map(|_| ()).map_err(|f| f.error)
    }
}

/// Print a value as pretty JSON on stdout at once (for a document a script waits for while
/// the command keeps running, like `local`'s ready document).
pub fn print_json_now<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(render_failed)?;
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
    fn a_failure_keeps_the_partial_document_and_a_streamed_success_prints_none() {
        let partial = Some(serde_json::json!({"plan": [], "applied": {"n": 1}}));
        let failed: Result<()> = Err(Error::refused("gate breached"));
        let outcome: Outcome = failed.with_partial(&partial).map(|_| Output::Nothing);
        let doc = final_document(&outcome, &[]).unwrap();
        assert_eq!(doc["applied"], serde_json::json!({"n": 1}));
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["exit_code"], 3);
        assert_eq!(doc["changes_made"], serde_json::json!([]));
        assert_eq!(doc["aws_calls"], 0);

        assert_eq!(final_document(&Ok(Output::Streamed), &[]), None);
        let streamed_then_failed: Outcome = Err(Error::refused("gate breached").into());
        let doc = final_document(&streamed_then_failed, &[]).unwrap();
        assert_eq!(doc["exit_code"], 3);
        assert_eq!(doc["error"]["kind"], "refused");
        assert_eq!(doc.get("applied"), None);

        let empty = final_document(&Ok(Output::Nothing), &[]).unwrap();
        assert_eq!(empty, serde_json::json!({"ok": true, "exit_code": 0}));
        let out = Output::json(&serde_json::json!({"stack": "s"})).unwrap();
        let doc = final_document(&Ok(out), &[]).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"stack": "s", "ok": true, "exit_code": 0})
        );
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
