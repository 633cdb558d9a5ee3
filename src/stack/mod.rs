//! Stack files: load, `${VAR}` interpolation, `extends:`, validation with `file:line:col`.
//!
//! # Public API (other commands use exactly this)
//!
//! * [`load`]`(stack_arg, stacks_dir) -> Result<Stack>` — `stack_arg` is a name (`stateless` →
//!   `stacks_dir/stateless.yaml`), a path to a `.yaml` file, or a directory holding `stack.yaml`
//!   (an archive written by `cleanup`). Every problem in the file(s) is reported at once as
//!   `file:line:col: message` with what to write instead, as [`Error::BadInput`] (exit 2).
//!   Nothing talks to AWS here.
//! * [`Stack`] — the resolved stack: `name`, `source`, `region`, `cluster`, `load_balancer`
//!   (`reference`: name or ARN, `listener_port`), `network`, `roles`, `names` (ECR repository,
//!   service, task family, container, target group, log group), `image`, `container_port`,
//!   `cpu`, `memory`, `service` (desired count, deployment settings), `routing`
//!   (`path_patterns`, preferred `priority`), `health_check`, `log_retention_days`, `ecr`,
//!   `env` (ordered container environment incl. `MCP_PATH`, `MCP_STATELESS`,
//!   `MCP_PATH_ALIASES`, `MCP_ALLOWED_HOSTS`, `MCP_PORT`), `secrets`, `tags`.
//!   [`Stack::resource_tags`] gives the tags every resource carries (`mcpctl:stack = name`).
//! * [`to_yaml`]`(&Stack) -> String` — the stack "as used", self-contained (no `extends:`, no
//!   `${VAR}`, defaults spelled out); [`load`] reads it back to an equal `Stack`.
//! * [`load_with_env`] — like [`load`] with `${VAR}` values from a function (tests).
//!
//! The YAML crate is `serde-saphyr` (`serde_yaml` is deprecated upstream; this one is
//! maintained and reports line and column for every value and error).

/// `at!(section.key)`: a getter for one key of a stack file, for the resolver.
macro_rules! at {
    ($top:ident) => {
        |f: &StackFile| f.$top.as_ref()
    };
    ($sec:ident . $key:ident) => {
        |f: &StackFile| f.$sec.as_ref().and_then(|s| s.value.$key.as_ref())
    };
}

/// `key!(section.key)`: a setting's dotted name as messages write it (`service.max_percent`).
macro_rules! key {
    ($sec:ident . $key:ident) => {
        concat!(stringify!($sec), ".", stringify!($key))
    };
}

/// `int!(resolver, section.key, default, lo, hi)`: a whole-number setting, its name written
/// once (message text and getter both come from the path); the value and where it was written.
macro_rules! int {
    ($r:expr, $sec:ident . $key:ident, $default:expr, $lo:expr, $hi:expr) => {
        $r.int(key!($sec.$key), $default, $lo, $hi, at!($sec.$key))
    };
}

/// `int_or_default!(resolver, section.key, default, lo, hi)`: [`int!`] as an `i32`, the default
/// when absent or wrong.
macro_rules! int_or_default {
    ($r:expr, $sec:ident . $key:ident, $default:expr, $lo:expr, $hi:expr) => {
        int!($r, $sec.$key, $default, $lo, $hi).map_or($default, |v| v.0) as i32
    };
}

/// `boolean!(resolver, section.key, default)`: a switch setting, its name written once.
macro_rules! boolean {
    ($r:expr, $sec:ident . $key:ident, $default:expr) => {
        $r.boolean(key!($sec.$key), $default, at!($sec.$key))
    };
}

/// `name!(resolver, names.key, example, rule)`: a required resource name, its name written once.
macro_rules! name {
    ($r:expr, $sec:ident . $key:ident, $example:expr, $rule:expr) => {
        $r.name(key!($sec.$key), $example, $rule, at!($sec.$key))
    };
}

mod container_settings;
mod directory;
mod endpoint;
mod env_settings;
mod file;
mod image_reference;
mod interpolate;
mod layers;
mod matcher;
mod model;
mod own_settings;
mod render;
mod resolve;
pub mod rules;
mod scaling;
mod shared_settings;
mod siblings;

use std::path::{Path, PathBuf};

pub use directory::stack_names;
pub use endpoint::{metadata_patterns, Auth, ListenerProtocol, TLS_POLICY};
pub use interpolate::escape;
pub use matcher::Matcher;
pub use model::*;
pub use render::to_yaml;

use crate::error::{Error, Result};

/// Load and validate a stack: `stack_arg` is a name in `stacks_dir`, a file path, or an
/// archive directory holding `stack.yaml`. `${VAR}` values come from the process environment.
pub fn load(stack_arg: &str, stacks_dir: &Path) -> Result<Stack> {
    load_with_env(stack_arg, stacks_dir, &|k| std::env::var(k).ok())
}

