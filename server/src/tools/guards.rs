//! Guard rails on search bodies: no scripts unless `OPENSEARCH_ALLOW_SCRIPTS=true`, `from + size`
//! within OpenSearch's default `index.max_result_window`, and a server-side `timeout`.

use std::time::Duration;

use serde_json::{json, Map, Value};

/// Largest `from + size` a search may ask for (OpenSearch's default `index.max_result_window`;
/// deeper pages need `search_after`).
pub const MAX_RESULT_WINDOW: u64 = 10_000;

/// Keys that hold a script or a template without the word "script" in them: pipeline
/// aggregations that run one (`bucket_selector`), fields defined by one (`runtime_mappings`),
/// a query hidden in base64 (`wrapper`: OpenSearch decodes it as JSON, YAML, CBOR or SMILE, so
/// it cannot be checked here), search templates (`template`, `search_template`) and the phrase
/// suggester's `collate`, which renders a mustache template.
pub const SCRIPT_HOLDERS: [&str; 6] = [
    "bucket_selector",
    "runtime_mappings",
    "wrapper",
    "template",
    "search_template",
    "collate",
];

/// Whether a JSON key names a script: a word of it (split at `_`, `-`, `.` and lower-to-upper
/// case changes, compared without case) is `script`, `scripts` or `scripted` — `script`,
/// `_script`, `script_score`, `script_fields`, `scripted_metric`, `bucket_script`,
/// `init_script`, `minimum_should_match_script`, `script_heuristic`, and any spelling of them
/// such as `scriptScore` or `SCRIPT` — or it is one of [`SCRIPT_HOLDERS`] in any case.
/// `transcript` or `description` name no script.
pub fn names_script(key: &str) -> bool {
    if SCRIPT_HOLDERS.iter().any(|h| h.eq_ignore_ascii_case(key)) {
        return true;
    }
    let mut word_start = 0;
    let mut prev_lower = false;
    for (i, c) in key.char_indices() {
        let boundary = matches!(c, '_' | '-' | '.' | ' ');
        if boundary || (prev_lower && c.is_uppercase()) {
            if is_script_word(&key[word_start..i]) {
                return true;
            }
            word_start = if boundary { i + c.len_utf8() } else { i };
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    is_script_word(&key[word_start..])
}

/// `script`, `scripts` or `scripted`, in any case.
fn is_script_word(word: &str) -> bool {
    ["script", "scripts", "scripted"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(word))
}

/// The first key naming a script ([`names_script`]) at any depth of `body`.
pub fn find_script(body: &Value) -> Option<&str> {
    // An explicit stack, so a deeply nested body cannot overflow ours.
    let mut stack: Vec<&Value> = vec![body];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if names_script(k) {
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

/// Refuse a body with a script (or a `wrapper` or template, which may hide one) unless scripts
/// are allowed.
pub fn check_scripts(body: &Value, allow: bool) -> Result<(), String> {
    if allow {
        return Ok(());
    }
    match find_script(body) {
        Some(key) if key.eq_ignore_ascii_case("wrapper") => Err(format!(
            "scripts are not allowed on this server, and a `{key}` query may hide one in base64; send the decoded query DSL instead, or ask the operator to set OPENSEARCH_ALLOW_SCRIPTS=true"
        )),
        Some(key) => Err(format!(
            "scripts are not allowed on this server (the query has `{key}`); rewrite it without scripts, or ask the operator to set OPENSEARCH_ALLOW_SCRIPTS=true"
        )),
        None => Ok(()),
    }
}

/// Refuse a search body (an object) with a script unless scripts are allowed.
pub fn check_body_scripts(body: &Map<String, Value>, allow: bool) -> Result<(), String> {
    if allow {
        return Ok(());
    }
    if let Some(key) = body.keys().find(|k| names_script(k)) {
        return check_scripts(&json!({ key: null }), false);
    }
    body.values().try_for_each(|v| check_scripts(v, false))
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
    fn script_names_in_any_spelling_are_found_and_field_names_are_not() {
        for k in [
            "script",
            "_script",
            "Script",
            "SCRIPT",
            "script_score",
            "scriptScore",
            "ScriptScore",
            "script-score",
            "script_fields",
            "scriptFields",
            "scripted_metric",
            "scriptedMetric",
            "bucket_script",
            "bucketScript",
            "bucket_selector",
            "BUCKET_SELECTOR",
            "init_script",
            "map_script",
            "combine_script",
            "reduce_script",
            "minimum_should_match_script",
            "minimumShouldMatchScript",
            "script_heuristic",
            "runtime_mappings",
            "wrapper",
            "Wrapper",
            "template",
            "search_template",
            "collate",
            "doc.script",
        ] {
            assert!(names_script(k), "{k}");
        }
        for k in [
            "transcript",
            "Transcript",
            "description",
            "subscription",
            "scriptwriter",
            "manuscripts",
            "title",
            "bucket_sort",
            "scr",
            "",
            "_",
            "ünïcödé",
        ] {
            assert!(!names_script(k), "{k}");
        }
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        /// Keys a script can hide under: query compounds, aggregation names, sort, arrays.
        fn wrap(inner: Value, how: u8, name: &str) -> Value {
            match how % 9 {
                0 => json!({"bool": {"must": [inner]}}),
                1 => json!({"bool": {"filter": [{"match_all": {}}, inner]}}),
                2 => json!({"function_score": {"query": inner}}),
                3 => json!({"nested": {"path": name, "query": inner}}),
                4 => json!({"aggs": {name: {"terms": {"field": name}, "aggs": inner}}}),
                5 => json!({"dis_max": {"queries": [inner]}}),
                6 => json!([inner]),
                7 => json!({ name: inner }),
                _ => json!({"constant_score": {"filter": inner}}),
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// A script key at any depth under any wrappers is found.
            #[test]
            fn a_script_at_any_depth_is_found(
                key in prop::sample::select(vec![
                    "script", "_script", "script_score", "scriptScore", "SCRIPT",
                    "script_fields", "scripted_metric", "bucket_script", "bucket_selector",
                    "minimum_should_match_script", "init_script", "runtime_mappings",
                    "wrapper", "script_heuristic",
                ]),
                path in prop::collection::vec((any::<u8>(), "[a-z]{1,8}"), 0..40),
            ) {
                let mut body = json!({ key: {"source": "1"} });
                for (how, name) in &path {
                    body = wrap(body, *how, name);
                }
                prop_assert_eq!(find_script(&body), Some(key));
                prop_assert!(check_scripts(&body, false).is_err());
                if let Value::Object(m) = &body {
                    prop_assert!(check_body_scripts(m, false).is_err());
                }
            }

            /// The same wrappers around a plain clause are let through.
            #[test]
            fn no_script_is_found_where_there_is_none(
                path in prop::collection::vec((any::<u8>(), "[a-z]{1,8}"), 0..40),
            ) {
                let mut body = json!({"match": {"title": "script"}});
                for (how, name) in &path {
                    let name = if names_script(name) { "x" } else { name.as_str() };
                    body = wrap(body, *how, name);
                }
                prop_assert_eq!(find_script(&body), None);
            }
        }
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
