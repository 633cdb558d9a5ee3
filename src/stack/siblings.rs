//! What one stack may not share with the other stacks of its directory: a listener rule path
//! (one path, one rule: two stacks with `/ossserver/*` would take the production rule from
//! each other) and a task family (two stacks would register revisions over each other).

use std::path::{Path, PathBuf};

use super::directory::canonical;
use super::resolve::Claims;

/// Problems (`file:line:col: ...`) where `claims` of the stack in `path` collide with another
/// stack file in the same directory. Files this stack extends, and files that do not load as
/// a complete stack (shared layers, broken files), are not stacks to collide with.
pub(super) fn collisions(
    path: &Path,
    layers: &[PathBuf],
    claims: &Claims,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let own: Vec<PathBuf> = layers.iter().map(|p| canonical(p)).collect();
    // An unreadable directory has no other stacks to collide with.
    let files: Vec<PathBuf> = super::directory::yaml_files(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| !own.contains(&canonical(p)))
        .collect();
    let mut problems = Vec::new();
    for file in files {
        let Ok((other, other_claims, errors, _)) =
            super::resolve_file(&file, &file.display().to_string(), None, lookup)
        else {
            continue;
        };
        if !errors.is_empty() {
            continue;
        }
        let who = format!("stack `{}` ({})", other.name, file.display());
        for (pattern, place) in &claims.path_patterns {
            if other_claims.path_patterns.iter().any(|(p, _)| p == pattern) {
                problems.push(format!(
                    "{place}: path `{pattern}` is also a path of {who}; a path belongs to one listener rule, so one stack would take over the other's rule: give this stack a path of its own"
                ));
            }
        }
        if let (Some((family, place)), Some((theirs, _))) =
            (&claims.task_family, &other_claims.task_family)
        {
            if family == theirs {
                problems.push(format!(
                    "{place}: task family `{family}` is also the task family of {who}; each stack needs its own (e.g. `{family}-2`), or `up` would register revisions over the other stack's"
                ));
            }
        }
    }
    problems
}
