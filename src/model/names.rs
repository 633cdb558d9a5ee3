//! Names read from ELB ARNs that other services ask for: the `ResourceLabel` of an
//! `ALBRequestCountPerTarget` scaling policy and the CloudWatch dimensions of a target group's
//! metrics; and the names of a service's scalable target and rollback alarm. The plan uses them
//! to decide, and `aws` when the target group's ARN is only known at apply time, or to read what
//! a stack owns.

/// The Application Auto Scaling resource ID of a service: `service/CLUSTER/SERVICE`
/// (<https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html>).
pub fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// The name of the deployment rollback alarm of a service.
pub fn alarm_name(service: &str) -> String {
    format!("{service}-5xx-rollback")
}

/// The `ResourceLabel` of `ALBRequestCountPerTarget`: `app/NAME/ID/targetgroup/NAME/ID`, the
/// final parts of the ALB's and the target group's ARNs
/// (<https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html>;
/// moto accepts any text, AWS rejects a label of another shape). `None` when an ARN is not an
/// ELB one.
pub fn resource_label(alb_arn: &str, tg_arn: &str) -> Option<String> {
    let (lb, tg) = alarm_dimensions(alb_arn, tg_arn)?;
    Some(format!("{lb}/{tg}"))
}

/// The CloudWatch dimensions of a target group's ALB metrics: `LoadBalancer` = `app/NAME/ID`,
/// `TargetGroup` = `targetgroup/NAME/ID`
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>).
pub fn alarm_dimensions(alb_arn: &str, tg_arn: &str) -> Option<(String, String)> {
    let lb = alb_arn.split_once(":loadbalancer/")?.1;
    let tg = tg_arn.split_once(":targetgroup/")?.1;
    let parts_ok = |s: &str, n: usize| {
        let parts: Vec<&str> = s.split('/').collect();
        parts.len() == n && parts.iter().all(|p| !p.is_empty())
    };
    (lb.starts_with("app/") && parts_ok(lb, 3) && parts_ok(tg, 2))
        .then(|| (lb.to_string(), format!("targetgroup/{tg}")))
}
