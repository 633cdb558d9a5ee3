//! Bounds on aggregations, so `OPENSEARCH_MAX_RESULTS` is not side-stepped through them:
//!
//! * documents: a `top_hits` returns at most `OPENSEARCH_MAX_RESULTS` documents in all — its
//!   `size` times the buckets it runs in (the product of the enclosing aggregations' bucket
//!   counts) is capped at the limit; under an aggregation whose bucket count depends on the data
//!   (`histogram`, `date_histogram`...) it is refused. `inner_hits` sizes are capped at the limit;
//! * buckets: `size` and `shard_size` of `terms`-like aggregations are capped at
//!   [`MAX_AGG_BUCKETS`]; a `histogram` or `date_histogram` with `extended_bounds` (which makes
//!   empty buckets when `min_doc_count` is 0, the default) may span at most [`MAX_AGG_BUCKETS`]
//!   intervals, and one whose span cannot be worked out is refused.

use serde_json::{json, Map, Value};

/// Most buckets a `terms`-like aggregation may return, and most intervals an
/// `extended_bounds` may span.
pub const MAX_AGG_BUCKETS: u64 = 1000;
/// Deepest nesting of aggregations looked at.
const MAX_DEPTH: usize = 32;

/// Aggregations whose `size` is their bucket count (with OpenSearch's default).
const SIZED: [(&str, u64); 8] = [
    ("terms", 10),
    ("significant_terms", 10),
    ("significant_text", 10),
    ("multi_terms", 10),
    ("rare_terms", 10),
    ("composite", 10),
    ("geohash_grid", 10_000),
    ("geotile_grid", 10_000),
];
/// Aggregations with one bucket.
const SINGLE: [&str; 9] = [
    "filter",
    "global",
    "missing",
    "nested",
    "reverse_nested",
    "sampler",
    "diversified_sampler",
    "children",
    "parent",
];

/// Apply the bounds to every aggregation of a search body (`aggs`/`aggregations`) and every
/// `inner_hits` in it, capping sizes in place; an error says what to change.
pub fn bound(body: &mut Map<String, Value>, max_results: u64) -> Result<(), String> {
    cap_inner_hits(body, max_results);
    for key in ["aggs", "aggregations"] {
        if let Some(Value::Object(aggs)) = body.get_mut(key) {
            bound_level(aggs, Some(1), max_results, 0)?;
        }
    }
    Ok(())
}

