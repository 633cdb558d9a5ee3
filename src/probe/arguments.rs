//! Sensible arguments for a tool, built from its JSON input schema and what the probe has
//! learned so far (an index that exists, a document id in it), so `verify` can call every
//! read-only tool of a server it has never seen.

use serde_json::{json, Map, Value};

/// What earlier calls revealed about the cluster, used to fill in arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// An index that exists (preferably one with documents).
    pub index: Option<String>,
    /// The id of a document in [`Hints::index`].
    pub doc_id: Option<String>,
}

impl Hints {
    /// Learn what a tool's result reveals: an index from `list_indices`-like output, a document
    /// id from `search`-like output. Unknown shapes teach nothing. (The shell learns from whole
    /// results with [`Hints::learn_result`]; this is the text-only form its tests use.)
    #[cfg(test)]
    pub fn learn(&mut self, result_text: &str) {
        if let Ok(value) = serde_json::from_str::<Value>(result_text) {
            self.learn_value(&value);
        }
    }

    /// Learn from a whole tool result: its `structuredContent` (bare, wrapped as `{"result":
    /// ...}` the way FastMCP-style servers return lists, or `list_indices`' `{"success": true,
    /// "indices": [...]}`), then each text block on its own (older servers sent one JSON text
    /// block per list item).
    pub fn learn_result(&mut self, result: &rmcp::model::CallToolResult) {
        if let Some(structured) = &result.structured_content {
            self.learn_value(structured.get("result").unwrap_or(structured));
        }
        let rows: Vec<Value> = result
            .content
            .iter()
            .filter_map(|c| c.as_text())
            .filter_map(|t| serde_json::from_str::<Value>(&t.text).ok())
            .collect();
        match rows.as_slice() {
            [one] => self.learn_value(one),
            many if many.iter().all(Value::is_object) => {
                self.learn_value(&Value::Array(many.to_vec()))
            }
            many => many.iter().for_each(|v| self.learn_value(v)),
        }
    }

    /// Learn from one parsed JSON value.
    fn learn_value(&mut self, value: &Value) {
        if self.index.is_none() {
            self.index = pick_index(value);
        }
        if self.doc_id.is_none() {
            if let Some(hit) = value.pointer("/hits/hits/0") {
                self.doc_id = hit.get("_id").and_then(Value::as_str).map(str::to_string);
                if let Some(idx) = hit.get("_index").and_then(Value::as_str) {
                    self.index = Some(idx.to_string());
                }
            }
        }
    }
}

/// The first user index (not starting with `.`) in a `_cat/indices`-shaped list, preferring one
/// that holds documents.
fn pick_index(value: &Value) -> Option<String> {
    let rows = value
        .as_array()
        .or_else(|| value.get("indices").and_then(Value::as_array))?;
    let name = |r: &Value| r.get("index").and_then(Value::as_str).map(str::to_string);
    let docs = |r: &Value| {
        r.get("docs.count")
            .and_then(|d| {
                d.as_str()
                    .and_then(|s| s.parse::<u64>().ok())
                    .or(d.as_u64())
            })
            .unwrap_or(0)
    };
    let user: Vec<&Value> = rows
        .iter()
        .filter(|r| name(r).is_some_and(|n| !n.starts_with('.')))
        .collect();
    user.iter()
        .find(|r| docs(r) > 0)
        .or(user.first())
        .and_then(|r| name(r))
}

/// Arguments for a tool: every required property, plus `index` when the schema has one and an
/// index is known. Schema defaults and enums win over guesses.
pub fn arguments_for(schema: &Map<String, Value>, hints: &Hints) -> Value {
    let empty = Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut args = Map::new();
    for (name, prop) in props {
        let is_index = name == "index" || name == "index_name";
        if required.contains(&name.as_str()) || (is_index && hints.index.is_some()) {
            args.insert(name.clone(), value_for(name, prop, hints, schema));
        }
    }
    Value::Object(args)
}

/// A value for one property; `root` resolves `$ref`s into `$defs`.
fn value_for(name: &str, prop: &Value, hints: &Hints, root: &Map<String, Value>) -> Value {
    if let Some(default) = prop.get("default") {
        if !default.is_null() {
            return default.clone();
        }
    }
    if let Some(first) = prop
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    let name = name.to_ascii_lowercase();
    let types = schema_types(prop);
    let wants = |t: &str| types.iter().any(|x| x == t);
    let index = hints.index.clone().unwrap_or_else(|| "*".to_string());
    if name.contains("index") || name.contains("indices") {
        if wants("array") && !wants("string") {
            return json!([index]);
        }
        return Value::String(index);
    }
    if name == "id" || name.ends_with("_id") || name == "doc_id" {
        return Value::String(hints.doc_id.clone().unwrap_or_else(|| "1".to_string()));
    }
    if name == "query" || name == "body" {
        let query = json!({"match_all": {}});
        if wants("object") || types.is_empty() {
            return if name == "body" {
                json!({"query": query})
            } else {
                query
            };
        }
        if wants("string") {
            return Value::String("*".to_string());
        }
    }
    if wants("integer") || wants("number") {
        let min = prop.get("minimum").and_then(Value::as_i64).unwrap_or(0);
        let wanted = if name == "size" { 3 } else { 1 };
        return json!(min.max(wanted));
    }
    if wants("boolean") {
        return Value::Bool(false);
    }
    if wants("array") {
        // One item when items are objects (e.g. the searches of an msearch), else none.
        let item = prop.get("items").map(|i| resolve_ref(i, root));
        return match item.and_then(Value::as_object) {
            Some(item) if item.contains_key("properties") => {
                let mut args = arguments_for(item, hints);
                let has_query = item
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.contains_key("query"));
                if let (true, Value::Object(map)) = (has_query, &mut args) {
                    map.entry("query").or_insert(json!({"match_all": {}}));
                }
                json!([args])
            }
            _ => json!([]),
        };
    }
    if wants("object") {
        return json!({});
    }
    Value::String(String::new())
}

