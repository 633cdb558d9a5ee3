//! `mcpctl verify`: probe an MCP endpoint (health, initialize, tools, each read-only tool), or
//! load-test it (`--requests`), or load-test several side by side (`--compare`).

use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::error::{Context, Error, Result};
use crate::output::{Failure, Outcome, Output};
use crate::probe::check::{probe, ProbeOptions};
use crate::probe::connection::{Connection, ConnectionArgs};
use crate::probe::driver::{check_protocol_version, McpHttp, DEFAULT_PROTOCOL_VERSION};
use crate::probe::endpoint::parse_url;
use crate::probe::load::{run_load, LoadReport, LoadSpec};
use crate::probe::report::{load_text, probe_text};

/// Tool calls per endpoint when `--compare` is given without `--requests`.
const DEFAULT_COMPARE_REQUESTS: u64 = 1000;

/// Arguments of `mcpctl verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The MCP endpoint, e.g. http://127.0.0.1:8080/ossserver-stateless/ossmcp.
    #[arg(value_name = "URL", required_unless_present_any = ["compare", "stacks"])]
    pub url: Option<String>,
    /// Verify a deployed stack: its URL through the ALB (DNS name, listener, the rule that
    /// routes its MCP_PATH) is read from AWS. Twice or more: compare them under the same load.
    #[arg(long = "stack", value_name = "NAME", conflicts_with_all = ["url", "compare"])]
    pub stacks: Vec<String>,
    /// Run the same load against each endpoint and print them side by side
    /// (e.g. the stateful and the stateless deployment).
    #[arg(long, num_args = 2.., value_name = "URL", conflicts_with = "url")]
    pub compare: Vec<String>,
    /// Load test: make this many tool calls (default for --compare: 1000).
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    /// Load test: clients running at once.
    #[arg(long, value_name = "C", default_value_t = 32)]
    pub concurrency: usize,
    /// Load test: open a new session (initialize) for every call instead of one per client.
    #[arg(long)]
    pub session_per_request: bool,
    /// Load test: the tool to call.
    #[arg(long, default_value = "list_indices")]
    pub tool: String,
    /// Load test: the tool's arguments, a JSON object.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub args: String,
    /// MCP protocol version to negotiate. 2025-06-18 (what most clients speak) makes stateful
    /// servers issue sessions, so their session bug shows.
    #[arg(long, default_value = DEFAULT_PROTOCOL_VERSION)]
    pub protocol_version: String,
    /// Limit for each request or step (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// `--token`, `--header` and `--bearer-token-env`.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Health URL to check (default: the MCP path's sibling `health`).
    #[arg(long, value_name = "URL")]
    pub health_url: Option<String>,
}

/// Run `mcpctl verify`.
pub async fn run(args: VerifyArgs, global: &GlobalArgs) -> Outcome {
    check_protocol_version(&args.protocol_version).map_err(Error::bad_input)?;
    if args.concurrency == 0 {
        return Err(Error::bad_input("--concurrency must be at least 1").into());
    }
    let conn = args.connection.resolve().map_err(Error::bad_input)?;
    if !args.stacks.is_empty() {
        return verify_stacks(&args, &conn, global).await;
    }
    if !args.compare.is_empty() {
        let urls = args
            .compare
            .iter()
            .map(|u| parse_url(u).map_err(Error::bad_input))
            .collect::<Result<Vec<_>>>()?;
        let requests = args.requests.unwrap_or(DEFAULT_COMPARE_REQUESTS);
        return load(&args, &conn, urls, requests, global).await;
    }
    let url = parse_url(args.url.as_deref().unwrap_or_default()).map_err(Error::bad_input)?;
    match args.requests {
        Some(requests) => load(&args, &conn, vec![url], requests, global).await,
        None => check(&args, &conn, url, None, global).await,
    }
}

