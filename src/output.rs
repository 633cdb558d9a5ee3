//! How commands print: a readable text form for people, JSON for machines.

use clap::ValueEnum;

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
pub fn print_json<T: serde::Serialize>(value: &T) -> crate::error::Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| crate::error::Error::failed(format!("could not render JSON output: {e}")))?;
    println!("{text}");
    Ok(())
}
