//! A checker for CloudWatch Embedded Metric Format documents, written from the specification
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>):
//! the `_aws` metadata object, each MetricDirective, and the target members it references.

use serde_json::Value;

/// CloudWatch's standard units (`MetricDefinition.Unit` must be one of them).
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

fn only_members(
    o: &serde_json::Map<String, Value>,
    allowed: &[&str],
    what: &str,
) -> Result<(), String> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{what} has a member the spec does not define: {k}")),
        None => Ok(()),
    }
}

/// `Ok` when `doc` is a valid EMF document; otherwise what is wrong.
pub fn check(doc: &Value) -> Result<(), String> {
    let root = doc
        .as_object()
        .ok_or("the log event is not a JSON object")?;
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no `_aws` metadata object")?;
    for d in metadata(aws)? {
        directive(d, root)?;
    }
    Ok(())
}

/// Check the `_aws` metadata object (its members and `Timestamp`) and return its non-empty
/// `CloudWatchMetrics` array of MetricDirectives.
fn metadata(aws: &serde_json::Map<String, Value>) -> Result<&Vec<Value>, String> {
    only_members(
        aws,
        &[
            "Timestamp",
            "CloudWatchMetrics",
            "LogGroupName",
            "LogStreamName",
        ],
        "_aws",
    )?;
    let ts = aws
        .get("Timestamp")
        .and_then(Value::as_u64)
        .ok_or("`_aws.Timestamp` must be a number: milliseconds since the epoch")?;
    if ts < 1_000_000_000_000 {
        return Err(format!("`_aws.Timestamp` {ts} is not in milliseconds"));
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("`_aws.CloudWatchMetrics` must be an array")?;
    if directives.is_empty() {
        return Err("`_aws.CloudWatchMetrics` is empty".into());
    }
    Ok(directives)
}

/// Check one MetricDirective: its members, `Namespace`, its DimensionSets and its metrics,
/// each against the target members on `root`.
fn directive(d: &Value, root: &serde_json::Map<String, Value>) -> Result<(), String> {
    let d = d.as_object().ok_or("a MetricDirective is not an object")?;
    only_members(
        d,
        &["Namespace", "Dimensions", "Metrics"],
        "a MetricDirective",
    )?;
    let ns = d
        .get("Namespace")
        .and_then(Value::as_str)
        .ok_or("`Namespace` must be a string")?;
    if ns.is_empty() || ns.len() > 255 {
        return Err(format!("`Namespace` `{ns}` must be 1-255 characters"));
    }
    let sets = d
        .get("Dimensions")
        .and_then(Value::as_array)
        .ok_or("`Dimensions` must be an array of DimensionSets")?;
    for set in sets {
        dimension_set(set, root)?;
    }
    let metrics = d
        .get("Metrics")
        .and_then(Value::as_array)
        .ok_or("`Metrics` must be an array")?;
    if metrics.len() > 100 {
        return Err("a MetricDirective holds at most 100 metrics".into());
    }
    for m in metrics {
        metric_definition(m, root)?;
    }
    Ok(())
}

/// Check one DimensionSet: at most 30 keys, each with a 1-1024 character string target member
/// on `root`.
fn dimension_set(set: &Value, root: &serde_json::Map<String, Value>) -> Result<(), String> {
    let set = set.as_array().ok_or("a DimensionSet must be an array")?;
    if set.len() > 30 {
        return Err("a DimensionSet holds at most 30 dimension keys".into());
    }
    for k in set {
        let k = k.as_str().ok_or("a dimension key must be a string")?;
        let v = root
            .get(k)
            .ok_or(format!("dimension `{k}` has no target member on the root"))?;
        let v = v
            .as_str()
            .ok_or(format!("dimension `{k}`'s value must be a string"))?;
        if v.is_empty() || v.len() > 1024 {
            return Err(format!("dimension `{k}`'s value must be 1-1024 characters"));
        }
    }
    Ok(())
}

/// Check one MetricDefinition (`Name`, `Unit`, `StorageResolution`) and that `root` holds a
/// number (or an array of at most 100 numbers) under its name.
fn metric_definition(m: &Value, root: &serde_json::Map<String, Value>) -> Result<(), String> {
    let m = m.as_object().ok_or("a MetricDefinition is not an object")?;
    only_members(
        m,
        &["Name", "Unit", "StorageResolution"],
        "a MetricDefinition",
    )?;
    let name = m
        .get("Name")
        .and_then(Value::as_str)
        .ok_or("a MetricDefinition needs a `Name` string")?;
    if name.is_empty() || name.len() > 255 {
        return Err(format!("metric name `{name}` must be 1-255 characters"));
    }
    if let Some(u) = m.get("Unit") {
        let u = u.as_str().ok_or("`Unit` must be a string")?;
        if !UNITS.contains(&u) {
            return Err(format!("`{u}` is not a CloudWatch unit"));
        }
    }
    if let Some(r) = m.get("StorageResolution") {
        if !matches!(r.as_u64(), Some(1) | Some(60)) {
            return Err("`StorageResolution` must be 1 or 60".into());
        }
    }
    match root.get(name) {
        Some(Value::Number(_)) => Ok(()),
        Some(Value::Array(a)) if a.len() <= 100 && a.iter().all(Value::is_number) => Ok(()),
        _ => Err(format!(
            "metric `{name}` has no numeric target member on the root"
        )),
    }
}
