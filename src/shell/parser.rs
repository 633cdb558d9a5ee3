//! One line of `mcpctl shell` input as a [`Command`]: pure parsing, no I/O.

use serde_json::Value;

/// Most concurrent calls `stress` may start at once.
pub const MAX_STRESS: usize = 1000;

/// Concurrent calls `stress` makes when no count is given (the user's CLI default).
pub const DEFAULT_STRESS: usize = 10;

/// The shell's commands, with a one-line summary each (the `help` text and the completions).
pub const COMMANDS: [(&str, &str); 11] = [
    (
        "health",
        "GET the health endpoint: the server and its OpenSearch cluster",
    ),
    ("tools", "list the server's tools"),
    ("list", "call list_indices and show the indices"),
    (
        "stress",
        "stress [N]: N concurrent list_indices calls, with a verdict (default 10)",
    ),
    (
        "call",
        "call TOOL [JSON]: call a tool; missing required arguments are asked for",
    ),
    (
        "describe",
        "describe TOOL: a tool's description, input schema and annotations",
    ),
    (
        "session",
        "the protocol version and session id this shell negotiated",
    ),
    (
        "replicas",
        "which replicas (X-Served-By) answered the last calls",
    ),
    ("help", "this list"),
    ("quit", "leave the shell (also exit, Ctrl-D)"),
    ("exit", "leave the shell"),
];

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Nothing to do (blank line or comment).
    Empty,
    /// `health`
    Health,
    /// `tools`
    Tools,
    /// `list`
    List,
    /// `stress [N]`
    Stress(usize),
    /// `call TOOL [JSON]`
    Call {
        /// The tool.
        tool: String,
        /// The arguments given (an object; empty when none).
        arguments: serde_json::Map<String, Value>,
    },
    /// `describe TOOL`
    Describe(String),
    /// `session`
    Session,
    /// `replicas`
    Replicas,
    /// `help`
    Help,
    /// `quit` / `exit`
    Quit,
}

/// Parse one line; the error says what to type instead.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Command::Empty);
    }
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    let no_args = |c: Command| {
        if rest.is_empty() {
            Ok(c)
        } else {
            Err(format!("{word} takes no arguments"))
        }
    };
    match word.to_ascii_lowercase().as_str() {
        "health" => no_args(Command::Health),
        "tools" => no_args(Command::Tools),
        "list" => no_args(Command::List),
        "session" => no_args(Command::Session),
        "replicas" => no_args(Command::Replicas),
        "help" | "?" => Ok(Command::Help),
        "quit" | "exit" | "q" => no_args(Command::Quit),
        "stress" => parse_stress(rest),
        "call" => parse_call(rest),
        "describe" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [tool] => Ok(Command::Describe(tool.to_string())),
            _ => Err("usage: describe TOOL (e.g. describe search_index)".into()),
        },
        _ => Err(format!(
            "unknown command {:?}; type help for the list",
            word.chars().take(40).collect::<String>()
        )),
    }
}

fn parse_stress(rest: &str) -> Result<Command, String> {
    if rest.is_empty() {
        return Ok(Command::Stress(DEFAULT_STRESS));
    }
    match rest.parse::<usize>() {
        Ok(n) if (1..=MAX_STRESS).contains(&n) => Ok(Command::Stress(n)),
        _ => Err(format!(
            "usage: stress [N] with N from 1 to {MAX_STRESS} (default {DEFAULT_STRESS})"
        )),
    }
}

fn parse_call(rest: &str) -> Result<Command, String> {
    let usage = "usage: call TOOL [JSON], e.g. call search_index {\"index\": \"movies\"}";
    let (tool, json) = match rest.split_once(char::is_whitespace) {
        Some((t, j)) => (t, j.trim()),
        None => (rest, ""),
    };
    if tool.is_empty() {
        return Err(usage.into());
    }
    let arguments = if json.is_empty() {
        serde_json::Map::new()
    } else {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(format!("the arguments must be a JSON object; {usage}")),
            Err(e) => return Err(format!("the arguments are not JSON ({e}); {usage}")),
        }
    };
    Ok(Command::Call {
        tool: tool.to_string(),
        arguments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_command_parses() {
        assert_eq!(parse("  ").unwrap(), Command::Empty);
        assert_eq!(parse("# a comment").unwrap(), Command::Empty);
        assert_eq!(parse("health").unwrap(), Command::Health);
        assert_eq!(parse("TOOLS").unwrap(), Command::Tools);
        assert_eq!(parse("list").unwrap(), Command::List);
        assert_eq!(parse("stress").unwrap(), Command::Stress(DEFAULT_STRESS));
        assert_eq!(parse("stress 50").unwrap(), Command::Stress(50));
        assert_eq!(parse("session").unwrap(), Command::Session);
        assert_eq!(parse("replicas").unwrap(), Command::Replicas);
        assert_eq!(parse("help").unwrap(), Command::Help);
        assert_eq!(parse("quit").unwrap(), Command::Quit);
        assert_eq!(parse("exit").unwrap(), Command::Quit);
        assert_eq!(
            parse("describe count").unwrap(),
            Command::Describe("count".into())
        );
        let Command::Call { tool, arguments } = parse(r#"call count {"index": "movies"}"#).unwrap()
        else {
            panic!("not a call")
        };
        assert_eq!(tool, "count");
        assert_eq!(Value::Object(arguments), json!({"index": "movies"}));
        assert_eq!(
            parse("call list_indices").unwrap(),
            Command::Call {
                tool: "list_indices".into(),
                arguments: Default::default()
            }
        );
    }

    #[test]
    fn mistakes_say_what_to_type() {
        assert!(parse("stress 0").unwrap_err().contains("1 to 1000"));
        assert!(parse("stress 100000").unwrap_err().contains("1 to 1000"));
        assert!(parse("stress many").unwrap_err().contains("usage"));
        assert!(parse("call").unwrap_err().contains("usage: call TOOL"));
        assert!(parse("call count [1]").unwrap_err().contains("JSON object"));
        assert!(parse("call count {").unwrap_err().contains("not JSON"));
        assert!(parse("describe").unwrap_err().contains("usage"));
        assert!(parse("health now").unwrap_err().contains("no arguments"));
        assert!(parse("frobnicate").unwrap_err().contains("type help"));
    }
}
