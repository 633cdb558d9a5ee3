//! Progressive cutover: move production traffic in steps (`--steps 10,50,100`), and during each
//! step's bake judge the `--to` target group's CloudWatch metrics and an MCP probe through the
//! production URL ([`gate`]); a breach rolls the routing back by itself.

pub mod bake;
pub mod gate;
pub mod monitor;
pub mod probe;
pub mod rollout;
