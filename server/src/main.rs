//! `opensearch-mcp-server`: a stateless OpenSearch MCP server (streamable HTTP) for ECS Fargate
//! behind an ALB. Configuration comes from the environment (see `config.rs` and the README);
//! `--check-health` probes a running server's health endpoint for the container health check.

mod config;
mod credentials;
mod health;
mod http;
mod opensearch;
mod served_by;
mod tools;

use std::future::IntoFuture;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

const USAGE: &str = "\
opensearch-mcp-server: stateless OpenSearch MCP server (streamable HTTP)

USAGE:
    opensearch-mcp-server                 serve (configuration from environment variables)
    opensearch-mcp-server --check-health  probe the local health endpoint; exit 0 if healthy
    opensearch-mcp-server --version

ENVIRONMENT (see the README for every variable):
    MCP_HOST, MCP_PORT, MCP_PATH, MCP_HEALTH_PATH, MCP_PATH_ALIASES, MCP_STATELESS,
    MCP_ALLOWED_HOSTS, MCP_ALLOWED_ORIGINS, MCP_MAX_BODY_BYTES, MCP_AUTH_TOKEN,
    MCP_SHUTDOWN_TIMEOUT, MCP_SERVED_BY, MCP_REPLICA_ID, OPENSEARCH_HOST, OPENSEARCH_PORT, OPENSEARCH_USERNAME,
    OPENSEARCH_PASSWORD, OPENSEARCH_USE_IAM, OPENSEARCH_SERVICE, OPENSEARCH_USE_SSL,
    OPENSEARCH_SSL_VERIFY, OPENSEARCH_TIMEOUT, OPENSEARCH_MAX_RETRIES,
    OPENSEARCH_DEFAULT_INDEX, OPENSEARCH_MAX_RESULTS, RUST_LOG";

fn main() -> ExitCode {
    let started = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check_health = match args.as_slice() {
        [] => false,
        [a] if a == "--check-health" => true,
        [a] if a == "--version" || a == "-V" => {
            println!("opensearch-mcp-server {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        [a] if a == "--help" || a == "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!(
                "opensearch-mcp-server: unknown argument(s) {other:?}; configuration comes from environment variables\n\n{USAGE}"
            );
            return ExitCode::from(2);
        }
    };
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("opensearch-mcp-server: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("opensearch-mcp-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if check_health {
        return runtime.block_on(check_health_once(&cfg));
    }
    init_logging();
    runtime.block_on(serve(cfg, started))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=error"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .init();
}

async fn serve(mut cfg: Config, started: Instant) -> ExitCode {
    cfg.served_by = served_by::resolve(cfg.served_by).await;
    let backend = match opensearch::Backend::connect(&cfg.opensearch).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("opensearch-mcp-server: cannot set up the OpenSearch client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = tools::AppState::new(backend, &cfg.opensearch);
    let rmcp_ct = CancellationToken::new();
    let (app, inflight) = http::app(&cfg, state.clone(), rmcp_ct.clone());

    let addr = SocketAddr::new(cfg.host, cfg.port);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("opensearch-mcp-server: cannot listen on {addr} (MCP_HOST/MCP_PORT): {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        message = "listening",
        addr = %addr,
        mode = cfg.mode(),
        mcp_path = %cfg.mcp_path,
        health_path = %cfg.health_path,
        aliases = ?cfg.path_aliases,
        opensearch = %state.backend.url(),
        opensearch_auth = cfg.opensearch.auth.kind(),
        bearer_token = cfg.auth_token.is_some(),
        tools = state.tool_names().len(),
        startup_ms = started.elapsed().as_millis() as u64,
    );

    let stop_accepting = CancellationToken::new();
    // Small JSON answers: send them at once rather than waiting on Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(stop_accepting.clone().cancelled_owned())
        .into_future();
    let mut server = tokio::spawn(server);

    tokio::select! {
        r = &mut server => {
            // The listener failed before any signal.
            let msg = match r {
                Ok(Ok(())) => "server stopped".to_string(),
                Ok(Err(e)) => format!("server failed: {e}"),
                Err(e) => format!("server task failed: {e}"),
            };
            tracing::error!(message = msg);
            return ExitCode::FAILURE;
        }
        sig = shutdown_signal() => {
            tracing::info!(message = "shutdown started", signal = sig, in_flight = inflight.count(),
                deadline_s = cfg.shutdown_timeout.as_secs_f64());
        }
    }
    // Stop accepting; let requests in progress finish (ECS waits stopTimeout before SIGKILL).
    stop_accepting.cancel();
    let deadline = tokio::time::Instant::now() + cfg.shutdown_timeout;
    while inflight.count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Then end rmcp's sessions and long-lived streams so their connections close.
    rmcp_ct.cancel();
    match tokio::time::timeout_at(deadline, &mut server).await {
        Ok(_) => {
            tracing::info!(message = "shutdown complete");
            ExitCode::SUCCESS
        }
        Err(_) => {
            tracing::warn!(
                message = "shutdown deadline passed; exiting with requests still in flight",
                in_flight = inflight.count()
            );
            ExitCode::SUCCESS
        }
    }
}

/// SIGTERM (ECS stopping the task) or SIGINT (Ctrl-C).
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return "SIGINT";
            }
        };
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// `--check-health`: GET the health endpoint on this host; 0 when it answers 200.
async fn check_health_once(cfg: &Config) -> ExitCode {
    let ip = match cfg.host {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
        ip => ip,
    };
    let url = format!(
        "http://{}{}",
        SocketAddr::new(ip, cfg.port),
        cfg.health_path
    );
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .no_proxy()
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("unhealthy: cannot build an HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    match client.get(&url).send().await {
        Ok(r) if r.status().is_success() => {
            println!("healthy: {url} answered {}", r.status());
            ExitCode::SUCCESS
        }
        Ok(r) => {
            eprintln!("unhealthy: {url} answered {}", r.status());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}
