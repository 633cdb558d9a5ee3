//! CloudWatch metrics of a target group behind the ALB (`AWS/ApplicationELB`), read with one
//! `GetMetricData` call: requests, target 4XX/5XX, the load balancer's own 5XX, p99 response
//! time and unhealthy hosts, summed over the data points since a given time. Turning the
//! answer into [`AlbMetrics`] is pure ([`fold`]), so decisions are tested on recorded answers.
//! Metric names and dimensions: <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>

use std::collections::BTreeSet;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat};
use serde::Serialize;

use super::errors::call_error;
use super::Clients;
use crate::error::Result;

/// The ALB metrics namespace.
pub const NAMESPACE: &str = "AWS/ApplicationELB";

pub use crate::model::metrics::{AlbMetrics, WindowRead};

/// `app/NAME/ID`: the `LoadBalancer` dimension of an ALB ARN.
pub fn load_balancer_dimension(alb_arn: &str) -> &str {
    alb_arn
        .split_once(":loadbalancer/")
        .map_or(alb_arn, |(_, d)| d)
}

/// `targetgroup/NAME/ID`: the `TargetGroup` dimension of a target group ARN.
pub fn target_group_dimension(tg_arn: &str) -> &str {
    tg_arn.rsplit_once(':').map_or(tg_arn, |(_, d)| d)
}

fn query(
    id: &str,
    metric: &str,
    stat: &str,
    dims: &[(&str, &str)],
    period: i32,
) -> MetricDataQuery {
    let mut m = Metric::builder().namespace(NAMESPACE).metric_name(metric);
    for (k, v) in dims {
        m = m.dimensions(Dimension::builder().name(*k).value(*v).build());
    }
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(m.build())
                .period(period)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// The queries for `tg` behind `lb` (dimension values), one data point per `period` seconds.
pub fn queries(lb: &str, tg: &str, period: i32) -> Vec<MetricDataQuery> {
    let both = [("LoadBalancer", lb), ("TargetGroup", tg)];
    let lb_only = [("LoadBalancer", lb)];
    vec![
        query("requests", "RequestCount", "Sum", &both, period),
        query(
            "target5xx",
            "HTTPCode_Target_5XX_Count",
            "Sum",
            &both,
            period,
        ),
        query(
            "target4xx",
            "HTTPCode_Target_4XX_Count",
            "Sum",
            &both,
            period,
        ),
        query(
            "target2xx",
            "HTTPCode_Target_2XX_Count",
            "Sum",
            &both,
            period,
        ),
        query(
            "target3xx",
            "HTTPCode_Target_3XX_Count",
            "Sum",
            &both,
            period,
        ),
        query(
            "connerrors",
            "TargetConnectionErrorCount",
            "Sum",
            &both,
            period,
        ),
        query("p99", "TargetResponseTime", "p99", &both, period),
        query("unhealthy", "UnHealthyHostCount", "Maximum", &both, period),
        query("healthy", "HealthyHostCount", "Minimum", &both, period),
        query("elb5xx", "HTTPCode_ELB_5XX_Count", "Sum", &lb_only, period),
        query("lbrequests", "RequestCount", "Sum", &lb_only, period),
    ]
}

/// Fold `GetMetricData` results (by query id) into [`AlbMetrics`] (pure).
pub fn fold(results: &[MetricDataResult]) -> AlbMetrics {
    fold_since(results, None)
}

/// [`fold`], counting only the periods that begin at or after `since` (Unix seconds).
/// CloudWatch rounds a start time down to the period (a minute for ALB metrics), so its first
/// period may begin before `since` and hold requests made before it: such a period is left out
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html>).
pub fn fold_since(results: &[MetricDataResult], since: Option<i64>) -> AlbMetrics {
    let mut m = AlbMetrics::default();
    for r in results {
        let kept: Vec<f64> = match since {
            Some(s) if r.timestamps().len() == r.values().len() => r
                .values()
                .iter()
                .zip(r.timestamps())
                .filter(|(_, t)| t.secs() >= s)
                .map(|(v, _)| *v)
                .collect(),
            _ => r.values().to_vec(),
        };
        let v = &kept;
        let sum: f64 = v.iter().sum();
        let max = v.iter().copied().reduce(f64::max);
        let min = v.iter().copied().reduce(f64::min);
        match r.id().unwrap_or_default() {
            "requests" => m.requests += sum,
            "target5xx" => m.target_5xx += sum,
            "target4xx" => m.target_4xx += sum,
            "target2xx" => m.target_2xx += sum,
            "target3xx" => m.target_3xx += sum,
            "connerrors" => m.connection_errors += sum,
            "elb5xx" => m.elb_5xx += sum,
            "lbrequests" => m.lb_requests += sum,
            "p99" => m.p99_seconds = max.or(m.p99_seconds),
            "unhealthy" => m.unhealthy_hosts = max.or(m.unhealthy_hosts),
            "healthy" => m.healthy_hosts = min.or(m.healthy_hosts),
            _ => {}
        }
    }
    m.elb_failures = m.load_balancer_failures();
    m
}