/// [`load`] with `${VAR}` values taken from `lookup`.
pub fn load_with_env(
    stack_arg: &str,
    stacks_dir: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Stack> {
    let path = find(stack_arg, stacks_dir)?;
    check_all(&path, stack_arg, None, lookup)
}

/// Load the stack file `path` as if it held `text` (it need not exist; the files it
/// `extends:` are read from disk). `adopt` checks what it is about to write this way.
pub fn load_text(
    path: &Path,
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Stack> {
    check_all(path, "", Some(text.to_string()), lookup)
}

/// Resolve `path` (or `text` as its content) and check it against the stacks beside it; every
/// problem at once.
fn check_all(
    path: &Path,
    stack_arg: &str,
    text: Option<String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Stack> {
    let (stack, claims, mut errors, layers) = resolve_file(path, stack_arg, text, lookup)?;
    errors.extend(siblings::collisions(path, &layers, &claims, lookup));
    if errors.is_empty() {
        Ok(stack)
    } else {
        let n = errors.len();
        let mut msg = errors.join("\n");
        if n > 1 {
            msg.push_str(&format!(
                "\n({n} problems in the stack; nothing was changed)"
            ));
        }
        Err(Error::bad_input(msg))
    }
}

/// Read and resolve one stack file (`text`: its content, instead of reading it): the stack,
/// what it claims, every problem (unknown keys first), and the files it was read from.
fn resolve_file(
    path: &Path,
    stack_arg: &str,
    text: Option<String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(Stack, resolve::Claims, Vec<String>, Vec<PathBuf>)> {
    let display = path.display().to_string();
    let layers = layers::read_layers_with(path, display, text, lookup).map_err(Error::bad_input)?;
    let default_name = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| stack_arg.to_string());
    let mut r = resolve::Resolver::new(&layers, lookup);
    let stack = r.stack(&default_name, path.to_path_buf());
    let unknown: Vec<&layers::UnknownKey> = layers.iter().flat_map(|l| &l.unknown).collect();
    // A key that is missing because it was misspelled is reported once, as the misspelling.
    let meant: Vec<&str> = unknown
        .iter()
        .filter_map(|u| u.suggestion.as_deref())
        .collect();
    let mut errors: Vec<String> = unknown.iter().map(|u| u.message.clone()).collect();
    errors.extend(r.errors.into_iter().filter(|e| {
        !missing_key(e).is_some_and(|k| k.split('.').any(|part| meant.contains(&part)))
    }));
    let files = layers.iter().map(|l| l.path.clone()).collect();
    Ok((stack, r.claims, errors, files))
}

/// The key a "missing `KEY`" problem names.
fn missing_key(problem: &str) -> Option<&str> {
    let rest = problem.split_once(": missing `")?.1;
    rest.split_once('`').map(|(k, _)| k)
}

/// Where a `--stack` argument points.
fn find(stack_arg: &str, stacks_dir: &Path) -> Result<PathBuf> {
    let as_path = Path::new(stack_arg);
    let looks_like_path =
        stack_arg.contains('/') || stack_arg.ends_with(".yaml") || stack_arg.ends_with(".yml");
    if looks_like_path {
        if as_path.is_dir() {
            let inner = as_path.join("stack.yaml");
            if inner.is_file() {
                return Ok(inner);
            }
            return Err(Error::bad_input(format!(
                "{stack_arg} is a directory without a stack.yaml; give a stack file or an archive directory written by `mcpctl cleanup`"
            )));
        }
        if as_path.is_file() {
            return Ok(as_path.to_path_buf());
        }
        return Err(Error::bad_input(format!(
            "stack file {stack_arg} does not exist; give a name from {} ({}) or a path to a .yaml file",
            stacks_dir.display(),
            available(stacks_dir)
        )));
    }
    if stack_arg.is_empty()
        || !stack_arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(Error::bad_input(format!(
            "`{stack_arg}` is not a stack name; use a name like `stateless` or a path to a .yaml file"
        )));
    }
    let p = stacks_dir.join(format!("{stack_arg}.yaml"));
    if p.is_file() {
        return Ok(p);
    }
    Err(Error::bad_input(format!(
        "no stack named `{stack_arg}`: {} does not exist; stacks in {}: {} (or pass --stacks-dir / a path)",
        p.display(),
        stacks_dir.display(),
        available(stacks_dir)
    )))
}

fn available(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            (p.extension().is_some_and(|x| x == "yaml"))
                .then(|| p.file_stem().map(|s| s.to_string_lossy().to_string()))
                .flatten()
        })
        .collect();
    names.sort();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// For unit tests: the repository's stateless stack with `extra` YAML appended (a file of its
/// own extending `stacks/stateless.yaml`, named `s.yaml`), loaded with `AWS_ACCOUNT_ID` set.
#[cfg(test)]
pub(crate) fn stateless_for_test(extra: &str) -> std::result::Result<Stack, String> {
    let d = tempfile::tempdir().map_err(|e| e.to_string())?;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stacks");
    for f in ["shared.yaml", "stateless.yaml"] {
        std::fs::copy(repo.join(f), d.path().join(f)).map_err(|e| e.to_string())?;
    }
    std::fs::write(
        d.path().join("s.yaml"),
        format!("extends: stateless.yaml\nname: stateless\n{extra}"),
    )
    .map_err(|e| e.to_string())?;
    load_with_env("s", d.path(), &|k| {
        (k == "AWS_ACCOUNT_ID").then(|| "123456789012".to_string())
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