/// Follow a local `{"$ref": "#/$defs/Name"}` (or `#/definitions/Name`) within `root`.
fn resolve_ref<'a>(schema: &'a Value, root: &'a Map<String, Value>) -> &'a Value {
    let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
        return schema;
    };
    let mut parts = reference.trim_start_matches("#/").split('/');
    let (Some(section), Some(name)) = (parts.next(), parts.next()) else {
        return schema;
    };
    root.get(section)
        .and_then(|defs| defs.get(name))
        .unwrap_or(schema)
}

/// The JSON types a property allows (`type` as a string or a list, or `anyOf` branches).
fn schema_types(prop: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match prop.get("type") {
        Some(Value::String(t)) => out.push(t.clone()),
        Some(Value::Array(ts)) => out.extend(ts.iter().filter_map(Value::as_str).map(String::from)),
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = prop.get(key).and_then(Value::as_array) {
            for b in branches {
                out.extend(schema_types(b).into_iter().filter(|t| t != "null"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn learns_an_index_from_one_text_block_per_row_or_structured_content() {
        use rmcp::model::{CallToolResult, ContentBlock};
        let rows = [
            json!({"index": "empty", "docs.count": "0"}),
            json!({"index": "movies", "docs.count": "12"}),
        ];
        let blocks: Vec<ContentBlock> = rows
            .iter()
            .map(|r| ContentBlock::text(serde_json::to_string_pretty(r).unwrap()))
            .collect();
        let mut h = Hints::default();
        h.learn_result(&CallToolResult::success(blocks));
        assert_eq!(h.index.as_deref(), Some("movies"));

        let mut structured = CallToolResult::success(vec![]);
        structured.structured_content = Some(json!({"result": rows}));
        let mut h = Hints::default();
        h.learn_result(&structured);
        assert_eq!(h.index.as_deref(), Some("movies"));

        // The FastMCP 2.12 shape: one block {"success": true, "indices": [...]}.
        let body = json!({"success": true, "indices": rows});
        let mut fastmcp = CallToolResult::success(vec![ContentBlock::text(body.to_string())]);
        fastmcp.structured_content = Some(body);
        let mut h = Hints::default();
        h.learn_result(&fastmcp);
        assert_eq!(h.index.as_deref(), Some("movies"));
    }

    #[test]
    fn learns_an_index_with_documents_and_a_document_id() {
        let mut h = Hints::default();
        h.learn(r#"[{"index":".kibana","docs.count":"3"},{"index":"empty","docs.count":"0"},{"index":"movies","docs.count":"10"}]"#);
        assert_eq!(h.index.as_deref(), Some("movies"));
        h.learn(r#"{"hits":{"hits":[{"_index":"movies","_id":"318"}]}}"#);
        assert_eq!(h.doc_id.as_deref(), Some("318"));
        h.learn("not json");
        assert_eq!(h.index.as_deref(), Some("movies"));
    }

    #[test]
    fn fills_required_properties_by_name_and_type() {
        let h = Hints {
            index: Some("movies".into()),
            doc_id: Some("318".into()),
        };
        let s = schema(json!({
            "type": "object",
            "properties": {
                "index": {"type": "string"},
                "id": {"type": "string"},
                "query": {"type": "object"},
                "size": {"type": ["integer", "null"]},
                "verbose": {"type": "boolean"},
                "level": {"type": "string", "enum": ["cluster", "indices"]},
                "optional": {"type": "string"}
            },
            "required": ["id", "query", "size", "verbose", "level"]
        }));
        assert_eq!(
            arguments_for(&s, &h),
            json!({"index":"movies","id":"318","query":{"match_all":{}},"size":3,"verbose":false,"level":"cluster"})
        );
    }

    #[test]
    fn arrays_of_objects_get_one_item_through_refs() {
        let h = Hints {
            index: Some("movies".into()),
            doc_id: None,
        };
        let s = schema(json!({
            "$defs": {"Item": {"type": "object", "properties": {"index": {"type": ["string", "null"]}, "query": {}}}},
            "properties": {"searches": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
            "required": ["searches"]
        }));
        assert_eq!(
            arguments_for(&s, &h),
            json!({"searches": [{"index": "movies", "query": {"match_all": {}}}]})
        );
    }

    #[test]
    fn no_schema_properties_means_no_arguments_and_unknown_index_means_all() {
        assert_eq!(
            arguments_for(&schema(json!({"type":"object"})), &Hints::default()),
            json!({})
        );
        let s = schema(
            json!({"properties":{"indices":{"type":"array","items":{"type":"string"}}},"required":["indices"]}),
        );
        assert_eq!(
            arguments_for(&s, &Hints::default()),
            json!({"indices":["*"]})
        );
        let s = schema(
            json!({"properties":{"body":{"anyOf":[{"type":"object"},{"type":"null"}]}},"required":["body"]}),
        );
        assert_eq!(
            arguments_for(&s, &Hints::default()),
            json!({"body":{"query":{"match_all":{}}}})
        );
    }
}
