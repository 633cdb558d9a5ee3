//! `mcpctl`: parse the command line, run the command, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use mcpctl::cli::Cli;
use mcpctl::error::Error;
use mcpctl::output::Ran;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            if code == 2 && json_requested() {
                let err = Error::bad_input(e.kind().to_string());
                let _ = Ran {
                    outcome: Err(err.into()),
                }
                .finish(true);
            }
            return ExitCode::from(code);
        }
    };
    let json = cli.global.output.is_json();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MCPCTL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rmcp=off")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(mcpctl::output::stderr_colors())
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    quiet_on_closed_stdout();
    let result = runtime.block_on(cli.run()).finish(json);
    match result {
        Ok(()) | Err(Error::StdoutClosed) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            e.to_exit_code()
        }
    }
}

/// True when the command line asks for `--output json` (read before clap's own parse
/// succeeded, so a usage error is a JSON document too).
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--output=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--output" && w[1] == "json")
}

/// A `println!` that still reaches a closed stdout panics with "failed printing to stdout:
/// Broken pipe"; end such a process quietly with exit 0 (commands print through `outln!`, which
/// returns `Error::StdoutClosed` instead; this is the net under any print that does not).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
