//! The archive `cleanup` writes before it removes a stack, so the stack can be deployed again:
//! `stacks/archive/NAME-<UTC timestamp>/` holding
//!
//! * `stack.yaml` — the stack as used, self-contained (`mcpctl up --stack <that directory>`
//!   deploys it again),
//! * `task-definition.json`, `service.json` — what ECS returned for them,
//! * `target-group.json`, `listener-rules.json` — the target group's and the rules' settings,
//! * `archive.json` — this manifest: stack, resource names, when, and whether the cleanup that
//!   wrote it finished (an unfinished cleanup reuses its archive when run again).

pub mod capture;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error, Result};
use crate::stack::{ResourceNames, Stack};

/// The manifest file in every archive directory.
pub const MANIFEST: &str = "archive.json";
/// The stack file in every archive directory.
pub const STACK_FILE: &str = "stack.yaml";

/// Whether the cleanup that wrote an archive finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Written; the stack's resources may still exist.
    Started,
    /// The cleanup removed everything it meant to.
    Finished,
}

/// `archive.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The stack's name.
    pub stack: String,
    /// When the archive was written (UTC, RFC 3339).
    pub created: String,
    /// Whether the cleanup finished.
    pub status: Status,
    /// The names of the stack's resources.
    pub names: ResourceNames,
    /// The files written next to the manifest.
    pub files: Vec<String>,
}

/// One archive directory and its manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    /// The directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// `stacks_dir/archive`.
pub fn root(stacks_dir: &Path) -> PathBuf {
    stacks_dir.join("archive")
}

/// The directory name for a stack archived at `when`: `NAME-20261125T143000Z`.
pub fn dir_name(stack: &str, when: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = when
        .to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_else(|_| "unknown-time".into());
    format!("{stack}-{stamp}")
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::failed_with(
        format!(
            "could not {what} {} (check that the directory is writable)",
            path.display()
        ),
        e,
    )
}

impl Archive {
    /// The directory that `cleanup` would write for `stack` at `when` (nothing is written).
    pub fn planned_dir(stacks_dir: &Path, stack: &Stack, when: time::OffsetDateTime) -> PathBuf {
        root(stacks_dir).join(dir_name(&stack.name, when))
    }

    /// Create the archive: the directory, `stack.yaml` (the stack as used) and the manifest
    /// with status `started`.
    pub fn create(stacks_dir: &Path, stack: &Stack, when: time::OffsetDateTime) -> Result<Archive> {
        let dir = Self::planned_dir(stacks_dir, stack, when);
        std::fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, e))?;
        let rfc3339 = when
            .to_offset(time::UtcOffset::UTC)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut archive = Archive {
            dir,
            manifest: Manifest {
                stack: stack.name.clone(),
                created: rfc3339,
                status: Status::Started,
                names: stack.names.clone(),
                files: Vec::new(),
            },
        };
        archive.write_text(STACK_FILE, &crate::stack::to_yaml(stack))?;
        Ok(archive)
    }

    /// Write (or overwrite) a text file in the archive and list it in the manifest.
    pub fn write_text(&mut self, file: &str, text: &str) -> Result<()> {
        let path = self.dir.join(file);
        write_atomically(&path, text)?;
        if !self.manifest.files.iter().any(|f| f == file) {
            self.manifest.files.push(file.to_string());
        }
        self.save()
    }

    /// Write a JSON value as a pretty file in the archive.
    pub fn write_json(&mut self, file: &str, value: &serde_json::Value) -> Result<()> {
        let text = serde_json::to_string_pretty(value)
            .context_failed(|| format!("could not render {file}"))?;
        self.write_text(file, &(text + "\n"))
    }

    /// Mark the cleanup finished.
    pub fn finish(&mut self) -> Result<()> {
        self.manifest.status = Status::Finished;
        self.save()
    }

    fn save(&self) -> Result<()> {
        let path = self.dir.join(MANIFEST);
        let text = serde_json::to_string_pretty(&self.manifest)
            .context_failed(|| format!("could not render {MANIFEST}"))?;
        write_atomically(&path, &(text + "\n"))
    }

    /// Read an archive directory.
    pub fn open(dir: &Path) -> Result<Archive> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| io_error("read", &path, e))?;
        let manifest = serde_json::from_str(&text).map_err(|e| {
            Error::bad_input(format!(
                "{} is not an mcpctl archive manifest: {e}",
                path.display()
            ))
        })?;
        Ok(Archive {
            dir: dir.to_path_buf(),
            manifest,
        })
    }
}

/// Write `text` to `path` so that a reader (or a re-run after a kill) sees the old file or the
/// new one, never a part: write a temporary file beside it, flush it to disk, rename it over.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error("write", &tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error("write", path, e)
    })
}