/// Read the metrics of `tg_arn` behind `alb_arn` from `start` to `end` (every page), counting
/// only the periods that begin at or after `start` (whole seconds; see [`fold_since`]).
pub async fn read(
    c: &Clients,
    alb_arn: &str,
    tg_arn: &str,
    start: std::time::SystemTime,
    end: std::time::SystemTime,
) -> Result<AlbMetrics> {
    let start_secs = unix_secs(start);
    let results = fetch(c, alb_arn, tg_arn, start_secs, unix_secs(end)).await?;
    Ok(fold_since(
        &results,
        Some(i64::try_from(start_secs).unwrap_or(i64::MAX)),
    ))
}

/// Read every one-minute period of `tg_arn` behind `alb_arn` from the period holding `start`
/// to `end`, none left out, with the periods that have data ([`published_periods`]).
pub async fn read_window(
    c: &Clients,
    alb_arn: &str,
    tg_arn: &str,
    start: u64,
    end: u64,
) -> Result<WindowRead> {
    let start = start - start % 60;
    let results = fetch(c, alb_arn, tg_arn, start, end).await?;
    Ok(WindowRead {
        metrics: fold(&results),
        published: published_periods(&results),
    })
}

/// The periods (Unix seconds of their start) for which the target group has a data point.
/// ALB publishes `HealthyHostCount` and `UnHealthyHostCount` every minute while targets are
/// registered, and the request metrics for every minute with requests, so a period with none
/// of them has not been published yet (or the group had neither targets nor requests).
pub fn published_periods(results: &[MetricDataResult]) -> BTreeSet<u64> {
    results
        .iter()
        .filter(|r| {
            matches!(
                r.id().unwrap_or_default(),
                "requests" | "healthy" | "unhealthy" | "target2xx" | "target5xx"
            )
        })
        .flat_map(|r| r.timestamps().iter())
        .filter_map(|t| u64::try_from(t.secs()).ok())
        .collect()
}

fn unix_secs(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `GetMetricData` for the queries of `tg_arn` behind `alb_arn`, every page.
async fn fetch(
    c: &Clients,
    alb_arn: &str,
    tg_arn: &str,
    start_secs: u64,
    end_secs: u64,
) -> Result<Vec<MetricDataResult>> {
    // CloudWatch wants StartTime before EndTime; in the first second there is nothing to read.
    if end_secs <= start_secs {
        return Ok(Vec::new());
    }
    let to_time = |s: u64| DateTime::from_secs(i64::try_from(s).unwrap_or(i64::MAX));
    let qs = queries(
        load_balancer_dimension(alb_arn),
        target_group_dimension(tg_arn),
        60,
    );
    let mut results: Vec<MetricDataResult> = Vec::new();
    let mut token: Option<String> = None;
    // Bounded: 11 queries over a bake of hours fit in one page; a misbehaving endpoint that
    // keeps handing out tokens is stopped.
    for _ in 0..20 {
        let out = c
            .cloudwatch
            .get_metric_data()
            .set_metric_data_queries(Some(qs.clone()))
            .start_time(to_time(start_secs))
            .end_time(to_time(end_secs))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| {
                call_error(
                    &format!("{NAMESPACE} metrics of {}", target_group_dimension(tg_arn)),
                    e,
                )
            })?;
        results.extend(out.metric_data_results().iter().cloned());
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(results)
}

/// What the server's own EMF metrics say (`Calls`, `Latency` per `service`), when it writes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServerMetrics {
    /// MCP requests (`Calls`, Sum).
    pub calls: f64,
    /// The highest per-period p99 of `Latency`, in milliseconds (`None`: no data).
    pub p99_ms: Option<f64>,
}

