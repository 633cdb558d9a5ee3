//! The gate flags `cutover --steps` and `monitor` share (`--max-error-rate`, `--max-4xx-rate`,
//! `--max-p99`, `--min-requests`), checked into [`Thresholds`].

use std::time::Duration;

use clap::Args;

use crate::cutover::decide::gate::Thresholds;
use crate::error::{Error, Result};

/// The gates of a progressive cutover (and of `monitor`'s verdict).
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// Gate: most 5XX share (percent) of the requests to the new stack's target group (the
    /// load balancer's own 5XX share is held to it too).
    #[arg(long, value_name = "PERCENT", default_value = "1")]
    pub max_error_rate: f64,
    /// Gate: most target 4XX share (percent).
    #[arg(long = "max-4xx-rate", value_name = "PERCENT", default_value = "5")]
    pub max_4xx_rate: f64,
    /// Gate: slowest p99 target response time.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
    pub max_p99: Duration,
    /// Gate: requests needed before the rates are judged (unhealthy hosts and the probe are
    /// judged at once).
    #[arg(long, value_name = "N", default_value = "50")]
    pub min_requests: u32,
}

impl GateArgs {
    /// The thresholds; a percentage outside 0–100 is bad input naming its flag.
    pub fn thresholds(&self) -> Result<Thresholds> {
        for (flag, v) in [
            ("--max-error-rate", self.max_error_rate),
            ("--max-4xx-rate", self.max_4xx_rate),
        ] {
            if !(0.0..=100.0).contains(&v) {
                return Err(Error::bad_input(format!(
                    "{flag} is {v}: give a percentage from 0 to 100"
                )));
            }
        }
        Ok(Thresholds {
            max_error_rate: self.max_error_rate,
            max_4xx_rate: self.max_4xx_rate,
            max_p99: self.max_p99,
            min_requests: f64::from(self.min_requests),
        })
    }
}
