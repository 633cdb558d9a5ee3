//! `mcpctl shell`: an interactive prompt for an MCP endpoint (the plan's "chat CLI"), with the
//! user's commands (`health`, `tools`, `list`, `stress [N]`, `quit`) and more (`call`,
//! `describe`, `session`, `replicas`, `help`).
//!
//! * [`parser`]: a line as a [`parser::Command`] (pure).
//! * [`commands`]: what each command does, over the probe's MCP client.
//! * [`arguments`]: required arguments a `call` lacks, from the tool's input schema.
//! * [`stress`]: concurrent calls, their outcomes and a verdict.
//! * [`format`]: tool results, the health summary and the indices table as text.
//! * [`replicas`]: which replicas (`X-Served-By`) answered the last calls.
//! * [`completion`]: tab completion of commands and tool names (rustyline).
//!
//! On a terminal: line editing, history and completion (rustyline); Ctrl-C cancels the running
//! command (or the line being typed), not the shell. Otherwise one command per line from stdin,
//! plain text, and the caller learns how many commands failed.

pub mod arguments;
pub mod commands;
pub mod completion;
pub mod format;
pub mod parser;
pub mod replicas;
pub mod stress;

use std::io::{BufRead, Read};
use std::path::PathBuf;

use futures::FutureExt;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};
use tokio::signal::unix::{signal, Signal, SignalKind};

use commands::{Ask, Shell};
use completion::{ShellHelper, ToolNames};
use parser::{parse, Command, COMMANDS};

/// Longest input line read from a non-terminal stdin.
const MAX_LINE: u64 = 64 * 1024;

/// Lines kept in the history file.
const HISTORY_SIZE: usize = 1000;

/// How a run of the shell went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Commands run (blank lines and comments not counted).
    pub commands: usize,
    /// Commands that failed.
    pub failed: usize,
}

/// What one command produced.
enum Outcome {
    Printed(Result<String, String>),
    Quit,
}

/// Nobody to ask: missing arguments are an error.
struct NoOne;

impl Ask for NoOne {
    fn ask(&mut self, _prompt: &str) -> Option<String> {
        None
    }
}

/// The terminal's line editor answers.
struct Terminal<'a>(&'a mut Editor<ShellHelper, DefaultHistory>);

impl Ask for Terminal<'_> {
    fn ask(&mut self, prompt: &str) -> Option<String> {
        tokio::task::block_in_place(|| self.0.readline(&format!("  {prompt}"))).ok()
    }
}

/// Run one parsed command; Ctrl-C (SIGINT) cancels it.
async fn execute(
    shell: &mut Shell,
    command: Command,
    ask: &mut dyn Ask,
    sigint: &mut Signal,
) -> Outcome {
    if command == Command::Quit {
        return Outcome::Quit;
    }
    // Forget a Ctrl-C that arrived before this command started.
    while sigint.recv().now_or_never().flatten().is_some() {}
    let work = async {
        match command {
            Command::Empty | Command::Quit => Ok(String::new()),
            Command::Health => shell.health().await,
            Command::Tools => shell.tools().await,
            Command::List => shell.list().await,
            Command::Stress(n) => shell.stress(n).await,
            Command::Call { tool, arguments } => shell.call(&tool, arguments, ask).await,
            Command::Describe(tool) => shell.describe(&tool).await,
            Command::Session => shell.session().await,
            Command::Replicas => Ok(shell.replicas()),
            Command::Help => Ok(help_text()),
        }
    };
    tokio::select! {
        r = work => Outcome::Printed(r),
        _ = sigint.recv() => Outcome::Printed(Err("cancelled (Ctrl-C)".into())),
    }
}

/// The `help` text.
pub fn help_text() -> String {
    let mut out = String::from("commands:");
    for (name, what) in COMMANDS {
        out.push_str(&format!("\n  {name:<9} {what}"));
    }
    out
}

fn report(result: Result<String, String>, summary: &mut Summary) {
    match result {
        Ok(text) => {
            if !text.is_empty() {
                println!("{text}");
            }
        }
        Err(e) => {
            summary.failed += 1;
            eprintln!("error: {e}");
        }
    }
}

/// Run commands from a non-terminal stdin, one per line.
pub async fn run_script(mut shell: Shell) -> Result<Summary, String> {
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut summary = Summary::default();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        let mut line = String::new();
        let read = tokio::task::block_in_place(|| (&mut input).take(MAX_LINE).read_line(&mut line));
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("could not read stdin: {e}")),
        }
        let command = match parse(&line) {
            Ok(Command::Empty) => continue,
            Ok(c) => c,
            Err(e) => {
                summary.commands += 1;
                report(Err(e), &mut summary);
                continue;
            }
        };
        summary.commands += 1;
        match execute(&mut shell, command, &mut NoOne, &mut sigint).await {
            Outcome::Quit => break,
            Outcome::Printed(r) => report(r, &mut summary),
        }
    }
    Ok(summary)
}

/// Where the history is kept: `$XDG_STATE_HOME/mcpctl/shell_history` (or under
/// `~/.local/state`).
fn history_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("mcpctl").join("shell_history"))
}

/// The interactive shell on a terminal.
pub async fn run_interactive(
    mut shell: Shell,
    tool_names: ToolNames,
    banner: &str,
) -> Result<Summary, String> {
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let config = Config::builder()
        .max_history_size(HISTORY_SIZE)
        .map_err(|e| e.to_string())?
        .auto_add_history(false)
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| format!("cannot start the line editor: {e}"))?;
    editor.set_helper(Some(ShellHelper::new(tool_names)));
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!("{banner}");
    match shell.ensure_tools().await {
        Ok(tools) => match shell.session().await {
            Ok(s) => println!("{s}\n{} tools. Type help for the commands.", tools.len()),
            Err(e) => eprintln!("error: {e}"),
        },
        Err(e) => eprintln!("error: {e} (health may still tell more)"),
    }
    let mut summary = Summary::default();
    loop {
        let line = match tokio::task::block_in_place(|| editor.readline("mcp> ")) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(format!("cannot read the terminal: {e}")),
        };
        let command = match parse(&line) {
            Ok(Command::Empty) => continue,
            Ok(c) => c,
            Err(e) => {
                summary.commands += 1;
                report(Err(e), &mut summary);
                continue;
            }
        };
        let _ = editor.add_history_entry(line.trim());
        summary.commands += 1;
        match execute(&mut shell, command, &mut Terminal(&mut editor), &mut sigint).await {
            Outcome::Quit => break,
            Outcome::Printed(r) => report(r, &mut summary),
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    Ok(summary)
}
