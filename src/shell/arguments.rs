//! `call TOOL` with required arguments missing: which ones, from the tool's input schema, and
//! how to turn a typed answer into a JSON value of the schema's type.

use serde_json::{Map, Value};

/// A required property the caller did not give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// Property name.
    pub name: String,
    /// Its JSON Schema type (`any` when the schema does not say).
    pub kind: String,
    /// Its description, if any.
    pub description: Option<String>,
}

impl Missing {
    /// The prompt shown on a terminal, e.g. `index (string, required: Index name): `.
    pub fn prompt(&self) -> String {
        match &self.description {
            Some(d) => format!(
                "{} ({}, required: {}): ",
                self.name,
                self.kind,
                first_line(d)
            ),
            None => format!("{} ({}, required): ", self.name, self.kind),
        }
    }
}

/// The schema's `required` properties that `given` lacks, in the schema's order.
pub fn missing_required(schema: &Map<String, Value>, given: &Map<String, Value>) -> Vec<Missing> {
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let props = schema.get("properties").and_then(Value::as_object);
    required
        .iter()
        .filter_map(Value::as_str)
        .filter(|name| !given.contains_key(*name))
        .map(|name| {
            let prop = props.and_then(|p| p.get(name));
            Missing {
                name: name.to_string(),
                kind: prop.map(type_of).unwrap_or_else(|| "any".into()),
                description: prop
                    .and_then(|p| p.get("description"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }
        })
        .collect()
}

/// A property's type: `type` (the first non-null one of a list), else `any`.
fn type_of(prop: &Value) -> String {
    match prop.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("any")
            .to_string(),
        _ => "any".into(),
    }
}

/// A typed answer as a value of `kind`: strings as typed, everything else as JSON.
pub fn parse_answer(kind: &str, text: &str) -> Result<Value, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a value is required".into());
    }
    if kind == "string" {
        return Ok(Value::String(text.to_string()));
    }
    if kind == "any" {
        // JSON when it is JSON, else the text as a string.
        return Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("expected a JSON {kind} ({e}), e.g. {}", example(kind)))?;
    let fits = match kind {
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        _ => true,
    };
    if fits {
        Ok(value)
    } else {
        Err(format!("expected a {kind}, e.g. {}", example(kind)))
    }
}

fn example(kind: &str) -> &'static str {
    match kind {
        "integer" => "10",
        "number" => "1.5",
        "boolean" => "true",
        "object" => "{\"match_all\": {}}",
        "array" => "[\"a\", \"b\"]",
        _ => "\"text\"",
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_required_properties_not_given() {
        let schema = json!({"type": "object",
            "properties": {"index": {"type": "string", "description": "Index name"},
                           "id": {"type": "string"}, "size": {"type": ["integer", "null"]}},
            "required": ["index", "id", "size"]});
        let schema = schema.as_object().unwrap();
        let given = json!({"id": "1"});
        let missing = missing_required(schema, given.as_object().unwrap());
        assert_eq!(
            missing.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            ["index", "size"]
        );
        assert_eq!(missing[1].kind, "integer");
        assert_eq!(
            missing[0].prompt(),
            "index (string, required: Index name): "
        );
        assert!(missing_required(&Map::new(), &Map::new()).is_empty());
    }

    #[test]
    fn answers_are_parsed_by_type() {
        assert_eq!(parse_answer("string", " movies ").unwrap(), json!("movies"));
        assert_eq!(parse_answer("integer", "3").unwrap(), json!(3));
        assert!(parse_answer("integer", "3.5")
            .unwrap_err()
            .contains("integer"));
        assert_eq!(parse_answer("boolean", "true").unwrap(), json!(true));
        assert_eq!(
            parse_answer("object", r#"{"match_all":{}}"#).unwrap(),
            json!({"match_all": {}})
        );
        assert!(parse_answer("object", "{")
            .unwrap_err()
            .contains("JSON object"));
        assert!(parse_answer("string", "  ").is_err());
        assert_eq!(parse_answer("any", r#"{"a":1}"#).unwrap(), json!({"a": 1}));
        assert_eq!(parse_answer("any", "plain").unwrap(), json!("plain"));
    }
}
