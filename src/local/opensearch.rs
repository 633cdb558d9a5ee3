//! The OpenSearch `local` points replicas at: a URL the user gives, or an `osmem-server` (the
//! in-memory OpenSearch emulator from pip) started here and seeded with the sample `movies` index.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The sample index: a few MovieLens-like documents (the same data the tests use).
pub const SAMPLE_MAPPING: &str = include_str!("../../tests/data/movies.mapping.json");
/// The sample documents, as a `_bulk` body.
pub const SAMPLE_DOCUMENTS: &str = include_str!("../../tests/data/movies.ndjson");

/// How to install osmem-server, for the error when it is missing.
pub const INSTALL_HINT: &str = "osmem-server is not installed: `pip install osmem-server` \
     (scripts/setup-venv puts it in .venv; set MCPCTL_VENV or activate the venv), or pass \
     --opensearch URL to use a running OpenSearch";

/// Find `osmem-server`: on PATH, then in the venvs named by `MCPCTL_VENV`, `VIRTUAL_ENV` and
/// `./.venv` (pip installs it inside the package, `site-packages/osmem_server/bin/`).
pub fn find_osmem() -> Option<PathBuf> {
    if let Some(p) = find_on_path("osmem-server") {
        return Some(p);
    }
    let venvs = ["MCPCTL_VENV", "VIRTUAL_ENV"]
        .iter()
        .filter_map(|k| std::env::var_os(k).map(PathBuf::from))
        .chain(std::iter::once(PathBuf::from(".venv")));
    for venv in venvs {
        let direct = venv.join("bin/osmem-server");
        if direct.is_file() {
            return Some(direct);
        }
        let Ok(libs) = std::fs::read_dir(venv.join("lib")) else {
            continue;
        };
        for py in libs.flatten() {
            let p = py
                .path()
                .join("site-packages/osmem_server/bin/osmem-server");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// `name` in a directory of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Wait (bounded) until `url` answers HTTP at all.
pub async fn wait_until_up(http: &reqwest::Client, url: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if http.get(url).send().await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Create the `movies` index and load the sample documents.
pub async fn seed(http: &reqwest::Client, url: &str) -> Result<(), String> {
    let put = http
        .put(format!("{url}/movies"))
        .header("content-type", "application/json")
        .body(SAMPLE_MAPPING)
        .send()
        .await
        .map_err(|e| format!("creating the sample index at {url}: {e}"))?;
    if !put.status().is_success() {
        let body = put.text().await.unwrap_or_default();
        if !body.contains("resource_already_exists") {
            return Err(format!("creating the sample index at {url}: {body}"));
        }
    }
    let bulk = http
        .post(format!("{url}/_bulk?refresh=true"))
        .header("content-type", "application/x-ndjson")
        .body(SAMPLE_DOCUMENTS)
        .send()
        .await
        .map_err(|e| format!("loading the sample documents into {url}: {e}"))?;
    if !bulk.status().is_success() {
        return Err(format!(
            "loading the sample documents into {url}: HTTP {}",
            bulk.status()
        ));
    }
    Ok(())
}

/// The replica environment that points the server at `url` (`http://host:port`).
pub fn server_env(url: &reqwest::Url) -> Vec<(String, String)> {
    let https = url.scheme() == "https";
    let port = url.port_or_known_default().unwrap_or(9200);
    vec![
        (
            "OPENSEARCH_HOST".into(),
            format!(
                "{}://{}",
                url.scheme(),
                url.host_str().unwrap_or("127.0.0.1")
            ),
        ),
        ("OPENSEARCH_PORT".into(), port.to_string()),
        ("OPENSEARCH_USE_SSL".into(), https.to_string()),
        ("OPENSEARCH_USE_IAM".into(), "false".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_env_follows_the_url() {
        let env = server_env(&reqwest::Url::parse("http://127.0.0.1:9201").unwrap());
        assert!(env.contains(&("OPENSEARCH_HOST".into(), "http://127.0.0.1".into())));
        assert!(env.contains(&("OPENSEARCH_PORT".into(), "9201".into())));
        assert!(env.contains(&("OPENSEARCH_USE_SSL".into(), "false".into())));
        let env = server_env(&reqwest::Url::parse("https://search.example.com").unwrap());
        assert!(env.contains(&("OPENSEARCH_PORT".into(), "443".into())));
        assert!(env.contains(&("OPENSEARCH_USE_SSL".into(), "true".into())));
    }

    #[test]
    fn sample_data_is_embedded() {
        assert!(SAMPLE_MAPPING.contains("\"title\""));
        assert!(SAMPLE_DOCUMENTS.lines().count() >= 2);
    }
}
