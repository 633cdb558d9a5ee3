//! The image to deploy: given (`--image` / `image:`), or built from `server/` with
//! `docker build --platform` for the stack's CPU architecture, tagged uniquely per build
//! (commit, dirty flag and time: a repository with IMMUTABLE tags accepts every push), pushed
//! to the stack's ECR repository after logging in with `GetAuthorizationToken`, and deployed by
//! digest.

use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;

use super::errors::call_error;
use super::Clients;
use crate::error::{Context, Error, Result};

/// Why docker cannot build here, or `None` when it can (client on PATH and engine answering).
pub fn docker_problem() -> Option<String> {
    let out = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match out {
        Err(_) => Some(
            "no image to deploy: `docker` is not on PATH and neither --image nor `image:` is given; install Docker to build server/, or pass --image URI (e.g. --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/opensearch-mcp-server-stateless@sha256:...)".to_string(),
        ),
        Ok(o) if !o.status.success() => Some(format!(
            "no image to deploy: `docker info` failed ({}), so server/ cannot be built; start the Docker engine, or pass --image URI / set `image:` in the stack",
            String::from_utf8_lossy(&o.stderr).lines().find(|l| !l.trim().is_empty()).unwrap_or("the engine is not running").trim()
        )),
        Ok(_) => None,
    }
}

fn run(cmd: &mut Command, what: &str, stdin: Option<&str>) -> Result<String> {
    use std::io::Write;
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context_failed(|| format!("{what}: could not start docker"))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .context_failed(|| what.to_string())?;
    }
    let out = child
        .wait_with_output()
        .context_failed(|| what.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(Error::failed(format!(
            "{what} failed:\n{}",
            tail.join("\n")
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// The digest in `docker push` output (`latest: digest: sha256:... size: 1234`).
pub fn digest_from_push(output: &str) -> Option<String> {
    output.lines().find_map(|l| {
        let i = l.find("digest: sha256:")?;
        let rest = &l[i + "digest: ".len()..];
        Some(rest.split_whitespace().next()?.to_string())
    })
}

/// `docker build --platform` for an ECS `cpuArchitecture` (`X86_64`, `ARM64`).
pub fn docker_platform(cpu_architecture: &str) -> &'static str {
    match cpu_architecture {
        "ARM64" => "linux/arm64",
        _ => "linux/amd64",
    }
}

/// The tag of one build: the commit (12 hex digits, `nogit` outside git), `-dirty` when the
/// work tree has changes, and the UTC time to the millisecond, e.g.
/// `3f2a9c1d0b7e-dirty-20261202T021503123Z`. Never `latest`: an IMMUTABLE repository refuses
/// a second push of a tag (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html).
pub fn build_tag(commit: Option<&str>, dirty: bool, now: time::OffsetDateTime) -> String {
    let commit: String = commit
        .unwrap_or("nogit")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second][subsecond digits:3]Z"
        ))
        .unwrap_or_default();
    format!(
        "{}{}-{stamp}",
        if commit.is_empty() { "nogit" } else { &commit },
        if dirty { "-dirty" } else { "" }
    )
}

/// The commit and dirty flag of `workspace` (`None` outside a git work tree).
fn git_state(workspace: &Path) -> (Option<String>, bool) {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(workspace)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]).filter(|c| !c.is_empty());
    let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    (commit, dirty)
}

/// The `docker build` arguments for `tag` on `platform`.
pub fn build_args(platform: &str, tag: &str) -> Vec<String> {
    [
        "build",
        "--platform",
        platform,
        "-f",
        "server/Dockerfile",
        "-t",
        tag,
        ".",
    ]
    .map(String::from)
    .to_vec()
}