/// One level of named aggregations, inside `buckets` buckets (`None`: depends on the data).
fn bound_level(
    aggs: &mut Map<String, Value>,
    buckets: Option<u64>,
    max_results: u64,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "aggregations are nested more than {MAX_DEPTH} deep; flatten them"
        ));
    }
    for (name, def) in aggs.iter_mut() {
        let Value::Object(def) = def else { continue };
        let kind = def
            .keys()
            .find(|k| !matches!(k.as_str(), "aggs" | "aggregations" | "meta"))
            .cloned()
            .unwrap_or_default();
        let own = match def.get_mut(&kind) {
            Some(Value::Object(params)) => bound_one(name, &kind, params, buckets, max_results)?,
            _ => Some(1),
        };
        let inner = match (buckets, own) {
            (Some(a), Some(b)) => Some(a.saturating_mul(b)),
            _ => None,
        };
        for key in ["aggs", "aggregations"] {
            if let Some(Value::Object(sub)) = def.get_mut(key) {
                bound_level(sub, inner, max_results, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// Bound one aggregation's parameters; its bucket count (`None`: depends on the data).
fn bound_one(
    name: &str,
    kind: &str,
    params: &mut Map<String, Value>,
    buckets: Option<u64>,
    max_results: u64,
) -> Result<Option<u64>, String> {
    if kind == "top_hits" {
        cap_top_hits(name, params, buckets, max_results)?;
        return Ok(Some(1));
    }
    if let Some((_, default)) = SIZED.iter().find(|(k, _)| *k == kind) {
        let size = cap_field(params, "size", *default, MAX_AGG_BUCKETS);
        cap_field(params, "shard_size", size, MAX_AGG_BUCKETS);
        return Ok(Some(size));
    }
    if SINGLE.contains(&kind) {
        return Ok(Some(1));
    }
    match kind {
        "histogram" | "date_histogram" => {
            check_extended_bounds(name, kind, params)?;
            Ok(None)
        }
        "range" | "date_range" | "ip_range" => Ok(params
            .get("ranges")
            .and_then(Value::as_array)
            .map(|r| r.len() as u64)),
        "filters" => Ok(match params.get("filters") {
            Some(Value::Object(m)) => Some(m.len() as u64 + 1),
            Some(Value::Array(a)) => Some(a.len() as u64 + 1),
            _ => None,
        }),
        // Metrics and pipeline aggregations make no buckets of their own.
        _ if is_metric(kind) => Ok(Some(1)),
        _ => Ok(None),
    }
}

/// Metric and pipeline aggregations (no buckets of their own, no documents).
fn is_metric(kind: &str) -> bool {
    const METRICS: [&str; 24] = [
        "avg",
        "sum",
        "min",
        "max",
        "value_count",
        "cardinality",
        "stats",
        "extended_stats",
        "percentiles",
        "percentile_ranks",
        "geo_bounds",
        "geo_centroid",
        "weighted_avg",
        "median_absolute_deviation",
        "matrix_stats",
        "avg_bucket",
        "sum_bucket",
        "min_bucket",
        "max_bucket",
        "stats_bucket",
        "extended_stats_bucket",
        "percentiles_bucket",
        "derivative",
        "cumulative_sum",
    ];
    METRICS.contains(&kind)
        || matches!(
            kind,
            "bucket_sort" | "serial_diff" | "moving_avg" | "moving_fn"
        )
}

/// Cap a whole-number field at `max` (absent: `default`, left unset); the value in effect.
fn cap_field(params: &mut Map<String, Value>, key: &str, default: u64, max: u64) -> u64 {
    match params.get(key).and_then(Value::as_u64) {
        Some(n) if n > max => {
            params.insert(key.into(), json!(max));
            max
        }
        Some(n) => n,
        None => default.min(max),
    }
}

/// `top_hits` `size` (default 3) times the enclosing buckets within `max_results`.
fn cap_top_hits(
    name: &str,
    params: &mut Map<String, Value>,
    buckets: Option<u64>,
    max_results: u64,
) -> Result<(), String> {
    let Some(buckets) = buckets else {
        return Err(format!(
            "`top_hits` aggregation `{name}` is under an aggregation whose number of buckets depends on the data (such as histogram), so it could return more than OPENSEARCH_MAX_RESULTS ({max_results}) documents; put it under `terms` with a `size`, or search with `size` instead"
        ));
    };
    let size = params.get("size").and_then(Value::as_u64).unwrap_or(3);
    let allowed = max_results / buckets.max(1);
    if allowed == 0 {
        return Err(format!(
            "`top_hits` aggregation `{name}` runs in up to {buckets} buckets, so it could return more than OPENSEARCH_MAX_RESULTS ({max_results}) documents; lower the enclosing aggregations' `size` to at most {max_results}"
        ));
    }
    if size > allowed {
        params.insert("size".into(), json!(allowed));
    }
    Ok(())
}

/// `size` of every `inner_hits` (nested, has_child, has_parent, collapse) capped at
/// `max_results` (per hit).
fn cap_inner_hits(body: &mut Map<String, Value>, max_results: u64) {
    let mut stack: Vec<&mut Value> = body.values_mut().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(ih)) = m.get_mut("inner_hits") {
                    cap_field(ih, "size", 3, max_results);
                }
                stack.extend(m.values_mut());
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

/// A `histogram`/`date_histogram` with `extended_bounds` spans at most [`MAX_AGG_BUCKETS`]
/// intervals (bounds as numbers; the interval a number, or for dates a fixed or calendar unit).
fn check_extended_bounds(
    name: &str,
    kind: &str,
    params: &Map<String, Value>,
) -> Result<(), String> {
    let Some(bounds) = params.get("extended_bounds") else {
        return Ok(());
    };
    if params
        .get("min_doc_count")
        .and_then(Value::as_u64)
        .is_some_and(|n| n > 0)
    {
        // Only buckets with documents: the data bounds them.
        return Ok(());
    }
    let refuse = |why: String| {
        Err(format!(
            "`{kind}` aggregation `{name}`: {why}; with `min_doc_count: 0` every interval of `extended_bounds` is a bucket, at most {MAX_AGG_BUCKETS}. Use a wider interval or narrower bounds, or `min_doc_count: 1`"
        ))
    };
    let num = |k: &str| bounds.get(k).and_then(Value::as_f64);
    let (Some(min), Some(max)) = (num("min"), num("max")) else {
        return refuse(
            "`extended_bounds` must give `min` and `max` as numbers (epoch milliseconds for dates)"
                .into(),
        );
    };
    let interval = if kind == "histogram" {
        params.get("interval").and_then(Value::as_f64)
    } else {
        ["fixed_interval", "calendar_interval", "interval"]
            .iter()
            .find_map(|k| params.get(*k).and_then(Value::as_str))
            .and_then(interval_millis)
    };
    let Some(interval) = interval.filter(|i| i.is_finite() && *i > 0.0) else {
        return refuse("its interval is not one this server can count".into());
    };
    let spans = ((max - min).abs() / interval).ceil() + 1.0;
    if !spans.is_finite() || spans > MAX_AGG_BUCKETS as f64 {
        return refuse(format!("`extended_bounds` span {spans} intervals"));
    }
    Ok(())
}

/// The shortest length of a date interval in milliseconds: `90s`, `1h`, `1d` (fixed) or
/// `minute`, `1M`, `quarter` (calendar; a month counts 28 days, a year 365).
fn interval_millis(s: &str) -> Option<f64> {
    let unit_ms = |u: &str| -> Option<f64> {
        Some(match u {
            "ms" => 1.0,
            "s" | "second" => 1e3,
            "m" | "minute" => 6e4,
            "h" | "hour" => 3.6e6,
            "d" | "day" => 8.64e7,
            "w" | "week" => 6.048e8,
            "M" | "month" => 28.0 * 8.64e7,
            "q" | "quarter" => 89.0 * 8.64e7,
            "y" | "year" => 365.0 * 8.64e7,
            _ => return None,
        })
    };
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(digits);
    let n: f64 = if n.is_empty() { 1.0 } else { n.parse().ok()? };
    Some(n * unit_ms(unit)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded(v: Value, max: u64) -> Result<Value, String> {
        let mut m = v.as_object().cloned().expect("object");
        bound(&mut m, max)?;
        Ok(Value::Object(m))
    }

    #[test]
    fn the_issue_s_terms_and_top_hits_return_at_most_the_cap() {
        // terms size 100 × top_hits size 100 with the cap at 5: 300 documents before.
        let b = bounded(
            json!({"aggs": {"t": {"terms": {"field": "g", "size": 100},
                "aggs": {"h": {"top_hits": {"size": 100}}}}}}),
            5,
        );
        let e = b.unwrap_err();
        assert!(
            e.contains("OPENSEARCH_MAX_RESULTS") && e.contains("at most 5"),
            "{e}"
        );
        let b = bounded(
            json!({"aggs": {"t": {"terms": {"field": "g", "size": 5},
                "aggs": {"h": {"top_hits": {"size": 100}}}}}}),
            100,
        )
        .unwrap();
        assert_eq!(b["aggs"]["t"]["aggs"]["h"]["top_hits"]["size"], 20);
        let b = bounded(json!({"aggs": {"h": {"top_hits": {"size": 100}}}}), 5).unwrap();
        assert_eq!(b["aggs"]["h"]["top_hits"]["size"], 5);
        // Under a filter (one bucket) and a range (two): 10 / 2.
        let b = bounded(
            json!({"aggregations": {"f": {"filter": {"term": {"a": 1}}, "aggs": {"r": {"range": {"field": "n", "ranges": [{"to": 1}, {"from": 1}]},
                "aggs": {"h": {"top_hits": {}}}}}}}}),
            10,
        )
        .unwrap();
        assert_eq!(
            b["aggregations"]["f"]["aggs"]["r"]["aggs"]["h"]["top_hits"],
            json!({})
        );
        assert!(bounded(
            json!({"aggs": {"d": {"date_histogram": {"field": "t", "fixed_interval": "1d"},
                "aggs": {"h": {"top_hits": {"size": 1}}}}}}),
            100
        )
        .unwrap_err()
        .contains("histogram"));
    }

    #[test]
    fn bucket_sizes_are_capped() {
        let b = bounded(
            json!({"aggs": {"t": {"terms": {"field": "g", "size": 100000, "shard_size": 500000}},
                "c": {"composite": {"size": 5000, "sources": []}}}}),
            10,
        )
        .unwrap();
        assert_eq!(b["aggs"]["t"]["terms"]["size"], MAX_AGG_BUCKETS);
        assert_eq!(b["aggs"]["t"]["terms"]["shard_size"], MAX_AGG_BUCKETS);
        assert_eq!(b["aggs"]["c"]["composite"]["size"], MAX_AGG_BUCKETS);
        let b = bounded(
            json!({"query": {"nested": {"path": "p", "query": {"match_all": {}}, "inner_hits": {"size": 500}}}}),
            10,
        )
        .unwrap();
        assert_eq!(b["query"]["nested"]["inner_hits"]["size"], 10);
    }

    #[test]
    fn extended_bounds_may_span_a_bounded_number_of_intervals() {
        // The attack: 0..60000 by 1 with min_doc_count 0 (1.79 MB of empty buckets).
        let attack = json!({"aggs": {"h": {"histogram": {"field": "n", "interval": 1,
            "min_doc_count": 0, "extended_bounds": {"min": 0, "max": 60000}}}}});
        let e = bounded(attack, 10).unwrap_err();
        assert!(e.contains("extended_bounds") && e.contains("1000"), "{e}");
        let ok = json!({"aggs": {"h": {"histogram": {"field": "n", "interval": 100,
            "extended_bounds": {"min": 0, "max": 60000}}}}});
        assert!(bounded(ok, 10).is_ok());
        let only_full = json!({"aggs": {"h": {"histogram": {"field": "n", "interval": 1,
            "min_doc_count": 1, "extended_bounds": {"min": 0, "max": 60000}}}}});
        assert!(bounded(only_full, 10).is_ok());
        let day = 86_400_000u64;
        let dates = |iv: (&str, &str), days: u64| {
            json!({"aggs": {"d": {"date_histogram": {"field": "t", iv.0: iv.1,
                "extended_bounds": {"min": 0, "max": days * day}}}}})
        };
        assert!(bounded(dates(("fixed_interval", "1d"), 900), 10).is_ok());
        assert!(bounded(dates(("fixed_interval", "1h"), 900), 10).is_err());
        assert!(bounded(dates(("calendar_interval", "month"), 20_000), 10).is_ok());
        assert!(bounded(dates(("calendar_interval", "1d"), 20_000), 10).is_err());
        assert!(bounded(dates(("calendar_interval", "fortnight"), 10), 10).is_err());
        let strings = json!({"aggs": {"d": {"date_histogram": {"field": "t", "fixed_interval": "1d",
            "extended_bounds": {"min": "now-10y", "max": "now"}}}}});
        assert!(bounded(strings, 10)
            .unwrap_err()
            .contains("epoch milliseconds"));
        // Nested deep inside another aggregation too.
        let deep = json!({"aggs": {"t": {"terms": {"field": "g"}, "aggs": {"h": {"histogram": {
            "field": "n", "interval": 0.001, "extended_bounds": {"min": 0, "max": 10}}}}}}});
        assert!(bounded(deep, 10).is_err());
    }
}
