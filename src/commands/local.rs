//! `mcpctl local`: run stacks on this machine — N replicas each behind one round-robin router
//! that routes like the ALB — until Ctrl-C or SIGTERM, then stop every child. This parses and
//! checks the arguments; [`crate::local::run`] does the rest.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Context, Error, Result};
use crate::local::opensearch::{find_on_path, find_osmem, INSTALL_HINT};
use crate::local::run::{Options, Setup};
use crate::local::supervisor::logs_dir;
use crate::local::LocalStack;
use crate::output::Outcome;

/// The server binary's name, looked up beside mcpctl, then on PATH.
const SERVER_BIN: &str = "opensearch-mcp-server";

/// Arguments of `mcpctl local`.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// A stack to run (repeat for several): `--stack stateless --stack stateful`.
    #[arg(long = "stack", value_name = "NAME", required = true)]
    pub stacks: Vec<String>,
    /// Replicas per stack.
    #[arg(long, default_value_t = 3)]
    pub replicas: usize,
    /// The router's port on 127.0.0.1 (0: any free port; the URLs say which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Use this OpenSearch (e.g. http://127.0.0.1:9200) instead of starting osmem-server.
    #[arg(long, value_name = "URL")]
    pub opensearch: Option<String>,
    /// The server binary (default: opensearch-mcp-server beside mcpctl, then on PATH).
    #[arg(long, value_name = "PATH")]
    pub server_bin: Option<PathBuf>,
    /// Extra environment for every replica, overriding the stack's (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Time between health checks of each replica.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub health_interval: Duration,
    /// How long one health check may take before it counts as failed.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub health_timeout: Duration,
    /// How long replicas get to become healthy.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub startup_timeout: Duration,
    /// When everything is healthy, write the URLs, ports and pids here as JSON (removed on stop).
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    /// Directory for the replicas' and osmem's logs (default: a new one under the temp dir).
    #[arg(long, value_name = "DIR")]
    pub logs_dir: Option<PathBuf>,
}

/// Run `mcpctl local`.
pub async fn run(args: LocalArgs, global: &GlobalArgs) -> Outcome {
    let stacks = load_stacks(&args, global)?;
    if args.replicas == 0 || args.replicas > 64 {
        return Err(Error::bad_input("--replicas must be between 1 and 64").into());
    }
    if args.health_interval < Duration::from_millis(50) {
        return Err(Error::bad_input("--health-interval must be at least 50ms").into());
    }
    let extra_env = parse_env(&args.env)?;
    let server_bin = find_server_bin(args.server_bin.as_deref())?;
    let opensearch_url = match &args.opensearch {
        Some(u) => Some(reqwest::Url::parse(u).map_err(|e| {
            Error::bad_input(format!(
                "--opensearch {u:?} is not a URL ({e}); e.g. http://127.0.0.1:9200"
            ))
        })?),
        None => None,
    };
    let osmem_bin = match opensearch_url {
        Some(_) => None,
        None => Some(find_osmem().ok_or_else(|| Error::failed(INSTALL_HINT))?),
    };
    let logs = match &args.logs_dir {
        Some(d) => {
            std::fs::create_dir_all(d)
                .context_failed(|| format!("cannot create {}", d.display()))?;
            d.clone()
        }
        None => logs_dir().map_err(Error::failed)?,
    };

    let setup = Setup {
        stacks,
        extra_env,
        server_bin,
        opensearch_url,
        osmem_bin,
        logs,
    };
    let opts = Options {
        port: args.port,
        replicas: args.replicas,
        health_interval: args.health_interval,
        health_timeout: args.health_timeout,
        startup_timeout: args.startup_timeout,
        ready_file: args.ready_file,
        json: global.output.is_json(),
    };
    Ok(crate::local::run::run(&setup, &opts).await?)
}

fn load_stacks(args: &LocalArgs, global: &GlobalArgs) -> Result<Vec<LocalStack>> {
    // Role ARNs need an account id that a local run does not use.
    let lookup = |k: &str| {
        std::env::var(k)
            .ok()
            .or_else(|| (k == "AWS_ACCOUNT_ID").then(|| "000000000000".to_string()))
    };
    let mut stacks = Vec::new();
    for arg in &args.stacks {
        let stack = crate::stack::load_with_env(arg, &global.stacks_dir, &lookup)?;
        let local = LocalStack::from_stack(&stack).map_err(Error::bad_input)?;
        if stacks.iter().any(|s: &LocalStack| s.name == local.name) {
            return Err(Error::bad_input(format!(
                "stack {} is given twice",
                local.name
            )));
        }
        stacks.push(local);
    }
    Ok(stacks)
}

fn parse_env(items: &[String]) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(Error::bad_input(format!(
                "--env {item:?}: expected KEY=VALUE, e.g. --env OPENSEARCH_TIMEOUT=5"
            ))),
        })
        .collect()
}

fn find_server_bin(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        return Err(Error::bad_input(format!(
            "--server-bin {} does not exist",
            p.display()
        )));
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(SERVER_BIN)))
        .filter(|p| p.is_file());
    beside.or_else(|| find_on_path(SERVER_BIN)).ok_or_else(|| {
        Error::failed(format!(
            "{SERVER_BIN} not found beside mcpctl or on PATH: build it (cargo build -p {SERVER_BIN}) or pass --server-bin PATH"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_items_are_key_value() {
        assert!(parse_env(&["NOEQUALS".into()]).is_err());
        assert_eq!(
            parse_env(&["K=v=w".into()]).unwrap(),
            [("K".to_string(), "v=w".to_string())]
        );
    }

    #[test]
    fn repository_stacks_load_for_local_without_aws_settings() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stacks");
        let lookup = |k: &str| (k == "AWS_ACCOUNT_ID").then(|| "000000000000".to_string());
        for name in ["stateless", "stateful"] {
            let stack = crate::stack::load_with_env(name, &dir, &lookup).unwrap();
            let local = LocalStack::from_stack(&stack).unwrap();
            assert!(local.mcp_path().unwrap().ends_with("/ossmcp"));
            assert!(local.health.path.ends_with("/health"));
            assert!(!local.path_patterns.is_empty());
        }
    }
}
