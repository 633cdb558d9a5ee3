//! The confirmation prompt of the commands that change production (`cutover`, `rollback`,
//! `cleanup`), like the old scripts' `read -p`: asked only on a terminal; `--yes` skips it.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::{Context, Error, Result};

/// Ask `question` on the terminal and go on only on `y`/`yes`. With `yes` set, go on without
/// asking. When stdin is not a terminal there is nobody to ask: bad input (exit 2), saying to
/// pass `--yes`. A "no" is a refusal (exit 3) and nothing is changed.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::bad_input(
            "stdin is not a terminal, so mcpctl cannot ask for confirmation: pass --yes to go ahead, or --dry-run to only see the calls; nothing was changed",
        ));
    }
    if ask(question)? {
        Ok(())
    } else {
        Err(Error::refused("not confirmed; nothing was changed"))
    }
}

/// Ask a yes/no `question` on the terminal (stderr) and read the answer from stdin; `Ok(true)`
/// for `y`/`yes`.
pub fn ask(question: &str) -> Result<bool> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context_failed(|| "could not read the answer".to_string())?;
    Ok(answer_is_yes(&line))
}

/// True for `y` and `yes` in any case, surrounding whitespace ignored.
pub fn answer_is_yes(line: &str) -> bool {
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_or_yes_confirms() {
        for yes in ["y", "Y\n", " yes ", "YES"] {
            assert!(answer_is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "sure"] {
            assert!(!answer_is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn yes_flag_skips_the_question() {
        assert!(confirm("go?", true).is_ok());
    }
}
