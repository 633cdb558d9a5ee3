//! Guard rails on search bodies: no scripts unless `OPENSEARCH_ALLOW_SCRIPTS=true`, `from + size`
//! within OpenSearch's default `index.max_result_window`, and a server-side `timeout`.

use std::time::Duration;

use serde_json::{json, Map, Value};

/// Largest `from + size` a search may ask for (OpenSearch's default `index.max_result_window`;
/// deeper pages need `search_after`).
pub const MAX_RESULT_WINDOW: u64 = 10_000;

/// Keys that run (or define) painless scripts anywhere in a search body: queries (`script`,
/// `script_score`), fields (`script_fields`, `runtime_mappings`), sorting (`_script`) and
/// aggregations (`scripted_metric`, `bucket_script`, `bucket_selector`). A document field with
/// one of these names used as a key (e.g. `{"term": {"script": ...}}`) is refused too.
pub const SCRIPT_KEYS: [&str; 8] = [
    "script",
    "script_score",
    "script_fields",
    "runtime_mappings",
    "_script",
    "scripted_metric",
    "bucket_script",
    "bucket_selector",
];

/// The first script key found in `body` at any depth.
pub fn find_script(body: &Value) -> Option<&str> {
    // An explicit stack, so a deeply nested body cannot overflow ours.
    let mut stack: Vec<&Value> = vec![body];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if SCRIPT_KEYS.contains(&k.as_str()) {
                        return Some(k);
                    }
                    stack.push(child);
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    None
}

/// Refuse a body with a script unless scripts are allowed.
pub fn check_scripts(body: &Value, allow: bool) -> Result<(), String> {
    if allow {
        return Ok(());
    }
    match find_script(body) {
        Some(key) => Err(format!(
            "scripts are not allowed on this server (the query has `{key}`); rewrite it without scripts, or ask the operator to set OPENSEARCH_ALLOW_SCRIPTS=true"
        )),
        None => Ok(()),
    }
}

/// Refuse `from + size` beyond [`MAX_RESULT_WINDOW`] (`from` from the body; `size` already capped).
pub fn check_window(body: &Map<String, Value>) -> Result<(), String> {
    let num = |k: &str| match body.get(k) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("`{k}` must be a whole number >= 0, got {v}")),
    };
    let (from, size) = (num("from")?, num("size")?);
    if from.saturating_add(size) > MAX_RESULT_WINDOW {
        return Err(format!(
            "from + size is {} but at most {MAX_RESULT_WINDOW} (OpenSearch's max_result_window); page deeper with `search_after` and a `sort`",
            from.saturating_add(size)
        ));
    }
    Ok(())
}

/// The server-side search `timeout` for a client deadline: 90% of it, so OpenSearch answers
/// with what it found (`timed_out: true`) before the server gives up waiting.
pub fn search_timeout(deadline: Duration) -> String {
    format!("{}ms", (deadline.as_millis() * 9 / 10).max(1))
}

/// Set the server-side `timeout` in a search body (any caller's value is replaced).
pub fn set_timeout(body: &mut Map<String, Value>, timeout: &str) {
    body.insert("timeout".into(), json!(timeout));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_found_at_any_depth() {
        let cases = [
            json!({"query": {"script": {"script": "true"}}}),
            json!({"query": {"bool": {"must": [{"match_all": {}}, {"function_score": {"script_score": {}}}]}}}),
            json!({"script_fields": {"x": {}}}),
            json!({"runtime_mappings": {"f": {"type": "long"}}}),
            json!({"sort": [{"_script": {"type": "number"}}]}),
            json!({"aggs": {"a": {"scripted_metric": {}}}}),
            json!({"aggs": {"a": {"terms": {"field": "x"}, "aggs": {"b": {"bucket_selector": {}}}}}}),
        ];
        for c in &cases {
            assert!(check_scripts(c, false).is_err(), "{c}");
            assert!(check_scripts(c, true).is_ok(), "{c}");
        }
        let e = check_scripts(&cases[1], false).unwrap_err();
        assert!(
            e.contains("script_score") && e.contains("OPENSEARCH_ALLOW_SCRIPTS"),
            "{e}"
        );
        assert!(check_scripts(&json!({"query": {"match": {"title": "script"}}}), false).is_ok());
        // Nesting deeper than serde_json parses (128) does not overflow the walk.
        let mut deep = json!({"script": 1});
        for _ in 0..1000 {
            deep = json!([{"a": deep}]);
        }
        assert_eq!(find_script(&deep), Some("script"));
    }

    #[test]
    fn from_plus_size_is_capped() {
        let body = |v: Value| v.as_object().unwrap().clone();
        assert!(check_window(&body(json!({"from": 9990, "size": 10}))).is_ok());
        let e = check_window(&body(json!({"from": 9991, "size": 10}))).unwrap_err();
        assert!(e.contains("10000") && e.contains("search_after"), "{e}");
        assert!(check_window(&body(json!({"from": u64::MAX, "size": 10}))).is_err());
        assert!(check_window(&body(json!({"from": -1}))).is_err());
        assert!(check_window(&body(json!({"from": "5"}))).is_err());
        assert!(check_window(&body(json!({}))).is_ok());
    }

    #[test]
    fn timeout_is_below_the_deadline() {
        assert_eq!(search_timeout(Duration::from_secs(30)), "27000ms");
        assert_eq!(search_timeout(Duration::from_millis(1)), "1ms");
    }
}
