//! `mcpctl scale --stack NAME --count N [--min A --max B]`: set the service's desired count now
//! (and, with autoscaling, the autoscaler's range). Refused while autoscaling governs the count
//! unless `--min`/`--max` move the range with it.

use clap::Args;
use serde::Serialize;

use crate::aws::Call;
use crate::cli::GlobalArgs;
use crate::output::{Outcome, Output};
use crate::scale::{scale, Scaled};

/// Arguments of `mcpctl scale`.
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// Stack name (`stacks/NAME.yaml`) or path to a stack file.
    #[arg(long)]
    pub stack: String,
    /// The desired count (0-1000).
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..=1000))]
    pub count: i32,
    /// The autoscaler's new minimum (only with `service.autoscaling`).
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..=1000))]
    pub min: Option<i32>,
    /// The autoscaler's new maximum (only with `service.autoscaling`).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub max: Option<i32>,
}

#[derive(Serialize)]
struct ScaleOutput<'a> {
    stack: &'a str,
    #[serde(flatten)]
    scaled: &'a Scaled,
    calls: Vec<Call>,
}

/// Run `mcpctl scale`.
pub async fn run(args: ScaleArgs, global: &GlobalArgs) -> Outcome {
    let (stack, c) = super::session::open_one(&args.stack, global).await?;
    let scaled = scale(&c, &stack, args.count, args.min, args.max).await?;
    if global.output.is_json() {
        return Ok(Output::json(&ScaleOutput {
            stack: &stack.name,
            scaled: &scaled,
            calls: c.calls.all(),
        })?);
    }
    crate::outln!(
        "Service {}: desired count {} -> {}.",
        scaled.service,
        scaled.from,
        scaled.to
    )?;
    match scaled.range {
        Some((lo, hi)) => crate::outln!(
            "Autoscaling range {lo}..{hi}; the next `up` sets the range from the stack's `service.autoscaling` again."
        )?,
        None => crate::outln!(
            "The next `up` sets the count from the stack's `service.desired_count` again."
        )?,
    }
    Ok(Output::Nothing)
}
