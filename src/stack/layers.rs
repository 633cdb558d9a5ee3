//! Reading a stack file and the files it `extends:`, and pointing at places in them.

use std::path::{Path, PathBuf};

use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use super::file::{Scalar, StackFile, Text};
use super::interpolate::{interpolate, InterpolateError};
use super::rules;

/// A place in a stack file, printed as `file:line:col`.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The file as the user named it (e.g. `stacks/stateless.yaml`).
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// One parsed file of a stack: the stack file itself or a file it extends.
#[derive(Debug)]
pub struct Layer {
    /// Path as displayed in messages.
    pub display: String,
    /// Path on disk.
    pub path: PathBuf,
    /// The file's text (to place interpolation errors exactly).
    pub text: String,
    /// The parsed content.
    pub file: StackFile,
    /// Unknown keys found (and left out of `file`), reported with the other problems.
    pub unknown: Vec<UnknownKey>,
}

impl Layer {
    /// The place of a location in this file.
    pub fn place(&self, loc: Location) -> Place {
        Place {
            file: self.display.clone(),
            line: loc.line(),
            column: loc.column(),
        }
    }

    /// Interpolate a scalar; on error, the place points at the `${` inside the value when the
    /// scalar is written on one line.
    pub fn interpolate(
        &self,
        t: &Text,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, (Place, String)> {
        interpolate(&t.value.0, lookup).map_err(|InterpolateError { offset, message }| {
            let mut place = self.place(t.referenced);
            place.column += self.column_shift(t, offset);
            (place, message)
        })
    }

    fn column_shift(&self, t: &Text, offset: usize) -> u64 {
        let Some(line) = self
            .text
            .lines()
            .nth(t.referenced.line().saturating_sub(1) as usize)
        else {
            return 0;
        };
        let rest: String = line
            .chars()
            .skip(t.referenced.column().saturating_sub(1) as usize)
            .collect();
        let value = &t.value.0;
        let before = value[..offset].chars().count() as u64;
        if rest.starts_with(value.as_str()) {
            before
        } else if (rest.starts_with('"') || rest.starts_with('\''))
            && rest[1..].starts_with(value.as_str())
        {
            before + 1
        } else {
            0
        }
    }
}

/// Read `path` (or take its text from `first_text`: `adopt` checks a file before writing it)
/// and every file it extends, child first. Errors are complete messages.
pub fn read_layers_with(
    path: &Path,
    display: String,
    mut first_text: Option<String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Layer>, String> {
    let mut layers: Vec<Layer> = Vec::new();
    let mut next = Some((path.to_path_buf(), display));
    // Where the `extends:` that named the file being read was written.
    let mut named_at: Option<Place> = None;
    while let Some((path, display)) = next.take() {
        let at = named_at
            .clone()
            .map_or_else(|| format!("{display}:1:1"), |p| p.to_string());
        if layers.len() >= 8 {
            return Err(format!(
                "{at}: `extends:` goes more than 8 files deep; is there a loop?"
            ));
        }
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if layers
            .iter()
            .any(|l| std::fs::canonicalize(&l.path).unwrap_or_else(|_| l.path.clone()) == canonical)
        {
            return Err(format!(
                "{at}: `extends:` loops back to a file already read ({} -> {display}); remove one of the `extends:` lines",
                layers.iter().map(|l| l.display.as_str()).collect::<Vec<_>>().join(" -> ")
            ));
        }
        let text = match first_text.take() {
            Some(t) => t,
            None => std::fs::read_to_string(&path)
                .map_err(|e| format!("{display}: cannot read it: {e}"))?,
        };
        let Parsed { file, unknown } = parse(&text, &display)?;
        if let Some(ext) = &file.extends {
            let layer = Layer {
                display: display.clone(),
                path: path.clone(),
                text: String::new(),
                file: StackFile::default(),
                unknown: Vec::new(),
            };
            let rel = layer
                .interpolate(ext, lookup)
                .map_err(|(p, m)| format!("{p}: {m}"))?;
            let dir = path.parent().unwrap_or(Path::new("."));
            let parent = dir.join(&rel);
            if !parent.is_file() {
                return Err(format!(
                    "{}: `extends: {rel}` names {}, which does not exist; write a path relative to {display}, e.g. `extends: shared.yaml`",
                    layer.place(ext.referenced),
                    parent.display()
                ));
            }
            let parent_display = Path::new(&display)
                .parent()
                .map(|d| d.join(&rel).display().to_string())
                .unwrap_or(rel);
            named_at = Some(layer.place(ext.referenced));
            next = Some((parent, parent_display));
        }
        layers.push(Layer {
            display,
            path,
            text,
            file,
            unknown,
        });
    }
    Ok(layers)
}

/// Parse one file's text into a [`StackFile`], turning YAML and schema errors into
/// `file:line:col: message` with a suggestion. An unknown key does not hide the rest of the
/// file: it is reported, blanked out (its lines kept empty, so every other place stays right)
/// and the file parsed again, so the resolver still sees and checks everything else.
pub fn parse(text: &str, display: &str) -> Result<Parsed, String> {
    let mut text = text.to_string();
    let mut unknown = Vec::new();
    // Bounded: each round blanks at least one line, and a file has few unknown keys.
    for _ in 0..MAX_UNKNOWN_KEYS {
        if text.trim().is_empty() {
            return Ok(Parsed {
                file: StackFile::default(),
                unknown,
            });
        }
        let e = match serde_saphyr::from_str::<StackFile>(&text) {
            Ok(file) => return Ok(Parsed { file, unknown }),
            Err(e) => e,
        };
        let inner = e.without_snippet();
        let place = match inner.location() {
            Some(l) => format!("{display}:{}:{}", l.line(), l.column()),
            None => display.to_string(),
        };
        let serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } = inner
        else {
            let msg = UserMessageFormatter.format_message(inner).into_owned();
            unknown.push(UnknownKey {
                message: format!("{place}: {msg}"),
                suggestion: None,
            });
            return Err(joined(unknown));
        };
        let suggestion = rules::closest(field, expected).map(str::to_string);
        let msg = match &suggestion {
            Some(s) => format!(
                "unknown key `{field}`: did you mean `{s}`? (allowed here: {})",
                expected.join(", ")
            ),
            None => format!(
                "unknown key `{field}`: allowed here are {}",
                expected.join(", ")
            ),
        };
        unknown.push(UnknownKey {
            message: format!("{place}: {msg}"),
            suggestion,
        });
        match inner.location().and_then(|l| blank_key(&text, l)) {
            Some(t) => text = t,
            None => return Err(joined(unknown)),
        }
    }
    Err(joined(unknown))
}

/// At most this many unknown keys are reported from one file.
const MAX_UNKNOWN_KEYS: usize = 32;

/// A parsed file and the unknown keys that were reported and left out of it.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The file without its unknown keys.
    pub file: StackFile,
    /// The unknown keys, in order.
    pub unknown: Vec<UnknownKey>,
}

