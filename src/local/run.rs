//! The orchestration behind `mcpctl local`: start osmem-server (unless an OpenSearch is
//! given) and N replicas per stack, health-check them, route like the ALB, write the typed
//! [`super::ready::Ready`] document, and stop everything on Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::opensearch;
use super::ready::{ready_document, ready_text, Running};
use super::router::{Router, Rule};
use super::supervisor::{log_tail, ChildSpec, Supervisor};
use super::targets::{OnHealthChange, Target, TargetGroup};
use super::LocalStack;
use crate::archive::write_atomically;
use crate::error::{Context, Error, Result};
use crate::signals::Signals;

/// How long children get to stop after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Everything decided before anything starts.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The stacks to run.
    pub stacks: Vec<LocalStack>,
    /// Extra env for every replica, overriding the stack's.
    pub extra_env: Vec<(String, String)>,
    /// The server binary.
    pub server_bin: PathBuf,
    /// The user's OpenSearch, if given.
    pub opensearch_url: Option<reqwest::Url>,
    /// osmem-server, started when no OpenSearch is given.
    pub osmem_bin: Option<PathBuf>,
    /// Where the children's logs go.
    pub logs: PathBuf,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The router's port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Replicas per stack.
    pub replicas: usize,
    /// Time between health checks.
    pub health_interval: Duration,
    /// Limit of one health check.
    pub health_timeout: Duration,
    /// How long replicas get to become healthy.
    pub startup_timeout: Duration,
    /// Where to write the [`Ready`] document.
    pub ready_file: Option<PathBuf>,
    /// Print the ready document as JSON (and no progress on stderr).
    pub json: bool,
}

/// A child process that can exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Process {
    /// The osmem-server `local` started.
    OpenSearch,
    /// Replica `replica` of stack `stack` (indexes).
    Replica { stack: usize, replica: usize },
}

/// A child's exit: which one, and how it ended.
type Exit = (Process, String);

/// Start everything `setup` names, announce readiness, serve until Ctrl-C/SIGTERM, then stop
/// every child (SIGTERM, then SIGKILL after a grace period) and remove the ready file.
pub async fn run(setup: &Setup, opts: &Options) -> Result<()> {
    // A ready file left by a killed run would tell a waiting script "ready" before this run is.
    if let Some(f) = &opts.ready_file {
        remove_stale_ready_file(f)?;
    }
    let supervisor = Supervisor::default();
    let result = serve(opts, setup, &supervisor).await;
    if !opts.json {
        eprintln!(
            "local: stopping every replica{}",
            if setup.osmem_bin.is_some() {
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
    if let Some(f) = &opts.ready_file {
        let _ = std::fs::remove_file(f);
    }
    result
}

/// Remove a ready file a previous (killed) run left behind; a missing one is fine.
fn remove_stale_ready_file(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(crate::error::Error::bad_input(format!(
            "--ready-file {} exists from an earlier run and cannot be removed: {e}; remove it or pick another path",
            path.display()
        ))),
    }
}

/// Start everything, announce readiness, wait for Ctrl-C/SIGTERM.
async fn serve(opts: &Options, plan: &Setup, sup: &Supervisor) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context_failed(|| "HTTP client".to_string())?;
    let (exit_tx, mut exit_rx) = mpsc::unbounded_channel::<Exit>();
    let mut signals = Signals::new()?;

    // The router's port first: nothing starts if it is taken.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
        .await
        .map_err(|e| {
            Error::failed_with(
                format!(
                    "the router cannot listen on 127.0.0.1:{} (pass --port N, or --port 0 for any free port)",
                    opts.port
                ),
                e,
            )
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
                        let _ = tx.send((Process::OpenSearch, how));
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
        for ri in 0..opts.replicas {
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
                        let _ = tx.send((
                            Process::Replica {
                                stack: si,
                                replica: ri,
                            },
                            how,
                        ));
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
    let quiet = opts.json;
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
        .context_failed(|| "HTTP client".to_string())?;
    let mut background = tokio::task::JoinSet::new();
    for g in &groups {
        background.spawn(g.clone().run_health_checks(
            check_http.clone(),
            opts.health_interval,
            opts.health_timeout,
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
    let deadline = Instant::now() + opts.startup_timeout;
    while !groups.iter().all(|g| g.all_healthy()) {
        tokio::select! {
            exit = exit_rx.recv() => {
                let (process, how) = exit.unwrap_or((Process::OpenSearch, "unknown".into()));
                return Err(Error::failed(startup_death(plan, process, &how)));
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
                opts.startup_timeout,
                status.join("\n  "),
                plan.logs.display()
            )));
        }
    }

    let ready = ready_document(&Running {
        stacks: &plan.stacks,
        groups: &groups,
        router_port,
        opensearch_url: &opensearch_url,
        opensearch_started: plan.osmem_bin.is_some(),
        logs: &plan.logs,
    });
    if let Some(path) = &opts.ready_file {
        write_atomically(
            path,
            &serde_json::to_string_pretty(&ready).unwrap_or_default(),
        )?;
    }
    if opts.json {
        crate::output::mark_streamed();
        crate::output::print_json_now(&ready)?;
    } else {
        crate::out!("{}", ready_text(&ready))?;
    }

    // Run until Ctrl-C / SIGTERM; report replicas that exit meanwhile.
    loop {
        tokio::select! {
            _ = signals.next() => break,
            Some((process, how)) = exit_rx.recv() => {
                match process {
                    Process::Replica { stack: si, replica: ri } => {
                        let t = &groups[si].targets[ri];
                        t.mark_stopped(format!("process {how}"));
                        if !quiet {
                            eprintln!("local: {} replica {} (127.0.0.1:{}) {how}; it gets no more traffic", groups[si].name, ri + 1, t.port);
                        }
                    }
                    Process::OpenSearch => eprintln!("local: osmem-server {how}; tools will fail until OpenSearch is back"),
                }
            }
        }
    }
    let _ = stop_tx.send(());
    background.abort_all();
    Ok(())
}

fn startup_death(plan: &Setup, process: Process, how: &str) -> String {
    let (name, log) = match process {
        Process::Replica {
            stack: si,
            replica: ri,
        } => {
            let name = format!("{}-{}", plan.stacks[si].name, ri + 1);
            let log = plan.logs.join(format!("{name}.log"));
            (name, log)
        }
        Process::OpenSearch => (
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

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .context_failed(|| "no free port on 127.0.0.1".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_ready_file_is_removed_and_a_missing_one_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ready.json");
        std::fs::write(&f, "{\"router\": \"from a killed run\"}").unwrap();
        remove_stale_ready_file(&f).unwrap();
        assert!(!f.exists());
        remove_stale_ready_file(&f).unwrap();
    }

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
    }
}
