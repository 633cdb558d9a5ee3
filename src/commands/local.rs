//! `mcpctl local`: run stacks on this machine — N replicas each behind one round-robin router
//! that routes like the ALB — until Ctrl-C or SIGTERM, then stop every child.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::local::opensearch::{self, find_on_path, find_osmem, INSTALL_HINT};
use crate::local::router::{Router, Rule, STATUS_PATH};
use crate::local::supervisor::{log_tail, logs_dir, ChildSpec, Supervisor};
use crate::local::targets::{OnHealthChange, Target, TargetGroup};
use crate::local::LocalStack;

/// The server binary's name, looked up beside mcpctl, then on PATH.
const SERVER_BIN: &str = "opensearch-mcp-server";
/// How long children get to stop after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

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

/// A replica's exit: (stack index, replica index or None for osmem, how it ended).
type Exit = (usize, Option<usize>, String);

/// Run `mcpctl local`.
pub async fn run(args: LocalArgs, global: &GlobalArgs) -> Result<()> {
    let stacks = load_stacks(&args, global)?;
    if args.replicas == 0 || args.replicas > 64 {
        return Err(Error::bad_input("--replicas must be between 1 and 64"));
    }
    if args.health_interval < Duration::from_millis(50) {
        return Err(Error::bad_input("--health-interval must be at least 50ms"));
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
                .map_err(|e| Error::failed(format!("cannot create {}: {e}", d.display())))?;
            d.clone()
        }
        None => logs_dir().map_err(Error::failed)?,
    };

    let supervisor = Supervisor::default();
    let plan = Plan {
        stacks,
        extra_env,
        server_bin,
        opensearch_url,
        osmem_bin,
        logs,
    };
    let result = serve(&args, global, &plan, &supervisor).await;
    if !global.output.is_json() {
        eprintln!(
            "local: stopping every replica{}",
            if plan.osmem_bin.is_some() {
                " and osmem-server"
            } else {
                ""
            }
        );
    }
    let killed = supervisor.stop_all(STOP_GRACE).await;
    if !killed.is_empty() {
        eprintln!("local: had to SIGKILL {}", killed.join(", "));
    }
    if let Some(f) = &args.ready_file {
        let _ = std::fs::remove_file(f);
    }
    result
}

/// Everything decided before anything starts.
struct Plan {
    stacks: Vec<LocalStack>,
    extra_env: Vec<(String, String)>,
    server_bin: PathBuf,
    opensearch_url: Option<reqwest::Url>,
    osmem_bin: Option<PathBuf>,
    logs: PathBuf,
}

