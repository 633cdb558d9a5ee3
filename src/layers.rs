//! The layers of `ARCHITECTURE.md`, checked: dependencies point down. Each rule names a folder
//! and the modules its code (not its comments, not its tests) may not name. A `use` or path
//! that breaks one fails here with the file and line, before it becomes a habit.

use std::path::{Path, PathBuf};

/// A folder under `src/` and the `crate::` paths its code may not name.
const RULES: &[(&str, &[&str])] = &[
    // The shared vocabulary: plain data, no SDK, no feature.
    (
        "model",
        &[
            "crate::aws",
            "crate::plan",
            "crate::cutover",
            "crate::commands",
            "crate::deploy",
        ],
    ),
    // Pure planning: never AWS, never a feature.
    (
        "plan",
        &[
            "crate::aws",
            "crate::cutover",
            "crate::commands",
            "crate::deploy",
        ],
    ),
    // The AWS edge: below every feature and command.
    (
        "aws",
        &[
            "crate::cutover",
            "crate::commands",
            "crate::deploy",
            "crate::adopt",
            "crate::archive",
        ],
    ),
    // The cutover's pure decisions: no AWS, and not the parts that call it.
    (
        "cutover/decide",
        &[
            "crate::aws",
            "crate::cutover::apply",
            "crate::cutover::progressive",
            "crate::commands",
        ],
    ),
];

/// Every `.rs` file under `dir` (also the IAM table's scan of SDK calls).
pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code lines of a file: up to its `#[cfg(test)]` module, without comments; a file that
/// only holds tests (`*_tests.rs`, `tests/`) has none.
fn code_lines(path: &Path, text: &str) -> Vec<(usize, String)> {
    let name = path.to_string_lossy();
    if name.ends_with("_tests.rs") || name.contains("/tests/") {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .take_while(|(_, l)| l.trim() != "#[cfg(test)]")
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

#[test]
fn dependencies_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (folder, forbidden) in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(folder), &mut files);
        assert!(!files.is_empty(), "src/{folder} has no Rust files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, code) in code_lines(&file, &text) {
                for f in forbidden.iter().filter(|f| code.contains(*f)) {
                    broken.push(format!(
                        "{}:{line} names {f}: {}",
                        file.display(),
                        code.trim()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "layers broken:\n{}", broken.join("\n"));
}

#[test]
fn a_use_of_a_layer_above_is_caught() {
    let lines = code_lines(
        Path::new("src/plan/x.rs"),
        "//! mentions crate::aws in a comment\nuse crate::aws::Clients;\n#[cfg(test)]\nuse crate::aws::x;\n",
    );
    assert_eq!(lines, vec![(2, "use crate::aws::Clients;".to_string())]);
}
