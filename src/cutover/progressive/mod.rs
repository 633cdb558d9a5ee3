//! Progressive cutover: move production traffic in steps (`--steps 10,50,100`), and during each
//! step's bake judge the `--to` target group's CloudWatch metrics ([`gate`], over the periods
//! [`window`] says the step covers) and an MCP probe of the `--to` stack; a breach rolls the
//! routing back by itself. [`start`] reads what a rollout starts from (the record to resume,
//! the probe's URL, the first step).

pub mod bake;
pub mod capacity;
pub mod gate;
pub mod monitor;
pub mod probe;
pub mod rollout;
pub mod start;
mod stepping;
pub mod window;
