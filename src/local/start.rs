//! Starting what `mcpctl local` runs, in order: the router's port, OpenSearch (the user's, or
//! osmem-server seeded with the sample index), N replicas per stack, then the health checks
//! and the router.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::opensearch;
use super::ports::free_port;
use super::router::{Router, Rule};
use super::run::{last_wins, Exit, Options, Process, Setup};
use super::supervisor::{log_tail, ChildSpec, Supervisor};
use super::targets::{OnHealthChange, Target, TargetGroup};
use crate::error::{Context, Error, Result};

/// Listen on the router's port (0: any free one); the listener and the port it got.
pub(super) async fn bind_router(port: u16) -> Result<(tokio::net::TcpListener, u16)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| {
            Error::failed_with(
                format!(
                    "the router cannot listen on 127.0.0.1:{port} (pass --port N, or --port 0 for any free port)"
                ),
                e,
            )
        })?;
    let router_port = listener
        .local_addr()
        .map_err(|e| Error::failed(e.to_string()))?
        .port();
    Ok((listener, router_port))
}

/// OpenSearch's URL: the user's, or that of an osmem-server started and seeded here (with its
/// stdin, which keeps it running while held).
pub(super) async fn opensearch(
    plan: &Setup,
    sup: &Supervisor,
    http: &reqwest::Client,
    exit_tx: &mpsc::UnboundedSender<Exit>,
) -> Result<(reqwest::Url, Option<tokio::process::ChildStdin>)> {
    let bin = match (&plan.opensearch_url, &plan.osmem_bin) {
        (Some(u), _) => return Ok((u.clone(), None)),
        (None, Some(bin)) => bin,
        // run() finds osmem when no --opensearch is given.
        (None, None) => {
            return Err(Error::failed(
                "no OpenSearch: pass --opensearch URL, or put osmem-server on PATH",
            ))
        }
    };
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
    let url = format!("http://127.0.0.1:{port}");
    if !opensearch::wait_until_up(http, &url, Duration::from_secs(30)).await {
        return Err(Error::failed(format!(
            "osmem-server did not answer on {url} within 30s; its log ({}):\n{}",
            log.display(),
            log_tail(&log, 20)
        )));
    }
    opensearch::seed(http, &url).await.map_err(Error::failed)?;
    let url = reqwest::Url::parse(&url).map_err(|e| Error::failed(e.to_string()))?;
    Ok((url, started.stdin))
}

/// Start `--replicas` replicas of every stack, each on a free port with the stack's env; one
/// target group per stack.
pub(super) fn replicas(
    opts: &Options,
    plan: &Setup,
    sup: &Supervisor,
    opensearch_url: &reqwest::Url,
    exit_tx: &mpsc::UnboundedSender<Exit>,
) -> Result<Vec<Arc<TargetGroup>>> {
    let mut groups = Vec::new();
    for (si, stack) in plan.stacks.iter().enumerate() {
        let mut targets = Vec::new();
        for ri in 0..opts.replicas {
            let port = free_port()?;
            let mut env = stack.env.clone();
            env.extend(opensearch::server_env(opensearch_url));
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
    Ok(groups)
}

/// Start the health checks of every group and the router on `listener` (in `background`);
/// sending on the returned channel stops the router.
pub(super) fn routing(
    opts: &Options,
    plan: &Setup,
    groups: &[Arc<TargetGroup>],
    listener: tokio::net::TcpListener,
    background: &mut JoinSet<()>,
) -> Result<tokio::sync::oneshot::Sender<()>> {
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
    for g in groups {
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
        .zip(groups)
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
    Ok(stop_tx)
}
