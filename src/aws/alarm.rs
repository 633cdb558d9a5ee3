//! The CloudWatch alarm ECS rolls a deployment back on (`service.alarm_rollback`): the share of
//! the target group's requests its targets answered with 5XX, as metric math over
//! `HTTPCode_Target_5XX_Count` and `RequestCount`
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html>).
//! Observed by name, put (create or update) and deleted as the plan decides; [`state`] is what
//! the deployment waiter reports when ECS rolled back.

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat,
};

use super::deploy::{Applying, Deploy};
use super::errors::call_error;
use super::errors::unless_denied;
use super::metrics::NAMESPACE;
use super::Clients;
use crate::error::Result;
use crate::model::names::alarm_dimensions;
use crate::plan::scaling::{AlarmDefinition, AlarmStep, AlarmSteps, ObservedAlarm};
use crate::plan::{Action, Kind};
use crate::plan::{Desired, Observed, Steps};
use crate::stack::Stack;

/// What was done: kind, action, name.
pub type Did = (Kind, Action, String);

/// Put the alarm when the plan says so (before the service names it). The dimensions come
/// from the ALB and the target group `tg_arn` (known now even when `up` just created it).
pub async fn apply_before_service(
    c: &Clients,
    steps: &AlarmSteps,
    tg_arn: &str,
) -> Result<Vec<Did>> {
    let Some(AlarmStep::Put(spec)) = &steps.call else {
        return Ok(Vec::new());
    };
    let alb_arn = &steps.alb_arn;
    let Some((lb, tg)) = alarm_dimensions(alb_arn, tg_arn) else {
        return Err(crate::error::Error::failed(format!(
            "cannot name the CloudWatch dimensions of load balancer {alb_arn} and target group {tg_arn} for alarm {}; they are not Application Load Balancer ARNs",
            spec.name
        )));
    };
    let existed = describe(c, &spec.name).await?.is_some();
    put(c, &spec.name, &spec.definition(&lb, &tg)).await?;
    let action = if existed {
        Action::Update
    } else {
        Action::Create
    };
    Ok(vec![(Kind::Alarm, action, spec.name.clone())])
}

/// Delete the alarm when the plan says so (after the service stopped naming it).
pub async fn apply_after_service(c: &Clients, steps: &AlarmSteps) -> Result<Vec<Did>> {
    let Some(AlarmStep::Delete(name)) = &steps.call else {
        return Ok(Vec::new());
    };
    delete(c, name).await?;
    Ok(vec![(Kind::Alarm, Action::Delete, name.clone())])
}

/// Describe the alarm `name` (`None`: it does not exist).
pub async fn describe(c: &Clients, name: &str) -> Result<Option<MetricAlarm>> {
    let out = c
        .cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .map_err(|e| call_error(&format!("alarm {name}"), e))?;
    Ok(out
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .cloned())
}

/// The alarm `name` in the shape the plan compares.
pub async fn observe(c: &Clients, name: &str) -> Result<Option<ObservedAlarm>> {
    Ok(describe(c, name).await?.map(|a| normalise(&a)))
}

/// A described alarm as an [`AlarmDefinition`]: the expression, and the dimensions and period of
/// its `RequestCount` query.
pub fn normalise(a: &MetricAlarm) -> ObservedAlarm {
    let expression = a
        .metrics()
        .iter()
        .find_map(|m| m.expression())
        .unwrap_or_default()
        .to_string();
    let stat = a
        .metrics()
        .iter()
        .find(|m| m.id() == Some("m2"))
        .and_then(|m| m.metric_stat());
    let dim = |name: &str| {
        stat.and_then(|s| s.metric())
            .map(|m| m.dimensions())
            .unwrap_or_default()
            .iter()
            .find(|d| d.name() == Some(name))
            .and_then(|d| d.value())
            .unwrap_or_default()
            .to_string()
    };
    ObservedAlarm {
        name: a.alarm_name().unwrap_or_default().to_string(),
        definition: AlarmDefinition {
            expression,
            threshold: a.threshold().map_or(String::new(), |t| format!("{t}")),
            period: stat.and_then(|s| s.period()).unwrap_or_default(),
            evaluation_periods: a.evaluation_periods().unwrap_or_default(),
            datapoints_to_alarm: a.datapoints_to_alarm().unwrap_or_default(),
            load_balancer: dim("LoadBalancer"),
            target_group: dim("TargetGroup"),
        },
    }
}

fn query(id: &str, metric: &str, d: &AlarmDefinition) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(NAMESPACE)
        .metric_name(metric)
        .dimensions(
            Dimension::builder()
                .name("LoadBalancer")
                .value(&d.load_balancer)
                .build(),
        )
        .dimensions(
            Dimension::builder()
                .name("TargetGroup")
                .value(&d.target_group)
                .build(),
        )
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(d.period)
                .stat("Sum")
                .build(),
        )
        .return_data(false)
        .build()
}

/// `PutMetricAlarm`: create or replace the alarm `name` with `d`. Missing data (no traffic) is
/// not breaching, so an idle service never rolls back.
pub async fn put(c: &Clients, name: &str, d: &AlarmDefinition) -> Result<()> {
    let threshold: f64 = d
        .threshold
        .parse()
        .unwrap_or(f64::from(crate::plan::scaling::ERROR_PERCENT));
    c.cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .alarm_description(format!(
            "mcpctl: share of {} requests answered 5XX; ECS rolls a deployment back while it alarms",
            d.target_group
        ))
        .metrics(
            MetricDataQuery::builder()
                .id("e1")
                .expression(&d.expression)
                .label("5XX percent")
                .return_data(true)
                .build(),
        )
        .metrics(query("m1", "HTTPCode_Target_5XX_Count", d))
        .metrics(query("m2", "RequestCount", d))
        .threshold(threshold)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .evaluation_periods(d.evaluation_periods)
        .datapoints_to_alarm(d.datapoints_to_alarm)
        .treat_missing_data("notBreaching")
        .send()
        .await
        .map_err(|e| call_error(&format!("alarm {name}"), e))?;
    Ok(())
}

/// `DeleteAlarms` for `name` (CloudWatch ignores a name that does not exist).
pub async fn delete(c: &Clients, name: &str) -> Result<()> {
    c.cloudwatch
        .delete_alarms()
        .alarm_names(name)
        .send()
        .await
        .map_err(|e| call_error(&format!("alarm {name}"), e))?;
    Ok(())
}

/// The alarm's state and reason (`ALARM`, "Threshold Crossed: ..."), when it exists.
pub async fn state(c: &Clients, name: &str) -> Result<Option<(String, String)>> {
    Ok(describe(c, name).await?.map(|a| {
        (
            a.state_value()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            a.state_reason().unwrap_or_default().to_string(),
        )
    }))
}

/// Read only when the service exists; a stack without `alarm_rollback` plans without the
/// permission to read it. Put by the service's apply (before the service names it); deleted
/// here, after the service stopped naming it.
impl Deploy for crate::plan::scaling::alarm::Alarm {
    async fn observe(c: &Clients, stack: &Stack, so_far: &Observed) -> Result<Self::Observed> {
        if so_far.service.is_none() {
            return Ok(None);
        }
        let name = crate::model::names::alarm_name(&stack.names.service);
        unless_denied(!stack.service.alarm_rollback, observe(c, &name).await)
    }

    async fn apply(run: &mut Applying<'_>, _: &Desired, steps: &Steps) -> Result<()> {
        let done = apply_after_service(run.c, &steps.alarm).await?;
        run.rec.extend(done);
        Ok(())
    }
}
