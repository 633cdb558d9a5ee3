//! Target health as ALB reports it (`DescribeTargetHealth`), and the counts the waiter,
//! `cutover` and `status` decide on.

use serde::Serialize;

/// One target's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetHealth {
    /// Target id (IP).
    pub id: String,
    /// Port.
    pub port: Option<i32>,
    /// healthy / unhealthy / initial / draining / unused.
    pub state: String,
    /// Why, when not healthy.
    pub reason: Option<String>,
}

/// Healthy and total targets in a target group (what the waiter and `cutover` decide on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HealthCount {
    /// Targets in state `healthy`.
    pub healthy: usize,
    /// All registered targets.
    pub total: usize,
    /// Targets in state `unused` (`Target.NotInUse`: no listener rule forwards to the group, so
    /// ALB does not health-check them; a group at weight 0 is in use).
    pub unused: usize,
}

impl HealthCount {
    /// Count `targets`.
    pub fn of(targets: &[TargetHealth]) -> HealthCount {
        HealthCount {
            healthy: targets.iter().filter(|t| t.state == "healthy").count(),
            total: targets.len(),
            unused: targets.iter().filter(|t| t.state == "unused").count(),
        }
    }
}