/// An archive directory whose manifest is missing or unreadable (a cleanup killed before
/// archives were written atomically, or between creating the directory and its manifest),
/// rebuilt from its `stack.yaml` as an unfinished archive, so the next cleanup reuses and
/// completes it instead of leaving it broken. `None` when the stack file is unusable too.
fn recover(dir: &Path) -> Option<Archive> {
    let file = dir.join(STACK_FILE);
    if !file.is_file() {
        return None;
    }
    let stack = crate::stack::load(file.to_str()?, dir).ok()?;
    let dir_name = dir.file_name()?.to_string_lossy().to_string();
    let stamp = dir_name.strip_prefix(&format!("{}-", stack.name))?;
    // `20261125T143000Z` -> `2026-11-25T14:30:00Z`.
    let created = if stamp.len() == 16 && stamp.is_ascii() {
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            &stamp[0..4],
            &stamp[4..6],
            &stamp[6..8],
            &stamp[9..11],
            &stamp[11..13],
            &stamp[13..15]
        )
    } else {
        String::new()
    };
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|f| f != MANIFEST && !f.starts_with('.'))
        .collect();
    files.sort();
    Some(Archive {
        dir: dir.to_path_buf(),
        manifest: Manifest {
            stack: stack.name.clone(),
            created,
            status: Status::Started,
            names: stack.names.clone(),
            files,
        },
    })
}

/// Every archive under `stacks_dir/archive`, oldest first; one whose manifest was cut short
/// is [`recover`]ed as unfinished.
pub fn list(stacks_dir: &Path) -> Vec<Archive> {
    let mut all: Vec<Archive> = std::fs::read_dir(root(stacks_dir))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| Archive::open(&e.path()).ok().or_else(|| recover(&e.path())))
        .collect();
    all.sort_by(|a, b| {
        (a.manifest.created.as_str(), a.dir.as_path())
            .cmp(&(b.manifest.created.as_str(), b.dir.as_path()))
    });
    all
}

/// The newest archive of `stack` whose cleanup did not finish (a re-run continues with it).
pub fn unfinished(stacks_dir: &Path, stack: &str) -> Option<Archive> {
    list(stacks_dir)
        .into_iter()
        .rev()
        .find(|a| a.manifest.stack == stack && a.manifest.status == Status::Started)
}

/// The newest archive of a stack that owned the target group `name`.
pub fn with_target_group(stacks_dir: &Path, name: &str) -> Option<Archive> {
    list(stacks_dir)
        .into_iter()
        .rev()
        .find(|a| a.manifest.names.target_group == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stateful() -> Stack {
        let stacks = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
        crate::stack::load_with_env("stateful", &stacks, &|k| {
            (k == "AWS_ACCOUNT_ID").then(|| "123456789012".to_string())
        })
        .expect("stacks/stateful.yaml loads")
    }

    #[test]
    fn directory_names_carry_the_utc_time() {
        let t = time::macros::datetime!(2026-11-25 14:30:05 +02:00);
        assert_eq!(dir_name("stateful", t), "stateful-20261125T123005Z");
    }

    #[test]
    fn an_archive_holds_a_loadable_stack_and_a_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let stack = stateful();
        let when = time::macros::datetime!(2026-11-25 12:00:00 UTC);
        let mut a = Archive::create(dir.path(), &stack, when).unwrap();
        assert_eq!(a.dir, dir.path().join("archive/stateful-20261125T120000Z"));
        a.write_json("target-group.json", &serde_json::json!({"name": "x"}))
            .unwrap();
        let loaded = crate::stack::load(a.dir.to_str().unwrap(), dir.path()).unwrap();
        assert_eq!(loaded.names, stack.names);
        assert_eq!(loaded.routing, stack.routing);

        let back = Archive::open(&a.dir).unwrap();
        assert_eq!(back.manifest.files, vec!["stack.yaml", "target-group.json"]);
        assert_eq!(back.manifest.status, Status::Started);
        assert_eq!(unfinished(dir.path(), "stateful"), Some(back));
        assert_eq!(
            with_target_group(dir.path(), "opensearch-mcp-tg").map(|a| a.dir),
            Some(a.dir.clone())
        );
        assert!(with_target_group(dir.path(), "other").is_none());

        a.finish().unwrap();
        assert!(unfinished(dir.path(), "stateful").is_none());
        let later = time::macros::datetime!(2026-11-26 12:00:00 UTC);
        let b = Archive::create(dir.path(), &stack, later).unwrap();
        assert_eq!(
            with_target_group(dir.path(), "opensearch-mcp-tg").map(|a| a.dir),
            Some(b.dir)
        );
    }

    #[test]
    fn a_manifest_cut_short_is_recovered_as_unfinished_and_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let stack = stateful();
        let when = time::macros::datetime!(2026-11-25 12:00:00 UTC);
        let a = Archive::create(dir.path(), &stack, when).unwrap();
        // What a cleanup killed mid-write of a non-atomic write left: an empty manifest.
        std::fs::write(a.dir.join(MANIFEST), "").unwrap();
        assert!(Archive::open(&a.dir).is_err());
        let mut found = unfinished(dir.path(), "stateful").expect("recovered");
        assert_eq!(found.dir, a.dir);
        assert_eq!(found.manifest.created, "2026-11-25T12:00:00Z");
        assert_eq!(found.manifest.names, stack.names);
        assert_eq!(found.manifest.files, vec!["stack.yaml"]);
        // The re-run writes into it, which repairs the manifest.
        found
            .write_json("service.json", &serde_json::json!({}))
            .unwrap();
        let back = Archive::open(&a.dir).unwrap();
        assert_eq!(back.manifest.files, vec!["stack.yaml", "service.json"]);
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(&a.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }
}
