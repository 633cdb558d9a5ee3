//! Tab completion for the interactive shell: command names in the first word, tool names after
//! `call` and `describe`. The matching is a pure function ([`candidates`]); [`ShellHelper`]
//! plugs it into rustyline.

use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::{Context, Helper, Highlighter, Hinter, Validator};

use super::parser::COMMANDS;

/// The tool names known so far (filled after `tools/list`).
pub type ToolNames = Arc<Mutex<Vec<String>>>;

/// rustyline's helper: completion only (no hints, colours or multi-line validation).
#[derive(Helper, Hinter, Highlighter, Validator)]
pub struct ShellHelper {
    tools: ToolNames,
}

impl ShellHelper {
    /// A helper completing the given tool names.
    pub fn new(tools: ToolNames) -> Self {
        ShellHelper { tools }
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let tools = self.tools.lock().map(|t| t.clone()).unwrap_or_default();
        let (start, words) = candidates(line, pos, &tools);
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.clone(),
                replacement: format!("{w} "),
            })
            .collect();
        Ok((start, pairs))
    }
}

/// Where the word under the cursor starts, and the words that complete it.
pub fn candidates(line: &str, pos: usize, tools: &[String]) -> (usize, Vec<String>) {
    let pos = pos.min(line.len());
    let before = line.get(..pos).unwrap_or(line);
    let start = before
        .rfind(char::is_whitespace)
        .map(|i| i + 1)
        .unwrap_or(0);
    let word = &before[start..];
    let earlier: Vec<&str> = before[..start].split_whitespace().collect();
    let pool: Vec<String> = match earlier.as_slice() {
        [] => COMMANDS.iter().map(|(c, _)| c.to_string()).collect(),
        [cmd] if matches!(cmd.to_ascii_lowercase().as_str(), "call" | "describe") => tools.to_vec(),
        _ => Vec::new(),
    };
    let mut found: Vec<String> = pool.into_iter().filter(|c| c.starts_with(word)).collect();
    found.sort();
    found.dedup();
    (start, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Vec<String> {
        [
            "search_index",
            "list_indices",
            "get_index_mapping",
            "get_index_info",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn commands_complete_in_the_first_word() {
        assert_eq!(
            candidates("he", 2, &tools()),
            (0, vec!["health".into(), "help".into()])
        );
        assert_eq!(candidates("st", 2, &tools()), (0, vec!["stress".into()]));
        assert_eq!(candidates("", 0, &tools()).1.len(), COMMANDS.len());
    }

    #[test]
    fn tool_names_complete_after_call_and_describe() {
        assert_eq!(
            candidates("call sea", 8, &tools()),
            (5, vec!["search_index".into()])
        );
        assert_eq!(
            candidates("describe get_index_m", 20, &tools()),
            (9, vec!["get_index_mapping".into()])
        );
        assert_eq!(candidates("call get_index_", 15, &tools()).1.len(), 2);
        assert!(candidates("list x", 6, &tools()).1.is_empty());
        assert!(candidates("call search_index {", 19, &tools()).1.is_empty());
    }
}