/// Build `server/` (context: the workspace root) for `cpu_architecture`, log in to ECR, push a
/// unique tag to the repository `repo_name` at `repo_uri`, and return `repo_uri@sha256:...`.
pub async fn build_and_push(
    c: &Clients,
    workspace: &Path,
    repo_name: &str,
    repo_uri: &str,
    cpu_architecture: &str,
) -> Result<String> {
    let (commit, dirty) = git_state(workspace);
    let tag_name = build_tag(commit.as_deref(), dirty, time::OffsetDateTime::now_utc());
    let mutability = super::ecr::tag_mutability(c, repo_name).await?;
    if mutability.as_deref() == Some("IMMUTABLE")
        && super::ecr::image_exists(c, repo_name, repo_uri, &format!("{repo_uri}:{tag_name}"))
            .await?
            == Some(true)
    {
        return Err(Error::failed(format!(
            "ECR repository {repo_name} has IMMUTABLE tags and already holds {tag_name}; run `up` again (the tag carries the time)"
        )));
    }
    let auth = c
        .ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| call_error("ECR registry", e))?;
    let data = auth
        .authorization_data()
        .first()
        .ok_or_else(|| Error::failed("ecr:GetAuthorizationToken returned no authorization data"))?;
    let token = base64::engine::general_purpose::STANDARD
        .decode(data.authorization_token().unwrap_or_default())
        .context_failed(|| "ECR authorization token is not base64".to_string())?;
    let token = String::from_utf8_lossy(&token).to_string();
    let password = token.split_once(':').map(|(_, p)| p).unwrap_or(&token);
    let registry = repo_uri.split('/').next().unwrap_or(repo_uri);
    run(
        Command::new("docker").args(["login", "--username", "AWS", "--password-stdin", registry]),
        &format!("docker login {registry}"),
        Some(password),
    )?;
    let tag = format!("{repo_uri}:{tag_name}");
    let platform = docker_platform(cpu_architecture);
    eprintln!(
        "building server/ for {platform} into {tag} (repository tags: {}) ...",
        mutability.as_deref().unwrap_or("unknown")
    );
    run(
        Command::new("docker")
            .current_dir(workspace)
            .args(build_args(platform, &tag)),
        &format!("docker build --platform {platform} -f server/Dockerfile ."),
        None,
    )?;
    eprintln!("pushing {tag} ...");
    let pushed = run(
        Command::new("docker").args(["push", &tag]),
        &format!("docker push {tag}"),
        None,
    )?;
    let digest = digest_from_push(&pushed).ok_or_else(|| {
        Error::failed(format!(
            "docker push {tag} printed no digest; output was:\n{pushed}"
        ))
    })?;
    Ok(format!("{repo_uri}@{digest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_read_from_push_output() {
        let out = "The push refers to repository [1.dkr.ecr.us-east-1.amazonaws.com/x]\n5f70bf18a086: Pushed\nlatest: digest: sha256:4c1e1b0c7fdb2a2f3c5e6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d size: 1570\n";
        assert_eq!(
            digest_from_push(out).as_deref(),
            Some("sha256:4c1e1b0c7fdb2a2f3c5e6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d")
        );
        assert_eq!(digest_from_push("nothing"), None);
    }

    #[test]
    fn every_build_gets_its_own_tag_never_latest() {
        let t = time::macros::datetime!(2026-12-02 02:15:03.123 UTC);
        let a = build_tag(Some("3f2a9c1d0b7e55aa"), true, t);
        assert_eq!(a, "3f2a9c1d0b7e-dirty-20261202T021503123Z");
        let b = build_tag(
            Some("3f2a9c1d0b7e55aa"),
            true,
            t + time::Duration::milliseconds(1),
        );
        assert_ne!(a, b);
        assert_eq!(build_tag(None, false, t), "nogit-20261202T021503123Z");
        assert!(!a.contains("latest"));
    }

    #[test]
    fn the_build_names_the_platform() {
        let args = build_args(docker_platform("ARM64"), "r:t");
        assert_eq!(&args[..3], ["build", "--platform", "linux/arm64"]);
        assert_eq!(docker_platform("X86_64"), "linux/amd64");
    }
}