/// Start everything, announce readiness, wait for Ctrl-C/SIGTERM.
async fn serve(args: &LocalArgs, global: &GlobalArgs, plan: &Plan, sup: &Supervisor) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::failed(format!("HTTP client: {e}")))?;
    let (exit_tx, mut exit_rx) = mpsc::unbounded_channel::<Exit>();
    let mut signals = Signals::new()?;

    // The router's port first: nothing starts if it is taken.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| {
            Error::failed(format!(
                "the router cannot listen on 127.0.0.1:{}: {e}; pass --port N (or --port 0 for any free port)",
                args.port
            ))
        })?;
    let router_port = listener
        .local_addr()
        .map_err(|e| Error::failed(e.to_string()))?
        .port();

    // OpenSearch: the user's, or osmem-server seeded with the sample index.
    let mut _osmem_stdin = None;
    let opensearch_url = match (&plan.opensearch_url, &plan.osmem_bin) {
        (Some(u), _) => u.clone(),
        (None, Some(bin)) => {
            let port = free_port()?;
            let log = plan.logs.join("osmem-server.log");
            let tx = exit_tx.clone();
            let spec = ChildSpec {
                name: "osmem-server".into(),
                program: bin.clone(),
                args: vec!["-addr".into(), format!("127.0.0.1:{port}")],
                env: Vec::new(),
                log: log.clone(),
                keep_stdin: true,
            };
            let started = sup
                .spawn(
                    &spec,
                    Box::new(move |how| {
                        let _ = tx.send((usize::MAX, None, how));
                    }),
                )
                .map_err(Error::failed)?;
            _osmem_stdin = started.stdin;
            let url = format!("http://127.0.0.1:{port}");
            if !opensearch::wait_until_up(&http, &url, Duration::from_secs(30)).await {
                return Err(Error::failed(format!(
                    "osmem-server did not answer on {url} within 30s; its log ({}):\n{}",
                    log.display(),
                    log_tail(&log, 20)
                )));
            }
            opensearch::seed(&http, &url).await.map_err(Error::failed)?;
            reqwest::Url::parse(&url).map_err(|e| Error::failed(e.to_string()))?
        }
        (None, None) => unreachable!("run() finds osmem when no --opensearch is given"),
    };

    // Replicas, one target group per stack.
    let mut groups = Vec::new();
    for (si, stack) in plan.stacks.iter().enumerate() {
        let mut targets = Vec::new();
        for ri in 0..args.replicas {
            let port = free_port()?;
            let mut env = stack.env.clone();
            env.extend(opensearch::server_env(&opensearch_url));
            env.push(("MCP_HOST".into(), "127.0.0.1".into()));
            env.push(("MCP_PORT".into(), port.to_string()));
            let name = format!("{}-{}", stack.name, ri + 1);
            // Replicas share one host name: X-Served-By tells them apart by this id.
            env.push(("MCP_REPLICA_ID".into(), name.clone()));
            env.extend(plan.extra_env.iter().cloned());
            let env = last_wins(env);
            let log = plan.logs.join(format!("{name}.log"));
            let tx = exit_tx.clone();
            let spec = ChildSpec {
                name,
                program: plan.server_bin.clone(),
                args: Vec::new(),
                env,
                log,
                keep_stdin: false,
            };
            let started = sup
                .spawn(
                    &spec,
                    Box::new(move |how| {
                        let _ = tx.send((si, Some(ri), how));
                    }),
                )
                .map_err(Error::failed)?;
            targets.push(Arc::new(Target::new(port, started.pid)));
        }
        groups.push(Arc::new(TargetGroup::new(
            &stack.name,
            stack.health.clone(),
            targets,
        )));
    }

    // Health checks and the router.
    let quiet = global.output.is_json();
    let on_change: OnHealthChange = Arc::new(move |stack, i, t, h| {
        if !quiet {
            eprintln!(
                "local: {stack} replica {} (127.0.0.1:{}) is now {}: {}",
                i + 1,
                t.port,
                serde_json::to_value(h)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                t.status().reason
            );
        }
    });
    let check_http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| Error::failed(format!("HTTP client: {e}")))?;
    let mut background = tokio::task::JoinSet::new();
    for g in &groups {
        background.spawn(g.clone().run_health_checks(
            check_http.clone(),
            args.health_interval,
            args.health_timeout,
            on_change.clone(),
        ));
    }
    let rules = plan
        .stacks
        .iter()
        .zip(&groups)
        .enumerate()
        .map(|(i, (s, g))| Rule {
            priority: s.priority.unwrap_or(50_000 + i as i32),
            path_patterns: s.path_patterns.clone(),
            group: g.clone(),
        })
        .collect();
    let router = Router::new(rules);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app = router.clone().app();
    background.spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });

    // Wait until every replica is healthy (bounded), or one of them dies.
    let deadline = Instant::now() + args.startup_timeout;
    while !groups.iter().all(|g| g.all_healthy()) {
        tokio::select! {
            exit = exit_rx.recv() => {
                let (si, ri, how) = exit.unwrap_or((usize::MAX, None, "unknown".into()));
                return Err(Error::failed(startup_death(plan, si, ri, &how)));
            }
            _ = signals.next() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
        if Instant::now() > deadline {
            let status: Vec<String> = groups
                .iter()
                .flat_map(|g| {
                    g.status().into_iter().map(move |t| {
                        format!(
                            "{} 127.0.0.1:{} {:?}: {}",
                            g.name, t.port, t.health, t.reason
                        )
                    })
                })
                .collect();
            return Err(Error::failed(format!(
                "replicas not healthy within {:?}:\n  {}\nlogs in {}",
                args.startup_timeout,
                status.join("\n  "),
                plan.logs.display()
            )));
        }
    }

    let ready = ready_document(plan, &groups, router_port, &opensearch_url);
    if let Some(path) = &args.ready_file {
        write_atomically(
            path,
            &serde_json::to_string_pretty(&ready).unwrap_or_default(),
        )?;
    }
    if global.output.is_json() {
        crate::output::print_json(&ready)?;
    } else {
        print!("{}", ready_text(&ready));
    }

    // Run until Ctrl-C / SIGTERM; report replicas that exit meanwhile.
    loop {
        tokio::select! {
            _ = signals.next() => break,
            Some((si, ri, how)) = exit_rx.recv() => {
                match ri {
                    Some(ri) => {
                        let t = &groups[si].targets[ri];
                        t.mark_stopped(format!("process {how}"));
                        if !quiet {
                            eprintln!("local: {} replica {} (127.0.0.1:{}) {how}; it gets no more traffic", groups[si].name, ri + 1, t.port);
                        }
                    }
                    None => eprintln!("local: osmem-server {how}; tools will fail until OpenSearch is back"),
                }
            }
        }
    }
    let _ = stop_tx.send(());
    background.abort_all();
    Ok(())
}

