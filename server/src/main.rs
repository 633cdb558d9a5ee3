//! `opensearch-mcp-server`: a stateless OpenSearch MCP server (streamable HTTP) for ECS Fargate
//! behind an ALB. Configuration comes from the environment (see `config.rs` and the README);
//! `--check-health` probes a running server's health endpoint for the container health check.

mod auth;
mod config;
mod credentials;
mod health;
mod http;
mod opensearch;
mod served_by;
mod tools;

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, ConfigError};

/// mimalloc instead of glibc's malloc: a profile of `list_indices` calls under load spent 15-20%
/// of the server's CPU in glibc's malloc/free (`_int_malloc`, `_int_free`, `malloc_consolidate`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
opensearch-mcp-server: stateless OpenSearch MCP server (streamable HTTP)

USAGE:
    opensearch-mcp-server                 serve (configuration from environment variables)
    opensearch-mcp-server --check-health  probe the local health endpoint; exit 0 if healthy
    opensearch-mcp-server --version

ENVIRONMENT (see the README for every variable):
    MCP_HOST, MCP_PORT, MCP_PATH, MCP_HEALTH_PATH, MCP_PATH_ALIASES, MCP_STATELESS,
    MCP_ALLOWED_HOSTS, MCP_ALLOWED_ORIGINS, MCP_MAX_BODY_BYTES, MCP_AUTH_TOKEN,
    MCP_OAUTH_ISSUER, MCP_OAUTH_JWKS_URL, MCP_OAUTH_JWKS_REFRESH_SECONDS, MCP_OAUTH_AUDIENCE, MCP_OAUTH_CLIENT_IDS,
    MCP_OAUTH_REQUIRED_SCOPES, MCP_RESOURCE_URL,
    MCP_SHUTDOWN_TIMEOUT, MCP_SERVED_BY, MCP_REPLICA_ID, MCP_MAX_SESSIONS, MCP_SESSION_IDLE_SECONDS, MCP_MAX_CONNECTIONS,
    MCP_MAX_INFLIGHT_CALLS, MCP_KEEPALIVE_TIMEOUT, OPENSEARCH_HOST, OPENSEARCH_PORT, OPENSEARCH_USERNAME,
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
    let (cfg, filter) = match Config::from_env().and_then(|c| Ok((c, log_filter()?))) {
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
    init_logging(filter);
    runtime.block_on(serve(cfg, started))
}

/// The log filter from `RUST_LOG` (default `info,rmcp=error`); a value that does not parse is a
/// configuration error rather than silently ignored.
fn log_filter() -> Result<EnvFilter, ConfigError> {
    const DEFAULT: &str = "info,rmcp=error";
    let bad = |message: String| ConfigError {
        variable: "RUST_LOG",
        message,
    };
    match std::env::var("RUST_LOG") {
        Err(std::env::VarError::NotPresent) => Ok(EnvFilter::new(DEFAULT)),
        Err(std::env::VarError::NotUnicode(_)) => Err(bad("is not valid UTF-8".into())),
        Ok(v) if v.trim().is_empty() => Ok(EnvFilter::new(DEFAULT)),
        Ok(v) => EnvFilter::builder().parse(v.trim()).map_err(|e| {
            bad(format!(
                "'{v}' is not a log filter ({e}); use a level such as info, or directives such as info,rmcp=error"
            ))
        }),
    }
}

fn init_logging(filter: EnvFilter) {
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
    let app = http::app(&cfg, state.clone(), rmcp_ct.clone());
    let inflight = app.inflight.clone();

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
        auth = cfg.auth.kind(),
        tools = state.tool_names().len(),
        max_connections = cfg.limits.max_connections,
        max_sessions = cfg.limits.max_sessions,
        startup_ms = started.elapsed().as_millis() as u64,
    );

    let stop_accepting = CancellationToken::new();
    let mut served = http::serve::start(listener, app.apps, &cfg.limits, stop_accepting.clone());

    tokio::select! {
        r = &mut served.task => {
            // The accept loop ended before any signal.
            let msg = match r {
                Ok(()) => "server stopped".to_string(),
                Err(e) => format!("server task failed: {e}"),
            };
            tracing::error!(message = msg);
            return ExitCode::FAILURE;
        }
        sig = shutdown_signal() => {
            tracing::info!(message = "shutdown started", signal = sig, in_flight = inflight.count(),
                connections = served.open(), deadline_s = cfg.shutdown_timeout.as_secs_f64());
        }
    }
    // Stop accepting; connections close once their requests are answered, responses streamed to
    // the end (ECS waits stopTimeout before SIGKILL).
    stop_accepting.cancel();
    let deadline = tokio::time::Instant::now() + cfg.shutdown_timeout;
    while inflight.count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Then end rmcp's sessions and long-lived streams so their connections close.
    rmcp_ct.cancel();
    match tokio::time::timeout_at(deadline, served.closed()).await {
        Ok(()) => {
            tracing::info!(message = "shutdown complete");
            ExitCode::SUCCESS
        }
        Err(_) => {
            tracing::warn!(
                message = "shutdown deadline passed; exiting with requests still in flight",
                in_flight = inflight.count(),
                connections = served.open()
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
