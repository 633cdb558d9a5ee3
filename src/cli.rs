//! The command line: global flags and one subcommand per file in `commands/`.

use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::output::{Outcome, Output, OutputFormat, Ran};

/// Deploy, verify, cut over and roll back the stateless OpenSearch MCP server on ECS Fargate.
#[derive(Debug, Parser)]
#[command(name = "mcpctl", version, about, propagate_version = true)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format: text for people, json for machines.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// AWS profile; wins over AWS_ACCESS_KEY_ID like the AWS CLI's (default: the standard
    /// credential chain, which reads AWS_PROFILE). An unknown profile is an error.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Give up on an AWS call after this long, each attempt and all retries together
    /// (e.g. 30s, 2m); connecting takes at most 10s of it.
    #[arg(long, global = true, value_name = "DURATION", default_value = "60s", value_parser = parse_call_timeout)]
    pub call_timeout: std::time::Duration,
    /// AWS region (default: the stack's region, then the standard chain).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Directory holding the stack files (`--stack NAME` reads `DIR/NAME.yaml`).
    #[arg(
        long,
        global = true,
        env = "MCPCTL_STACKS_DIR",
        default_value = "stacks"
    )]
    pub stacks_dir: std::path::PathBuf,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the stack file of a running deployment (only mcpctl's tags left to add).
    Adopt(commands::adopt::AdoptArgs),
    /// Show what `up` would change, without changing anything.
    Plan(commands::plan::PlanArgs),
    /// Create or update every resource of a stack (idempotent).
    Up(commands::up::UpArgs),
    /// Show each resource of a stack, its tasks and the rules sending it traffic.
    Status(commands::status::StatusArgs),
    /// Set the service's desired count now (and the autoscaler's range with --min/--max).
    Scale(commands::scale::ScaleArgs),
    /// The task definition revisions with their images; which one runs.
    Revisions(commands::revisions::RevisionsArgs),
    /// Read the stack's CloudWatch logs.
    Logs(commands::logs::LogsArgs),
    /// Send the production path's traffic to another stack (all of it, or a weight).
    Cutover(commands::cutover::CutoverArgs),
    /// Restore the routing the last cutover replaced.
    Rollback(commands::rollback::RollbackArgs),
    /// Both stacks' ALB metrics and production share side by side, refreshed.
    Monitor(commands::monitor::MonitorArgs),
    /// Archive a stack's configuration, then remove its resources.
    Cleanup(commands::cleanup::CleanupArgs),
    /// Print the IAM policy the deployer needs for some stacks and commands.
    IamPolicy(commands::iam_policy::IamPolicyArgs),
    /// Run stacks on this machine: replicas behind a round-robin router.
    Local(commands::local::LocalArgs),
    /// Probe an MCP endpoint, load-test it, or compare several.
    Verify(commands::verify::VerifyArgs),
    /// Make one MCP tool call and print the result.
    Call(commands::call::CallArgs),
    /// An interactive MCP prompt: health, tools, list, stress, call, describe, replicas...
    Shell(commands::shell::ShellArgs),
    /// Print a shell completion script: `mcpctl completions bash > /etc/bash_completion.d/mcpctl`.
    Completions(commands::completions::CompletionsArgs),
    /// Print the manual page (roff): `mcpctl man > mcpctl.1`.
    Man(commands::man::ManArgs),
}

/// `--call-timeout`: a humantime duration from 1s to 1h.
fn parse_call_timeout(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e}; write e.g. 30s or 2m"))?;
    if d < std::time::Duration::from_secs(1) || d > std::time::Duration::from_secs(3600) {
        return Err("use 1s to 1h".to_string());
    }
    Ok(d)
}

impl Command {
    /// The command's name when it calls AWS (what its IAM permissions are listed under).
    fn aws_name(&self) -> Option<crate::aws::permissions::CommandName> {
        use crate::aws::permissions::CommandName as N;
        Some(match self {
            Command::Adopt(_) => N::Adopt,
            Command::Plan(_) => N::Plan,
            Command::Up(_) => N::Up,
            Command::Status(_) => N::Status,
            Command::Scale(_) => N::Scale,
            Command::Revisions(_) => N::Revisions,
            Command::Logs(_) => N::Logs,
            Command::Cutover(_) => N::Cutover,
            Command::Rollback(_) => N::Rollback,
            Command::Monitor(_) => N::Monitor,
            Command::Cleanup(_) => N::Cleanup,
            Command::Verify(_) => N::Verify,
            Command::Shell(_) => N::Shell,
            Command::Local(_)
            | Command::Call(_)
            | Command::IamPolicy(_)
            | Command::Completions(_)
            | Command::Man(_) => return None,
        })
    }
}

impl Cli {
    /// Run the chosen command and return what it ended with: its `--output json` document (or,
    /// when it failed, the error and the document it had before), for `main` to print once.
    pub async fn run(self) -> Ran {
        Ran {
            outcome: self.dispatch().await,
        }
    }

    /// Configure the AWS calls and run the command, which returns its output.
    async fn dispatch(self) -> Outcome {
        let g = &self.global;
        crate::aws::settings::configure(crate::aws::settings::CallSettings {
            call_timeout: g.call_timeout,
        });
        if let Some(p) = &g.profile {
            crate::aws::settings::check_profile(p).await?;
        }
        if let Some(name) = self.command.aws_name() {
            crate::aws::permissions::set_current(name);
        }
        match self.command {
            Command::Adopt(a) => commands::adopt::run(a, g).await,
            Command::Plan(a) => commands::plan::run(a, g).await,
            Command::Up(a) => commands::up::run(a, g).await,
            Command::Status(a) => commands::status::run(a, g).await,
            Command::Scale(a) => commands::scale::run(a, g).await,
            Command::Revisions(a) => commands::revisions::run(a, g).await,
            Command::Logs(a) => commands::logs::run(a, g).await,
            Command::Cutover(a) => commands::cutover::run(a, g).await,
            Command::Rollback(a) => commands::rollback::run(a, g).await,
            Command::Monitor(a) => commands::monitor::run(a, g).await,
            Command::Cleanup(a) => commands::cleanup::run(a, g).await,
            Command::IamPolicy(a) => commands::iam_policy::run(a, g).await,
            Command::Local(a) => commands::local::run(a, g).await,
            Command::Verify(a) => commands::verify::run(a, g).await,
            Command::Call(a) => commands::call::run(a, g).await,
            Command::Shell(a) => nothing(commands::shell::run(a, g).await),
            Command::Completions(a) => nothing(commands::completions::run(a)),
            Command::Man(a) => nothing(commands::man::run(a)),
        }
    }
}

/// The outcome of a command with no result document.
fn nothing(result: crate::error::Result<()>) -> Outcome {
    Ok(result.map(|()| Output::Nothing)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