/// Read the server's EMF metrics in `namespace` for the `service` dimension.
pub async fn read_server(
    c: &Clients,
    namespace: &str,
    service: &str,
    start: std::time::SystemTime,
    end: std::time::SystemTime,
) -> Result<ServerMetrics> {
    let q = |id: &str, name: &str, stat: &str| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(namespace)
                            .metric_name(name)
                            .dimensions(Dimension::builder().name("service").value(service).build())
                            .build(),
                    )
                    .period(60)
                    .stat(stat)
                    .build(),
            )
            .build()
    };
    let out = c
        .cloudwatch
        .get_metric_data()
        .metric_data_queries(q("calls", "Calls", "Sum"))
        .metric_data_queries(q("latency", "Latency", "p99"))
        .start_time(DateTime::from(start))
        .end_time(DateTime::from(end))
        .send()
        .await
        .map_err(|e| call_error(&format!("{namespace} metrics of {service}"), e))?;
    let mut m = ServerMetrics::default();
    for r in out.metric_data_results() {
        match r.id().unwrap_or_default() {
            "calls" => m.calls = r.values().iter().sum(),
            "latency" => m.p99_ms = r.values().iter().copied().reduce(f64::max),
            _ => {}
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, values: &[f64]) -> MetricDataResult {
        MetricDataResult::builder()
            .id(id)
            .set_values(Some(values.to_vec()))
            .build()
    }

    #[test]
    fn dimensions_come_from_the_arns() {
        assert_eq!(
            load_balancer_dimension(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fastmcp-alb/50dc6c495c0c9188"
            ),
            "app/fastmcp-alb/50dc6c495c0c9188"
        );
        assert_eq!(
            target_group_dimension(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/opensearch-mcp-tg-stateless/73e2d6bc24d8a067"
            ),
            "targetgroup/opensearch-mcp-tg-stateless/73e2d6bc24d8a067"
        );
    }

    #[test]
    fn a_recorded_answer_folds_to_sums_and_extremes() {
        // GetMetricData's answer for three one-minute periods (values newest first).
        let m = fold(&[
            result("requests", &[40.0, 35.0, 25.0]),
            result("target5xx", &[2.0, 0.0, 1.0]),
            result("target4xx", &[]),
            result("p99", &[0.180, 1.250, 0.200]),
            result("unhealthy", &[0.0, 1.0, 0.0]),
            result("healthy", &[2.0, 1.0, 2.0]),
            result("elb5xx", &[1.0]),
            result("lbrequests", &[400.0, 300.0]),
        ]);
        assert_eq!(m.requests, 100.0);
        assert_eq!(m.target_5xx, 3.0);
        assert_eq!(m.target_4xx, 0.0);
        assert_eq!(m.p99_seconds, Some(1.25));
        assert_eq!(m.unhealthy_hosts, Some(1.0));
        assert_eq!(m.healthy_hosts, Some(1.0));
        assert_eq!(m.elb_5xx, 1.0);
        assert_eq!(m.lb_requests, 700.0);
        assert_eq!(fold(&[]).p99_seconds, None);
    }

    #[test]
    fn periods_that_began_before_the_step_are_left_out() {
        // CloudWatch rounded the step's start (10:00:30) down to 10:00: that period holds
        // requests from before the step, so only the periods from 10:01 count.
        let at = |s: i64| DateTime::from_secs(1_764_669_600 + s);
        let r = MetricDataResult::builder()
            .id("requests")
            .set_values(Some(vec![500.0, 40.0, 60.0]))
            .set_timestamps(Some(vec![at(0), at(60), at(120)]))
            .build();
        assert_eq!(
            fold_since(std::slice::from_ref(&r), Some(1_764_669_630)).requests,
            100.0
        );
        assert_eq!(
            fold_since(std::slice::from_ref(&r), Some(1_764_669_600)).requests,
            600.0
        );
        assert_eq!(fold(&[r]).requests, 600.0);
    }
}