/// An unknown key: the complete message and the key it most likely meant.
#[derive(Debug, Clone)]
pub struct UnknownKey {
    /// `file:line:col: unknown key ...`.
    pub message: String,
    /// The allowed key it is closest to (`routng` -> `routing`).
    pub suggestion: Option<String>,
}

fn joined(keys: Vec<UnknownKey>) -> String {
    keys.into_iter()
        .map(|k| k.message)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with the block-style key at `loc` and its nested lines replaced by empty lines, or
/// `None` when the key is not the first thing on its line (flow style: `{a: 1, b: 2}`).
fn blank_key(text: &str, loc: Location) -> Option<String> {
    let first = usize::try_from(loc.line()).ok()?.checked_sub(1)?;
    let indent = usize::try_from(loc.column()).ok()?.checked_sub(1)?;
    let mut lines: Vec<&str> = text.split('\n').collect();
    let head = lines.get(first)?;
    if head.chars().take(indent).any(|c| c != ' ') || head.chars().count() <= indent {
        return None;
    }
    lines[first] = "";
    for line in lines.iter_mut().skip(first + 1) {
        let body = line.trim_start_matches(' ');
        let depth = line.len() - body.len();
        // A block sequence may sit at the key's own indentation (`key:\n- a`).
        let item = depth == indent && (body == "-" || body.starts_with("- "));
        if !(depth > indent || item || body.is_empty() || body.starts_with('#')) {
            break;
        }
        *line = "";
    }
    Some(lines.join("\n"))
}

/// A scalar as plain text with its location, for values that are not interpolated (keys).
pub fn key_text(k: &Spanned<String>) -> Text {
    Spanned::new(Scalar(k.value.clone()), k.referenced, k.defined)
}
