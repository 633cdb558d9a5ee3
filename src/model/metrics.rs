//! What CloudWatch saw for a target group and its ALB in a window, as plain data: the numbers
//! the progressive cutover's gates judge (pure, in `cutover::decide::gate`) and
//! `aws::metrics` fills in from one `GetMetricData` answer.

use std::collections::BTreeSet;

use serde::Serialize;

/// What the target group (and its load balancer) saw in a window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlbMetrics {
    /// Requests routed to the target group (`RequestCount`, Sum). ALB counts a request here
    /// once it chose a target of the group, also when that target then never answered.
    pub requests: f64,
    /// 5XX answers from its targets (`HTTPCode_Target_5XX_Count`, Sum).
    pub target_5xx: f64,
    /// 4XX answers from its targets (`HTTPCode_Target_4XX_Count`, Sum).
    pub target_4xx: f64,
    /// 2XX answers from its targets (`HTTPCode_Target_2XX_Count`, Sum).
    pub target_2xx: f64,
    /// 3XX answers from its targets (`HTTPCode_Target_3XX_Count`, Sum).
    pub target_3xx: f64,
    /// Connections to its targets that could not be made (`TargetConnectionErrorCount`, Sum).
    pub connection_errors: f64,
    /// Requests of this target group that the load balancer answered itself (a 502 or 504
    /// instead of the target's answer): see [`AlbMetrics::load_balancer_failures`].
    pub elb_failures: f64,
    /// 5XX answers the load balancer made itself (`HTTPCode_ELB_5XX_Count`, Sum). ELB reports
    /// this per load balancer only (no `TargetGroup` dimension): it covers every rule and every
    /// application on the load balancer, so it is shown as information and never gates.
    pub elb_5xx: f64,
    /// Requests to the whole load balancer (`RequestCount` without `TargetGroup`, Sum).
    pub lb_requests: f64,
    /// The highest per-period p99 of `TargetResponseTime`, in seconds (`None`: no data).
    pub p99_seconds: Option<f64>,
    /// The highest `UnHealthyHostCount` seen (`None`: no data).
    pub unhealthy_hosts: Option<f64>,
    /// The lowest `HealthyHostCount` seen (`None`: no data).
    pub healthy_hosts: Option<f64>,
}

impl AlbMetrics {
    /// The target group's requests the load balancer answered itself: those it routed to the
    /// group (`RequestCount`, counted once a target was chosen) that got no answer from a target
    /// (`RequestCount` − Σ `HTTPCode_Target_{2,3,4,5}XX_Count`), and at least the
    /// `TargetConnectionErrorCount` (each failed connection ends as the load balancer's 502,
    /// already in the difference, so the larger of the two is taken, not their sum). Both
    /// metrics carry the `TargetGroup` dimension, unlike `HTTPCode_ELB_5XX_Count`:
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>
    pub fn load_balancer_failures(&self) -> f64 {
        let answered = self.target_2xx + self.target_3xx + self.target_4xx + self.target_5xx;
        (self.requests - answered)
            .max(self.connection_errors)
            .max(0.0)
    }
}

/// The metrics of a window of whole periods, and which of its periods CloudWatch has published.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowRead {
    /// Every period of the window summed (`aws::metrics::fold`).
    pub metrics: AlbMetrics,
    /// The starts (Unix seconds) of the periods that have data.
    pub published: BTreeSet<u64>,
}
