//! `mcpctl call URL TOOL '{json}'`: one MCP tool call through the rmcp client; prints the result.

use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::error::Error;
use crate::output::{Failure, Outcome, Output};
use crate::probe::check::{call, connect, result_text, ProbeOptions};
use crate::probe::connection::ConnectionArgs;
use crate::probe::driver::DEFAULT_PROTOCOL_VERSION;
use crate::probe::endpoint::parse_url;

/// Arguments of `mcpctl call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The MCP endpoint, e.g. http://127.0.0.1:8080/ossserver-stateless/ossmcp.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The tool to call, e.g. list_indices.
    #[arg(value_name = "TOOL")]
    pub tool: String,
    /// The tool's arguments, a JSON object, e.g. '{"index":"movies"}'.
    #[arg(value_name = "JSON", default_value = "{}")]
    pub args: String,
    /// MCP protocol version to negotiate.
    #[arg(long, default_value = DEFAULT_PROTOCOL_VERSION)]
    pub protocol_version: String,
    /// Limit for connecting and for the call (e.g. 10s).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// `--token`, `--header` and `--bearer-token-env`.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Run `mcpctl call`.
pub async fn run(args: CallArgs, global: &GlobalArgs) -> Outcome {
    let url = parse_url(&args.url).map_err(Error::bad_input)?;
    let arguments: Value = serde_json::from_str(&args.args).map_err(|e| {
        Error::bad_input(format!(
            "the tool arguments are not JSON ({e}); give an object, e.g. '{{\"index\":\"movies\"}}'"
        ))
    })?;
    if !arguments.is_object() {
        return Err(Error::bad_input("the tool arguments must be a JSON object, e.g. '{}'").into());
    }
    let conn = args.connection.resolve().map_err(Error::bad_input)?;
    let opts = ProbeOptions {
        url,
        health_url: None,
        protocol_version: args.protocol_version.clone(),
        timeout: args.timeout,
        bearer: conn.bearer,
        headers: conn.headers,
    };
    let client = connect(&opts)
        .await
        .map_err(|e| Error::failed(format!("initialize failed: {e}")))?;
    let result = call(&client, &args.tool, arguments, args.timeout).await;
    let _ = client.cancel().await;
    let result =
        result.map_err(|e| Error::failed(format!("tools/call {} failed: {e}", args.tool)))?;
    let out = if global.output.is_json() {
        Output::json(&result)?
    } else {
        crate::outln!("{}", result_text(&result))?;
        Output::Nothing
    };
    if result.is_error == Some(true) {
        let error = Error::failed(format!(
            "tool {} returned an error (isError): {}",
            args.tool,
            crate::probe::check::one_line(&result_text(&result), 300)
        ));
        return Err(Failure::new(error, out.into_document()));
    }
    Ok(out)
}
