//! The stacks of a directory: its YAML files that no other file of it `extends:` (a file
//! another one extends is a shared layer, like `stacks/shared.yaml`, not a stack).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// At most this many files of a directory are read.
pub(super) const MAX_FILES: usize = 64;

/// The names (file stems) of the stacks in `dir`, sorted. A file that cannot be read as YAML
/// still counts as a stack (loading it reports its problems).
pub fn stack_names(dir: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>> {
    let files = yaml_files(dir).map_err(|e| {
        Error::bad_input_with(
            format!(
                "cannot read the stacks directory {}: pass --stacks-dir DIR or --stack NAME",
                dir.display()
            ),
            e,
        )
    })?;
    let mut extended: BTreeSet<PathBuf> = BTreeSet::new();
    for file in &files {
        if let Ok(layers) =
            super::layers::read_layers_with(file, file.display().to_string(), None, lookup)
        {
            extended.extend(layers.iter().skip(1).map(|l| canonical(&l.path)));
        }
    }
    Ok(files
        .iter()
        .filter(|f| !extended.contains(&canonical(f)))
        .filter_map(|f| f.file_stem().map(|s| s.to_string_lossy().to_string()))
        .collect())
}

/// The `.yaml`/`.yml` files of `dir`, sorted, at most [`MAX_FILES`].
pub(super) fn yaml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml") && p.is_file())
        .collect();
    files.sort();
    files.truncate(MAX_FILES);
    Ok(files)
}

/// The path with links and `..` resolved (as given when it cannot be).
pub(super) fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_stacks_are_the_two_files_that_extend_shared() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
        let env = |k: &str| match k {
            "AWS_ACCOUNT_ID" => Some("123456789012".to_string()),
            _ => None,
        };
        assert_eq!(
            stack_names(&dir, &env).unwrap(),
            ["stateful".to_string(), "stateless".to_string()]
        );
    }

    #[test]
    fn a_missing_directory_says_what_to_pass() {
        let e = stack_names(Path::new("/nonexistent/stacks"), &|_| None).unwrap_err();
        assert!(e.to_string().contains("--stacks-dir"), "{e}");
    }
}