/// Ctrl-C and SIGTERM.
struct Signals {
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| Error::failed(format!("cannot listen for SIGTERM: {e}")))?;
        Ok(Signals { term })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.term.recv() => {}
        }
    }
}

fn startup_death(plan: &Plan, si: usize, ri: Option<usize>, how: &str) -> String {
    let (name, log) = match ri {
        Some(ri) => {
            let name = format!("{}-{}", plan.stacks[si].name, ri + 1);
            let log = plan.logs.join(format!("{name}.log"));
            (name, log)
        }
        None => (
            "osmem-server".to_string(),
            plan.logs.join("osmem-server.log"),
        ),
    };
    format!(
        "{name} {how} while starting; its log ({}):\n{}",
        log.display(),
        log_tail(&log, 20)
    )
}

/// What scripts need: the router, each stack's URLs and replicas, OpenSearch, the logs.
fn ready_document(
    plan: &Plan,
    groups: &[Arc<TargetGroup>],
    router_port: u16,
    opensearch_url: &reqwest::Url,
) -> Value {
    let base = format!("http://127.0.0.1:{router_port}");
    let stacks: Vec<Value> = plan
        .stacks
        .iter()
        .zip(groups)
        .map(|(s, g)| {
            json!({
                "name": s.name,
                "mcp_url": s.mcp_path().map(|p| format!("{base}{p}")),
                "health_url": format!("{base}{}", s.health.path),
                "path_patterns": s.path_patterns,
                "replicas": g.status(),
            })
        })
        .collect();
    json!({
        "router": base,
        "status_url": format!("{base}{STATUS_PATH}"),
        "stacks": stacks,
        "opensearch": opensearch_url.as_str().trim_end_matches('/'),
        "opensearch_started": plan.osmem_bin.is_some(),
        "logs_dir": plan.logs,
        "pid": std::process::id(),
    })
}

fn ready_text(ready: &Value) -> String {
    let mut out = String::new();
    for s in ready["stacks"].as_array().into_iter().flatten() {
        let ports: Vec<String> = s["replicas"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["port"].to_string())
            .collect();
        out.push_str(&format!(
            "{}: {}\n  health {}  ({} replicas on 127.0.0.1 ports {})\n",
            s["name"].as_str().unwrap_or("?"),
            s["mcp_url"]
                .as_str()
                .unwrap_or("(no MCP_PATH in the stack env)"),
            s["health_url"].as_str().unwrap_or("?"),
            ports.len(),
            ports.join(", ")
        ));
    }
    let os = ready["opensearch"].as_str().unwrap_or("?");
    if ready["opensearch_started"] == true {
        out.push_str(&format!(
            "opensearch: {os} (osmem-server, sample index `movies`)\n"
        ));
    } else {
        out.push_str(&format!("opensearch: {os}\n"));
    }
    out.push_str(&format!(
        "replica status: {}\nlogs: {}\nready (Ctrl-C to stop)\n",
        ready["status_url"].as_str().unwrap_or("?"),
        ready["logs_dir"].as_str().unwrap_or("?")
    ));
    out
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

/// Keep the last value of each key, in first-seen order.
fn last_wins(env: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in env {
        match out.iter_mut().find(|(k2, _)| *k2 == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
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

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::failed(format!("no free port on 127.0.0.1: {e}")))
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| Error::failed(format!("cannot write --ready-file {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_keep_order_and_last_value() {
        let env = last_wins(vec![
            ("A".into(), "1".into()),
            ("B".into(), "2".into()),
            ("A".into(), "3".into()),
        ]);
        assert_eq!(
            env,
            [("A".to_string(), "3".to_string()), ("B".into(), "2".into())]
        );
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
