//! `adopt`: take a running deployment (made by hand or by the old scripts) under a stack file
//! without touching it. [`read`] reads the live service and everything it uses,
//! [`file::stack_text`] writes the stack file that describes exactly that (only what differs
//! from `shared.yaml`), and [`adopt`] proves with the real plan that `up` with it would only add
//! mcpctl's tags ([`check::beyond_tags`]) before writing it atomically.

pub mod check;
pub mod file;
pub mod read;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::aws::deploy::observe;
use crate::aws::Clients;
use crate::error::{Error, Result};
use crate::plan::{plan, Desired, Plan};
use crate::stack;

pub use read::{read, Live};

/// Why a deployment cannot be adopted.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    /// No such cluster.
    #[error("ECS cluster `{cluster}` was not found (or is not ACTIVE) in {region}; pass --cluster, --region or --profile")]
    ClusterNotFound {
        /// The cluster.
        cluster: String,
        /// The region looked in.
        region: String,
    },
    /// No such service.
    #[error("no ACTIVE ECS service `{service}` in cluster `{cluster}`; check --service and --cluster (`aws ecs list-services --cluster {cluster}`)")]
    ServiceNotFound {
        /// The service.
        service: String,
        /// The cluster.
        cluster: String,
    },
    /// The service's task definition is gone.
    #[error("the service runs task definition {0}, which ECS no longer describes")]
    TaskDefinitionNotFound(String),
    /// The service is not behind a load balancer.
    #[error("ECS service `{0}` is not bound to a target group of a load balancer; mcpctl stacks serve through the shared ALB")]
    NoLoadBalancer(String),
    /// No listener rule forwards to the service's target group.
    #[error(
        "no listener rule forwards to target group `{0}`; a stack needs its path rule on the ALB"
    )]
    NoRule(String),
    /// The stack file exists.
    #[error("{0} exists; adopt never overwrites a stack file: pass --force to replace it, or choose another --stack")]
    Exists(PathBuf),
    /// The file would make `up` change the deployment.
    #[error("the running deployment cannot be described exactly by a stack file, so `up` would change it; nothing was written:\n{}", .0.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n"))]
    NotExact(Vec<String>),
    /// Writing the file failed.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl From<AdoptError> for Error {
    fn from(e: AdoptError) -> Self {
        match e {
            AdoptError::ClusterNotFound { .. }
            | AdoptError::ServiceNotFound { .. }
            | AdoptError::TaskDefinitionNotFound(_)
            | AdoptError::NoLoadBalancer(_)
            | AdoptError::NoRule(_) => Error::bad_input(e.to_string()),
            AdoptError::Exists(_) | AdoptError::NotExact(_) => Error::refused(e.to_string()),
            AdoptError::Write { .. } => Error::Failed(anyhow::Error::new(e)),
        }
    }
}

/// What `adopt` did.
#[derive(Debug)]
pub struct Adopted {
    /// The file written.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// What was read.
    pub live: Live,
    /// The plan `up` would follow with it (only tags).
    pub plan: Plan,
}

/// The path of stack `name` in `stacks_dir`, refusing names that are not plain stack names.
pub fn stack_path(name: &str, stacks_dir: &Path) -> Result<PathBuf> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        return Err(Error::bad_input(format!(
            "`{name}` is not a stack name; use letters, digits, `-` and `_` (e.g. `stateful`); adopt writes STACKS_DIR/NAME.yaml"
        )));
    }
    Ok(stacks_dir.join(format!("{name}.yaml")))
}

/// What the stacks directory's `shared.yaml` gives every stack.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedDefaults {
    /// `cluster`.
    pub cluster: String,
    /// `region`.
    pub region: String,
}

/// The cluster and region `shared.yaml` in `stacks_dir` gives (read through a stack that only
/// extends it).
pub fn shared_defaults(
    stacks_dir: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<SharedDefaults> {
    let probe = "extends: shared.yaml
names: {ecr_repository: probe, service: probe, task_family: probe, target_group: probe, log_group: /probe}
routing: {path_patterns: [/probe/*]}
health_check: {path: /probe/health}
";
    let s = stack::load_text(&stacks_dir.join(".adopt-probe.yaml"), probe, lookup)?;
    Ok(SharedDefaults {
        cluster: s.cluster,
        region: s.region,
    })
}

/// Adopt the deployment behind `service` in `cluster` as stack `path` (`force`: replace an
/// existing file). Writes the file only when `up` with it would change nothing but tags.
pub async fn adopt(
    c: &Clients,
    path: &Path,
    cluster: &str,
    service: &str,
    force: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Adopted> {
    if path.exists() && !force {
        return Err(AdoptError::Exists(path.to_path_buf()).into());
    }
    let live = read(c, cluster, service).await?;
    let text = file::stack_text(&live, path, lookup)?;
    let stack = stack::load_text(path, &text, lookup)?;
    let (observed, mut problems) = observe(c, &stack).await?;
    let Some(observed) = observed else {
        return Err(AdoptError::NotExact(problems).into());
    };
    let desired = Desired::new(&stack, &observed.shared, stack.image.clone());
    let mut p = plan(&desired, &observed);
    problems.append(&mut p.problems);
    p.problems = problems;
    let beyond = check::beyond_tags(&p);
    if !beyond.is_empty() {
        return Err(AdoptError::NotExact(beyond).into());
    }
    write_atomically(path, &text, force)?;
    Ok(Adopted {
        path: path.to_path_buf(),
        text,
        live,
        plan: p,
    })
}

/// Write `text` to `path` through a temporary file in the same directory, so a reader never
/// sees half a file; without `force` an existing file is never replaced (not even one that
/// appeared meanwhile).
fn write_atomically(path: &Path, text: &str, force: bool) -> Result<()> {
    let err = |source| AdoptError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if force {
            std::fs::rename(&tmp, path)
        } else {
            // A hard link fails if the target exists: no overwrite, even in a race.
            std::fs::hard_link(&tmp, path).and_then(|()| std::fs::remove_file(&tmp))
        }
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(AdoptError::Exists(path.to_path_buf()).into());
        }
        return Err(err(e).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_only() {
        let d = Path::new("stacks");
        assert_eq!(
            stack_path("stateful", d).unwrap(),
            Path::new("stacks/stateful.yaml")
        );
        for bad in ["", "../x", "a/b", "x.yaml", "a b"] {
            assert_eq!(stack_path(bad, d).unwrap_err().exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn an_existing_file_is_never_replaced_without_force() {
        let dir = std::env::temp_dir().join(format!("mcpctl-adopt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.yaml");
        std::fs::write(&p, "old").unwrap();
        let e = write_atomically(&p, "new", false).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        write_atomically(&p, "new", true).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temp file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
