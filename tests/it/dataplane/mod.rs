//! Tests on a data plane that routes like the ALB (`testkit/alb_dataplane.py`): the data plane
//! itself ([`alb`]), and `mcpctl cutover --steps` on it with the real server binary as replicas
//! ([`cutover`]).

mod alb;
mod cutover;
