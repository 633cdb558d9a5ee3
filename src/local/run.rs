//! The orchestration behind `mcpctl local`: start osmem-server (unless an OpenSearch is
//! given) and N replicas per stack, health-check them, route like the ALB, write the typed
//! [`super::ready::Ready`] document, and stop everything on Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::ready::{ready_document, ready_text, Running};
use super::start;
use super::supervisor::{log_tail, Supervisor};
use super::targets::TargetGroup;
use super::LocalStack;
use crate::archive::write_atomically;
use crate::error::{Context, Error, Result};
use crate::output::Output;
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
pub(super) enum Process {
    /// The osmem-server `local` started.
    OpenSearch,
    /// Replica `replica` of stack `stack` (indexes).
    Replica { stack: usize, replica: usize },
}

/// A child's exit: which one, and how it ended.
pub(super) type Exit = (Process, String);

/// Start everything `setup` names, announce readiness, serve until Ctrl-C/SIGTERM, then stop
/// every child (SIGTERM, then SIGKILL after a grace period) and remove the ready file. The
/// ready document (JSON with `--output json`, else text) is printed at once, so the output
/// is [`Output::Streamed`] from then on.
pub async fn run(setup: &Setup, opts: &Options) -> Result<Output> {
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
async fn serve(opts: &Options, plan: &Setup, sup: &Supervisor) -> Result<Output> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context_failed(|| "HTTP client".to_string())?;
    let (exit_tx, mut exit_rx) = mpsc::unbounded_channel::<Exit>();
    let mut signals = Signals::new()?;
    // The router's port first: nothing starts if it is taken.
    let (listener, router_port) = start::bind_router(opts.port).await?;
    // Kept open for as long as osmem-server should run.
    let (opensearch_url, _osmem_stdin) = start::opensearch(plan, sup, &http, &exit_tx).await?;
    let groups = start::replicas(opts, plan, sup, &opensearch_url, &exit_tx)?;
    let mut background = tokio::task::JoinSet::new();
    let stop_tx = start::routing(opts, plan, &groups, listener, &mut background)?;
    if !wait_healthy(opts, plan, &groups, &mut exit_rx, &mut signals).await? {
        return Ok(Output::Nothing);
    }
    let out = announce_ready(opts, plan, &groups, router_port, &opensearch_url)?;
    run_until_stopped(&groups, opts.json, &mut exit_rx, &mut signals).await;
    let _ = stop_tx.send(());
    background.abort_all();
    Ok(out)
}

/// Wait until every replica is healthy (bounded by `--startup-timeout`), or one of them dies.
/// `Ok(false)` when Ctrl-C / SIGTERM came first.
async fn wait_healthy(
    opts: &Options,
    plan: &Setup,
    groups: &[Arc<TargetGroup>],
    exit_rx: &mut mpsc::UnboundedReceiver<Exit>,
    signals: &mut Signals,
) -> Result<bool> {
    let deadline = Instant::now() + opts.startup_timeout;
    while !groups.iter().all(|g| g.all_healthy()) {
        tokio::select! {
            exit = exit_rx.recv() => {
                let (process, how) = exit.unwrap_or((Process::OpenSearch, "unknown".into()));
                return Err(Error::failed(startup_death(plan, process, &how)));
            }
            _ = signals.next() => return Ok(false),
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
    Ok(true)
}

/// Write the ready document (`--ready-file`, and stdout as JSON or text).
fn announce_ready(
    opts: &Options,
    plan: &Setup,
    groups: &[Arc<TargetGroup>],
    router_port: u16,
    opensearch_url: &reqwest::Url,
) -> Result<Output> {
    let ready = ready_document(&Running {
        stacks: &plan.stacks,
        groups,
        router_port,
        opensearch_url,
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
        crate::output::print_json_now(&ready)?;
    } else {
        crate::out!("{}", ready_text(&ready))?;
    }
    Ok(Output::Streamed)
}

/// Run until Ctrl-C / SIGTERM; report replicas that exit meanwhile (`quiet`: `--output json`).
async fn run_until_stopped(
    groups: &[Arc<TargetGroup>],
    quiet: bool,
    exit_rx: &mut mpsc::UnboundedReceiver<Exit>,
    signals: &mut Signals,
) {
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
pub(super) fn last_wins(env: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in env {
        match out.iter_mut().find(|(k2, _)| *k2 == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
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
