//! Checking a model's JSON output against the request's JSON schema.
//!
//! The subset of JSON Schema that structured-output APIs accept: `type` (a name or a list),
//! `properties`, `required`, `additionalProperties: false`, `items`, `enum`, `const`,
//! `minItems`/`maxItems`, `minLength`/`maxLength`, `minimum`/`maximum`, `anyOf`/`oneOf`.
//! Other keywords are ignored (accepted), so a stricter provider-side check is never
//! contradicted.

use serde_json::Value;

/// The JSON document in `text`: the whole text, or the inside of a ```json fence.
pub(crate) fn extract_json(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|s| s.trim_end().strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(inner.trim()).map_err(|e| format!("the reply is not valid JSON ({e})"))
}

/// Checks `value` against `schema`; the first violation, with its JSON pointer.
pub(crate) fn validate(value: &Value, schema: &Value) -> Result<(), String> {
    check(value, schema, "")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(v: &Value, name: &str) -> bool {
    let actual = type_name(v);
    actual == name
        || (name == "number" && actual == "integer")
        || (name == "integer" && v.as_f64().is_some_and(|f| f.fract() == 0.0))
}

fn check(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let Some(schema) = schema.as_object() else {
        return Ok(());
    };
    let place = if at.is_empty() { "/" } else { at };
    match schema.get("type") {
        Some(Value::String(t)) if !type_matches(value, t) => {
            return Err(format!("{place}: expected {t}, got {}", type_name(value)));
        }
        Some(Value::Array(ts)) if !ts.iter().filter_map(Value::as_str).any(|t| type_matches(value, t)) => {
            return Err(format!(
                "{place}: expected one of {}, got {}",
                Value::Array(ts.clone()),
                type_name(value)
            ));
        }
        _ => {}
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.contains(value)
    {
        return Err(format!("{place}: {value} is not one of {}", Value::Array(options.clone())));
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        return Err(format!("{place}: expected {c}"));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = schema.get(key)
            && !options.iter().any(|s| check(value, s, at).is_ok())
        {
            return Err(format!("{place}: matches none of the {key} alternatives"));
        }
    }
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(required)) = schema.get("required") {
                for name in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(name) {
                        return Err(format!("{place}: missing required property `{name}`"));
                    }
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (k, v) in map {
                match properties.and_then(|p| p.get(k)) {
                    Some(s) => check(v, s, &format!("{at}/{k}"))?,
                    None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        return Err(format!("{place}: property `{k}` is not allowed"));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && len < min
            {
                return Err(format!("{place}: {len} items, at least {min} required"));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && len > max
            {
                return Err(format!("{place}: {len} items, at most {max} allowed"));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item, item_schema, &format!("{at}/{i}"))?;
                }
            }
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                return Err(format!("{place}: shorter than {min} characters"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                return Err(format!("{place}: longer than {max} characters"));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                return Err(format!("{place}: {n} is below the minimum {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                return Err(format!("{place}: {n} is above the maximum {max}"));
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 5},
                "kind": {"enum": ["a", "b"]},
                "n": {"type": "integer", "minimum": 0, "maximum": 10},
                "x": {"type": ["number", "null"]},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                "v": {"const": 1},
                "any": {"anyOf": [{"type": "string"}, {"type": "boolean"}]}
            },
            "required": ["name"],
            "additionalProperties": false
        })
    }

    #[test]
    fn valid_documents_pass() {
        let ok = json!({"name": "ab", "kind": "a", "n": 3, "x": null, "tags": ["t"], "v": 1, "any": true});
        assert_eq!(validate(&ok, &schema()), Ok(()));
        assert_eq!(validate(&json!({"name": "x", "x": 1.5}), &schema()), Ok(()));
        assert_eq!(validate(&json!(3.0), &json!({"type": "integer"})), Ok(()));
        assert_eq!(validate(&json!(1), &json!(true)), Ok(()), "boolean schemas accept");
    }

    #[test]
    fn violations_are_named_with_their_place() {
        let cases = [
            (json!([]), "/: expected object"),
            (json!({}), "missing required property `name`"),
            (json!({"name": ""}), "/name: shorter"),
            (json!({"name": "toolong"}), "/name: longer"),
            (json!({"name": "a", "kind": "c"}), "/kind: \"c\" is not one of"),
            (json!({"name": "a", "n": 11}), "/n: 11 is above"),
            (json!({"name": "a", "n": -1}), "/n: -1 is below"),
            (json!({"name": "a", "n": 1.5}), "/n: expected integer"),
            (json!({"name": "a", "x": "s"}), "/x: expected one of"),
            (json!({"name": "a", "tags": []}), "/tags: 0 items"),
            (json!({"name": "a", "tags": ["a", "b", "c"]}), "/tags: 3 items"),
            (json!({"name": "a", "tags": [1]}), "/tags/0: expected string"),
            (json!({"name": "a", "v": 2}), "/v: expected 1"),
            (json!({"name": "a", "any": 1}), "/any: matches none"),
            (json!({"name": "a", "extra": 1}), "`extra` is not allowed"),
        ];
        for (doc, want) in cases {
            let got = validate(&doc, &schema()).expect_err("invalid");
            assert!(got.contains(want), "{doc}: {got}");
        }
    }

    #[test]
    fn json_is_found_inside_fences() {
        assert_eq!(extract_json(" {\"a\": 1} "), Ok(json!({"a": 1})));
        assert_eq!(extract_json("```json\n{\"a\": 1}\n```"), Ok(json!({"a": 1})));
        assert_eq!(extract_json("```\n[1]\n```\n"), Ok(json!([1])));
        assert!(extract_json("Sure! {\"a\": 1}").expect_err("prose").contains("not valid JSON"));
    }
}
