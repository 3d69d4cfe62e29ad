//! One operation of an OpenAPI document, as a step sees it: the document's
//! path that matches the step's path (`/orders/{{order_id}}` matches
//! `/orders/{id}`), the operation for its method, and a compiled JSON Schema
//! validator per declared answer. OpenAPI 3.1 schemas are JSON Schema 2020-12,
//! so each response schema is compiled with the document's `components` beside
//! it, where its `$ref`s point.

use super::MAX_ERRORS;
use jsonschema::Validator;
use serde_json::{Map, Value};

/// A declared answer: which statuses it covers and what body it promises.
struct Answer {
    /// "200", "2XX" or "default", as the document writes it.
    status: String,
    /// `None` when the answer declares no JSON body to check.
    schema: Option<Validator>,
}

pub(super) struct Operation {
    /// `operationId`, or "METHOD /path" of the document.
    label: String,
    answers: Vec<Answer>,
}

impl Operation {
    /// The operation of `doc` that a step sending `method` to `route` (the
    /// path as written in the scenario, templates included) reaches.
    pub(super) fn resolve(doc: &Value, method: &str, route: &str) -> Result<Operation, String> {
        let paths = doc["paths"].as_object().expect("checked when fetched");
        let route_path = route.split('?').next().unwrap_or(route);
        let (path, item) = paths
            .iter()
            .filter_map(|(p, item)| match_score(p, route_path).map(|s| (s, p, item)))
            .max_by_key(|(s, _, _)| *s)
            .map(|(_, p, item)| (p, item))
            .ok_or_else(|| {
                format!("{method} {route}: the target's /openapi.json has no path for it")
            })?;
        let op = item.get(method.to_ascii_lowercase()).ok_or_else(|| {
            format!("{method} {route}: {path} in the target's /openapi.json has no {method}")
        })?;
        let label = op["operationId"]
            .as_str()
            .map_or_else(|| format!("{method} {path}"), str::to_string);
        let components = doc.get("components").cloned().unwrap_or(Value::Null);
        let mut answers = Vec::new();
        for (status, response) in op["responses"].as_object().into_iter().flatten() {
            let schema = match json_schema(response) {
                Some(schema) => Some(compile(schema, &components).map_err(|e| {
                    format!("{label}: the schema of answer {status} does not compile: {e}")
                })?),
                None => None,
            };
            answers.push(Answer {
                status: status.clone(),
                schema,
            });
        }
        Ok(Operation { label, answers })
    }

    /// Why this answer breaks the contract, or `None`.
    pub(super) fn check(&self, status: u16, body: &[u8]) -> Option<String> {
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let answer = self
            .answers
            .iter()
            .find(|a| a.status == code)
            .or_else(|| {
                self.answers
                    .iter()
                    .find(|a| a.status.eq_ignore_ascii_case(&range))
            })
            .or_else(|| self.answers.iter().find(|a| a.status == "default"));
        let Some(answer) = answer else {
            return Some(format!(
                "{}: status {status} is not a documented answer",
                self.label
            ));
        };
        let schema = answer.schema.as_ref()?;
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Some(format!(
                    "{} {status}: the body is not JSON ({e})",
                    self.label
                ))
            }
        };
        let errors: Vec<String> = schema
            .iter_errors(&value)
            .take(MAX_ERRORS)
            .map(|e| {
                let at = e.instance_path.to_string();
                format!("{} at {}", e, if at.is_empty() { "/" } else { &at })
            })
            .collect();
        (!errors.is_empty()).then(|| format!("{} {status}: {}", self.label, errors.join("; ")))
    }
}

/// How well a document path (`/orders/{id}`) fits a step's path
/// (`/orders/{{order_id}}`): `None` when it does not, else the number of
/// literal segments that agree, so `/orders/history` beats `/orders/{id}`.
fn match_score(doc_path: &str, route: &str) -> Option<usize> {
    let doc: Vec<&str> = doc_path.trim_end_matches('/').split('/').collect();
    let step: Vec<&str> = route.trim_end_matches('/').split('/').collect();
    if doc.len() != step.len() {
        return None;
    }
    let mut literal = 0;
    for (d, s) in doc.iter().zip(&step) {
        let param = d.starts_with('{') && d.ends_with('}');
        if param {
            if s.is_empty() {
                return None;
            }
        } else if d == s {
            literal += 1;
        } else {
            return None;
        }
    }
    Some(literal)
}

/// The JSON body schema an answer declares, if any.
fn json_schema(response: &Value) -> Option<&Value> {
    let content = response.get("content")?.as_object()?;
    content
        .iter()
        .find(|(media, _)| media.starts_with("application/json") || media.ends_with("+json"))
        .and_then(|(_, m)| m.get("schema"))
}

/// Compiles `schema` with the document's `components` at the root, so that
/// `#/components/schemas/...` references resolve.
fn compile(schema: &Value, components: &Value) -> Result<Validator, String> {
    let mut root = match schema {
        Value::Object(o) => o.clone(),
        other => {
            let mut m = Map::new();
            m.insert("allOf".into(), Value::Array(vec![other.clone()]));
            m
        }
    };
    if !components.is_null() {
        root.insert("components".into(), components.clone());
    }
    jsonschema::draft202012::new(&Value::Object(root)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": {
                "/orders/{id}": {"get": {"operationId": "getOrder", "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                    "404": {"description": "unknown"}
                }}},
                "/orders/history": {"get": {"operationId": "literal", "responses": {"200": {}}}}
            },
            "components": {"schemas": {"Order": {
                "type": "object", "required": ["id", "status"],
                "properties": {"id": {"type": "string"}, "status": {"enum": ["paid", "ready"]}}
            }}}
        })
    }

    #[test]
    fn a_templated_step_path_finds_its_documented_operation() {
        let op = Operation::resolve(&doc(), "GET", "/orders/{{order_id}}").unwrap();
        assert_eq!(op.label, "getOrder");
        let literal = Operation::resolve(&doc(), "GET", "/orders/history").unwrap();
        assert_eq!(
            literal.label, "literal",
            "a literal segment beats a parameter"
        );
    }

    #[test]
    fn an_answer_of_the_promised_shape_passes_and_a_wrong_one_is_named() {
        let op = Operation::resolve(&doc(), "GET", "/orders/{{id}}").unwrap();
        assert_eq!(op.check(200, br#"{"id":"a","status":"paid"}"#), None);
        assert_eq!(op.check(404, b"anything"), None, "no body is promised");
        let wrong = op.check(200, br#"{"id":7}"#).expect("a mismatch");
        assert!(wrong.contains("getOrder 200"), "{wrong}");
        assert!(
            wrong.contains("status"),
            "the missing field is named: {wrong}"
        );
        let undocumented = op.check(418, b"").expect("an undocumented status");
        assert!(undocumented.contains("418"), "{undocumented}");
    }

    #[test]
    fn a_route_the_document_does_not_declare_is_reported() {
        let why = Operation::resolve(&doc(), "GET", "/menu").err().unwrap();
        assert!(why.contains("no path"), "{why}");
        let why = Operation::resolve(&doc(), "POST", "/orders/{{id}}")
            .err()
            .unwrap();
        assert!(why.contains("has no POST"), "{why}");
    }
}