/// `--stack`: find each stack's URL in AWS, then probe, load-test or compare.
async fn verify_stacks(args: &VerifyArgs, conn: &Connection, global: &GlobalArgs) -> Outcome {
    let mut endpoints = Vec::new();
    for name in &args.stacks {
        let (stack, clients) = super::session::open_one(name, global).await?;
        let found = crate::probe::alb::endpoint(&clients, &stack).await?;
        if !global.output.is_json() {
            eprintln!(
                "{}: {} (the ALB rule forwards to {})",
                found.stack,
                found.mcp_url,
                found.routed_to.join(", ")
            );
        }
        endpoints.push(found);
    }
    let urls = endpoints
        .iter()
        .map(|e| parse_url(&e.mcp_url).map_err(Error::failed))
        .collect::<Result<Vec<_>>>()?;
    if urls.len() > 1 {
        let requests = args.requests.unwrap_or(DEFAULT_COMPARE_REQUESTS);
        return load(args, conn, urls, requests, global).await;
    }
    let url = urls.into_iter().next().expect("one stack");
    match args.requests {
        Some(requests) => load(args, conn, vec![url], requests, global).await,
        None => {
            let health = parse_url(&endpoints[0].health_url).map_err(Error::failed)?;
            check(args, conn, url, Some(health), global).await
        }
    }
}

/// The functional probe.
async fn check(
    args: &VerifyArgs,
    conn: &Connection,
    url: reqwest::Url,
    stack_health: Option<reqwest::Url>,
    global: &GlobalArgs,
) -> Outcome {
    let health_url = match &args.health_url {
        Some(h) => Some(parse_url(h).map_err(Error::bad_input)?),
        None => stack_health,
    };
    let opts = ProbeOptions {
        url,
        health_url,
        protocol_version: args.protocol_version.clone(),
        timeout: args.timeout,
        bearer: conn.bearer.clone(),
        headers: conn.headers.clone(),
    };
    let report = probe(&opts).await;
    let out = if global.output.is_json() {
        Output::json(&report)?
    } else {
        crate::out!("{}", probe_text(&report))?;
        Output::Nothing
    };
    if report.passed {
        Ok(out)
    } else {
        let failed: Vec<&str> = report
            .steps
            .iter()
            .filter(|s| s.status == crate::probe::check::StepStatus::Fail)
            .map(|s| s.name.as_str())
            .collect();
        let error = Error::failed(format!(
            "verify {} failed: {}",
            report.url,
            failed.join(", ")
        ));
        Err(Failure::new(error, out.into_document()))
    }
}

/// The load test, against one endpoint or several in turn.
async fn load(
    args: &VerifyArgs,
    conn: &Connection,
    urls: Vec<reqwest::Url>,
    requests: u64,
    global: &GlobalArgs,
) -> Outcome {
    if requests == 0 {
        return Err(Error::bad_input("--requests must be at least 1").into());
    }
    let arguments: Value = serde_json::from_str(&args.args).map_err(|e| {
        Error::bad_input(format!(
            "--args is not JSON ({e}); give an object, e.g. --args '{{\"index\":\"movies\"}}'"
        ))
    })?;
    if !arguments.is_object() {
        return Err(Error::bad_input("--args must be a JSON object, e.g. '{}'").into());
    }
    let spec = LoadSpec {
        requests,
        concurrency: args.concurrency,
        session_per_request: args.session_per_request,
        tool: args.tool.clone(),
        arguments,
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()
        .context_failed(|| "could not build the HTTP client".to_string())?;
    let mut reports: Vec<LoadReport> = Vec::new();
    for url in urls {
        let client = McpHttp::new(
            http.clone(),
            url.clone(),
            &args.protocol_version,
            args.timeout,
            conn.bearer.clone(),
        )
        .with_headers(conn.headers.clone());
        let progress = progress_bar(requests, url.as_str(), global);
        reports.push(run_load(client, &spec, &args.protocol_version, progress).await);
    }
    let out = match (global.output.is_json(), reports.len()) {
        (true, 1) => Output::json(&reports[0])?,
        (true, _) => Output::json(&serde_json::json!({ "runs": reports }))?,
        (false, _) => {
            crate::out!("{}", load_text(&reports))?;
            Output::Nothing
        }
    };
    let failing: Vec<String> = reports
        .iter()
        .filter(|r| r.failed > 0)
        .map(|r| format!("{} of {} calls failed at {}", r.failed, r.requests, r.url))
        .collect();
    if failing.is_empty() {
        Ok(out)
    } else {
        Err(Failure::new(
            Error::failed(failing.join("; ")),
            out.into_document(),
        ))
    }
}

/// A progress bar on stderr for people (hidden for JSON output or when stderr is not a terminal).
fn progress_bar(len: u64, url: &str, global: &GlobalArgs) -> ProgressBar {
    if global.output.is_json() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} calls ({per_sec})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(url.to_string());
    bar
}
