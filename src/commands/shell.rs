//! `mcpctl shell [URL | --stack NAME]`: the interactive MCP prompt (see `src/shell/`). On a
//! terminal it edits lines, keeps history and completes commands and tool names; with stdin
//! not a terminal it runs one command per line and exits non-zero if any failed.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::probe::connection::ConnectionArgs;
use crate::probe::driver::{check_protocol_version, McpHttp, DEFAULT_PROTOCOL_VERSION};
use crate::probe::endpoint::{health_url, parse_url};
use crate::shell::commands::{Endpoint, Shell};

/// Arguments of `mcpctl shell`.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// The MCP endpoint, e.g. http://127.0.0.1:8080/ossserver-stateless/ossmcp.
    #[arg(value_name = "URL", required_unless_present = "stack")]
    pub url: Option<String>,
    /// A deployed stack: its URL through the ALB is read from AWS.
    #[arg(long, value_name = "NAME", conflicts_with = "url")]
    pub stack: Option<String>,
    /// MCP protocol version to negotiate.
    #[arg(long, default_value = DEFAULT_PROTOCOL_VERSION)]
    pub protocol_version: String,
    /// Limit for each request (e.g. 10s).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// `--token`, `--header` and `--bearer-token-env`.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Health URL (default: the MCP path's sibling `health`).
    #[arg(long, value_name = "URL")]
    pub health_url: Option<String>,
}

/// Run `mcpctl shell`.
pub async fn run(args: ShellArgs, global: &GlobalArgs) -> Result<()> {
    check_protocol_version(&args.protocol_version).map_err(Error::bad_input)?;
    let conn = args.connection.resolve().map_err(Error::bad_input)?;
    let (url, stack_health) = match &args.stack {
        Some(name) => {
            let (stack, clients) = super::session::open_one(name, global).await?;
            let found = crate::probe::alb::endpoint(&clients, &stack).await?;
            let url = parse_url(&found.mcp_url).map_err(Error::failed)?;
            let health = parse_url(&found.health_url).map_err(Error::failed)?;
            (url, Some(health))
        }
        None => (
            parse_url(args.url.as_deref().unwrap_or_default()).map_err(Error::bad_input)?,
            None,
        ),
    };
    let health = match &args.health_url {
        Some(h) => parse_url(h).map_err(Error::bad_input)?,
        None => stack_health.unwrap_or_else(|| health_url(&url)),
    };
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| Error::failed_with("could not build the HTTP client", e))?;
    let client = McpHttp::new(
        http,
        url.clone(),
        &args.protocol_version,
        args.timeout,
        conn.bearer.clone(),
    )
    .with_headers(conn.headers.clone());
    let tool_names = Arc::new(Mutex::new(Vec::new()));
    let endpoint = Endpoint {
        client,
        health_url: health,
        headers: conn.headers,
        timeout: args.timeout,
    };
    let shell = Shell::new(endpoint, tool_names.clone()).map_err(Error::failed)?;
    let summary = if std::io::stdin().is_terminal() {
        let banner = format!("mcpctl shell: {url}");
        crate::shell::run_interactive(shell, tool_names, &banner).await
    } else {
        crate::shell::run_script(shell).await
    }
    .map_err(Error::failed)?;
    if summary.failed > 0 {
        return Err(Error::failed(format!(
            "{} of {} shell commands failed",
            summary.failed, summary.commands
        )));
    }
    Ok(())
}
