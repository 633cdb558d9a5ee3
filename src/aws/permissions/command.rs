//! The mcpctl commands that call AWS, by name, and the one the process is running (set once by
//! the CLI, read by the call log's permission check).

use std::sync::OnceLock;

/// A command that calls AWS: the unit `mcpctl iam-policy --commands` selects by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandName {
    /// `adopt`
    Adopt,
    /// `plan`
    Plan,
    /// `up` (also a restore: `up --stack ARCHIVE`)
    Up,
    /// `status`
    Status,
    /// `scale`
    Scale,
    /// `revisions`
    Revisions,
    /// `logs`
    Logs,
    /// `cutover` (every form, progressive included)
    Cutover,
    /// `rollback`
    Rollback,
    /// `monitor`
    Monitor,
    /// `cleanup`
    Cleanup,
    /// `verify --stack`
    Verify,
    /// `shell --stack`
    Shell,
}

impl CommandName {
    /// Every command that calls AWS, in the order the README lists them.
    pub const ALL: [CommandName; 13] = [
        CommandName::Adopt,
        CommandName::Plan,
        CommandName::Up,
        CommandName::Status,
        CommandName::Scale,
        CommandName::Revisions,
        CommandName::Logs,
        CommandName::Cutover,
        CommandName::Rollback,
        CommandName::Monitor,
        CommandName::Cleanup,
        CommandName::Verify,
        CommandName::Shell,
    ];

    /// The name as typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CommandName::Adopt => "adopt",
            CommandName::Plan => "plan",
            CommandName::Up => "up",
            CommandName::Status => "status",
            CommandName::Scale => "scale",
            CommandName::Revisions => "revisions",
            CommandName::Logs => "logs",
            CommandName::Cutover => "cutover",
            CommandName::Rollback => "rollback",
            CommandName::Monitor => "monitor",
            CommandName::Cleanup => "cleanup",
            CommandName::Verify => "verify",
            CommandName::Shell => "shell",
        }
    }
}

impl std::str::FromStr for CommandName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        CommandName::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = CommandName::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "`{s}` is not a command that calls AWS; use some of: {}",
                    names.join(",")
                )
            })
    }
}

impl std::fmt::Display for CommandName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

static CURRENT: OnceLock<CommandName> = OnceLock::new();

/// Record the command this process runs (the CLI does, once, before any call).
pub fn set_current(command: CommandName) {
    let _ = CURRENT.set(command);
}

/// The command this process runs; `None` outside the CLI (unit tests, the testkit).
pub fn current() -> Option<CommandName> {
    CURRENT.get().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_unknown_names_list_the_choices() {
        for c in CommandName::ALL {
            assert_eq!(c.as_str().parse::<CommandName>(), Ok(c));
        }
        let e = "deploy".parse::<CommandName>().unwrap_err();
        assert!(e.contains("`deploy`") && e.contains("cutover"), "{e}");
    }
}
