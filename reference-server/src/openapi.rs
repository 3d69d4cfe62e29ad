//! The served `/openapi.json`: the committed document (`openapi.json`, one entry per route with
//! its own answers) completed at start with what holds for every route, so that no answer of the
//! server is left out: the framing errors any request can get (400, 414, 431), the body errors of
//! routes with a body (408, 413, 415), the 503s any request can get (handling deadline, shutdown),
//! `X-Request-Id` on every answer, and the enums of this server's skus and stores.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::{config::ServerConfig, store::SEED_MENU};

const TEMPLATE: &str = include_str!("openapi.json");

/// Routes whose answers do not touch the store, so cannot fail with a 500 or a deadline 503.
const STATIC_ROUTES: [&str; 3] = ["/health", "/metrics", "/openapi.json"];

/// The document this server serves, as bytes ready to send.
pub(crate) fn document(config: &ServerConfig) -> anyhow::Result<Bytes> {
    let mut doc: Value = serde_json::from_str(TEMPLATE)?;
    let schemas = &mut doc["components"]["schemas"];
    schemas["Sku"]["enum"] = SEED_MENU.iter().map(|(sku, _, _)| json!(sku)).collect();
    schemas["StoreId"]["enum"] = (1..=config.stores)
        .map(|n| json!(format!("store-{n}")))
        .collect();
    doc["components"]["headers"] = json!({"RequestId": {
        "description": "The client's own X-Request-Id when it is 1 to 128 visible ASCII characters, else one drawn by the server",
        "required": true,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128}
    }});
    let paths = doc["paths"]
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("openapi.json has no paths"))?;
    for (path, item) in paths.iter_mut() {
        let item = item.as_object_mut().into_iter().flat_map(Map::values_mut);
        for operation in item {
            complete(operation, !STATIC_ROUTES.contains(&path.as_str()));
        }
    }
    Ok(Bytes::from(serde_json::to_vec(&doc)?))
}

/// Adds the answers every operation can give and `X-Request-Id` on each.
fn complete(operation: &mut Value, uses_store: bool) {
    let has_body = operation.get("requestBody").is_some();
    let responses = operation["responses"]
        .as_object_mut()
        .expect("every operation lists its responses");
    let mut common = vec![
        ("400", "The request could not be parsed (framing, headers)"),
        ("414", "The request target is longer than 65534 bytes"),
        ("431", "The request head is too large"),
    ];
    if has_body {
        common.extend([
            ("408", "The request body did not arrive in time"),
            (
                "413",
                "The request body is larger than the configured limit",
            ),
            (
                "415",
                "The body was not sent as Content-Type: application/json",
            ),
        ]);
    }
    if uses_store {
        common.push(("500", "Internal error (its cause is logged, not sent)"));
    }
    for (status, description) in common {
        responses
            .entry(status)
            .or_insert_with(|| error_response(description));
    }
    let unavailable = "The server is busy or stopping (`timeout`: not handled in time, \
                       `shutting_down`, `too_many_connections`): retry after Retry-After seconds";
    match responses.get_mut("503") {
        Some(existing) => {
            let own = existing["description"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            existing["description"] = json!(format!("{own}; or: {unavailable}"));
        }
        None => {
            let mut answer = error_response(unavailable);
            answer["headers"] = json!({"Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer", "minimum": 1}
            }});
            responses.insert("503".into(), answer);
        }
    }
    for answer in responses.values_mut() {
        if answer.get("headers").is_none() {
            answer["headers"] = json!({});
        }
        answer["headers"]["X-Request-Id"] = json!({"$ref": "#/components/headers/RequestId"});
    }
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Value {
        let cli = <crate::config::Cli as clap::Parser>::parse_from(["reference-server"]);
        serde_json::from_slice(&document(&cli.server).unwrap()).unwrap()
    }

    #[test]
    fn every_operation_lists_the_framing_errors_and_a_request_id_on_every_answer() {
        let doc = served();
        let create = &doc["paths"]["/orders"]["post"]["responses"];
        for status in [
            "400", "408", "413", "414", "415", "422", "431", "500", "503",
        ] {
            assert!(create.get(status).is_some(), "POST /orders lacks {status}");
        }
        let health = &doc["paths"]["/health"]["get"]["responses"];
        assert!(health.get("415").is_none() && health.get("500").is_none());
        for (_, item) in doc["paths"].as_object().unwrap() {
            for (_, op) in item.as_object().unwrap() {
                for (status, answer) in op["responses"].as_object().unwrap() {
                    assert!(answer["headers"]["X-Request-Id"].is_object(), "{status}");
                }
            }
        }
    }

    #[test]
    fn skus_and_stores_are_listed_as_this_server_has_them() {
        let doc = served();
        let skus = doc["components"]["schemas"]["Sku"]["enum"]
            .as_array()
            .unwrap();
        assert_eq!(skus.len(), SEED_MENU.len());
        let stores = doc["components"]["schemas"]["StoreId"]["enum"]
            .as_array()
            .unwrap();
        assert_eq!(stores.len(), 20);
        assert_eq!(stores[0], "store-1");
    }
}
