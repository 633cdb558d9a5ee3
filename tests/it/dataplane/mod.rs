//! Tests on a data plane that routes like the ALB (`testkit/alb_dataplane.py`): the data plane
//! itself ([`alb`]), and `mcpctl cutover --steps` on it with the real server binary as replicas
//! ([`cutover`]). One test binary for both: each is linked once.

#[path = "../common/mod.rs"]
mod common;

mod alb;
mod cutover;
