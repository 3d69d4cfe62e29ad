//! summary.json against its committed JSON Schema: the schema itself is
//! valid, a summary that breaks it is caught, and every written summary is
//! checked with `assert_valid_summary`.

use super::known_run;
use harness::gate;
use std::path::Path;

fn schema() -> serde_json::Value {
    let text = include_str!("../../../schema/summary.schema.json");
    serde_json::from_str(text).expect("the committed schema is JSON")
}

pub(crate) fn assert_valid_summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft202012::new(&schema()).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "summary.json breaks its schema: {errors:#?}"
    );
    json
}

#[test]
fn the_committed_schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema();
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("summary.schema.json is not a valid JSON Schema: {e}");
    }
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn a_summary_that_breaks_the_schema_is_caught() {
    let mut json = serde_json::to_value(gate::summarize(&known_run(), &[])).unwrap();
    let validator = jsonschema::draft202012::new(&schema()).unwrap();
    assert!(validator.is_valid(&json));
    json["overall"]["shed_rate"] = serde_json::json!(1.5);
    json["verdict"] = serde_json::json!("maybe");
    json["surprise"] = serde_json::json!(true);
    assert_eq!(validator.iter_errors(&json).count(), 3);
}
