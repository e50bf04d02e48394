//! Checking a model's JSON output against the request's JSON schema, with the `jsonschema`
//! crate (the whole specification, drafts 4 to 2020-12: `oneOf` means exactly one,
//! `additionalProperties` may be a schema, `$ref`s inside the document resolve). The schema
//! is compiled once per call, before any provider is asked: a schema that is not valid JSON
//! Schema fails the call at once instead of failing every reply.

use serde_json::Value;

/// A request's schema, compiled.
pub(crate) struct Schema(jsonschema::Validator);

impl Schema {
    /// Compiles `schema`; `Err` says what is wrong with it.
    pub(crate) fn compile(schema: &Value) -> Result<Self, String> {
        jsonschema::validator_for(schema).map(Self).map_err(|e| {
            format!("json_schema is not a valid JSON Schema: {} ({e})", place(e.instance_path()))
        })
    }

    /// Checks `value`; the first violation, with its JSON pointer.
    pub(crate) fn validate(&self, value: &Value) -> Result<(), String> {
        self.0.validate(value).map_err(|e| format!("{}: {e}", place(e.instance_path())))
    }
}

/// A JSON pointer, `/` for the document itself.
fn place(at: &jsonschema::paths::Location) -> String {
    let at = at.to_string();
    if at.is_empty() { "/".to_owned() } else { at }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::compile(&json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 5},
                "kind": {"enum": ["a", "b"]},
                "n": {"type": "integer", "minimum": 0, "maximum": 10},
                "x": {"type": ["number", "null"]},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                "v": {"const": 1},
                "any": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                "one": {"oneOf": [{"type": "integer"}, {"minimum": 5}]},
                "map": {"type": "object", "additionalProperties": {"type": "integer"}}
            },
            "required": ["name"],
            "additionalProperties": false
        }))
        .expect("a valid schema")
    }

    #[test]
    fn valid_documents_pass() {
        let ok = json!({"name": "ab", "kind": "a", "n": 3, "x": null, "tags": ["t"], "v": 1, "any": true,
                        "one": 5.5, "map": {"a": 1}});
        assert_eq!(schema().validate(&ok), Ok(()));
        assert_eq!(schema().validate(&json!({"name": "x", "x": 1.5})), Ok(()));
        let integer = Schema::compile(&json!({"type": "integer"})).expect("schema");
        assert_eq!(integer.validate(&json!(3.0)), Ok(()));
        assert_eq!(
            Schema::compile(&json!(true)).expect("schema").validate(&json!(1)),
            Ok(()),
            "boolean schemas accept"
        );
    }

    #[test]
    fn violations_are_named_with_their_place() {
        let cases = [
            (json!([]), "/: [] is not of type \"object\""),
            (json!({}), "/: \"name\" is a required property"),
            (json!({"name": ""}), "/name: \"\" is shorter than 1"),
            (json!({"name": "toolong"}), "/name: \"toolong\" is longer than 5"),
            (json!({"name": "a", "kind": "c"}), "/kind: \"c\" is not one of"),
            (json!({"name": "a", "n": 11}), "/n: 11 is greater than the maximum of 10"),
            (json!({"name": "a", "n": -1}), "/n: -1 is less than the minimum of 0"),
            (json!({"name": "a", "n": 1.5}), "/n: 1.5 is not of type \"integer\""),
            (json!({"name": "a", "x": "s"}), "/x: \"s\" is not of types"),
            (json!({"name": "a", "tags": []}), "/tags: [] has less than 1 item"),
            (
                json!({"name": "a", "tags": ["a", "b", "c"]}),
                "/tags: [\"a\",\"b\",\"c\"] has more than 2 items",
            ),
            (json!({"name": "a", "tags": [1]}), "/tags/0: 1 is not of type \"string\""),
            (json!({"name": "a", "v": 2}), "/v: 1 was expected"),
            (
                json!({"name": "a", "any": 1}),
                "/any: 1 is not valid under any of the schemas listed in the 'anyOf'",
            ),
            (
                json!({"name": "a", "extra": 1}),
                "/: Additional properties are not allowed ('extra' was unexpected)",
            ),
        ];
        for (doc, want) in cases {
            let got = schema().validate(&doc).expect_err("invalid");
            assert!(got.starts_with(want), "{doc}: {got}");
        }
    }

    /// What the hand-rolled checker got wrong: `oneOf` taken as `anyOf`, and
    /// `additionalProperties` given as a schema ignored.
    #[test]
    fn one_of_means_exactly_one_and_additional_properties_may_be_a_schema() {
        let both =
            schema().validate(&json!({"name": "a", "one": 7})).expect_err("7 matches both alternatives");
        assert!(
            both.starts_with("/one: 7 is valid under more than one of the schemas listed in the 'oneOf'"),
            "{both}"
        );
        assert_eq!(schema().validate(&json!({"name": "a", "one": 2})), Ok(()), "2 matches only the first");
        let neither = schema().validate(&json!({"name": "a", "one": 2.5})).expect_err("2.5 matches neither");
        assert!(
            neither.starts_with("/one: 2.5 is not valid under any of the schemas listed in the 'oneOf'"),
            "{neither}"
        );
        let map = schema()
            .validate(&json!({"name": "a", "map": {"a": 1, "b": "two"}}))
            .expect_err("b is no integer");
        assert!(map.starts_with("/map/b: \"two\" is not of type \"integer\""), "{map}");
    }

    #[test]
    fn a_schema_that_is_not_json_schema_is_refused_with_its_place() {
        let e = Schema::compile(&json!({"type": "object", "properties": {"n": {"type": "whole"}}}))
            .err()
            .expect("unknown type name");
        assert!(e.starts_with("json_schema is not a valid JSON Schema: "), "{e}");
        assert!(e.contains("whole"), "{e}");
    }

    #[test]
    fn json_is_found_inside_fences() {
        assert_eq!(extract_json(" {\"a\": 1} "), Ok(json!({"a": 1})));
        assert_eq!(extract_json("```json\n{\"a\": 1}\n```"), Ok(json!({"a": 1})));
        assert_eq!(extract_json("```\n[1]\n```\n"), Ok(json!([1])));
        assert!(extract_json("Sure! {\"a\": 1}").expect_err("prose").contains("not valid JSON"));
    }
}
