//! The image to deploy: given (`--image` / `image:`), or built from `server/` with
//! `docker build`, pushed to the stack's ECR repository after logging in with
//! `GetAuthorizationToken`, and deployed by digest (so a rebuilt `latest` still makes a new
//! task definition revision).

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

/// Build `server/` (context: the workspace root), log in to ECR, push to `repo_uri`, and
/// return `repo_uri@sha256:...`.
pub async fn build_and_push(c: &Clients, workspace: &Path, repo_uri: &str) -> Result<String> {
    let auth = c
        .ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| call_error("ecr:GetAuthorizationToken", "ECR registry", e))?;
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
    let tag = format!("{repo_uri}:latest");
    eprintln!("building server/ into {tag} ...");
    run(
        Command::new("docker").current_dir(workspace).args([
            "build",
            "-f",
            "server/Dockerfile",
            "-t",
            &tag,
            ".",
        ]),
        "docker build -f server/Dockerfile .",
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
}
