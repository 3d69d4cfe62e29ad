//! The served `/openapi.json`: the committed document (`openapi.json`, one entry per route with
//! its own answers) completed at start with what holds for every route, so that no answer of the
//! server is left out: the framing errors any request can get (400, 414, 431), the body errors of
//! routes with a body (408, 413, 415), the 503s any request can get (handling deadline, shutdown),
//! `X-Request-Id` on every answer, and the enums of this server's skus and stores. It also states
//! this server's values of what the contract's prose promises (`info.description`): the seeded data
//! (`x-seed-data`), the kitchen's stations and times (`x-kitchen`) and the payment gateway's timeout
//! and circuit breaker (`x-payment-gateway`), so that a scenario or a second backend can rely on them.

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
    describe_server(&mut doc, config)?;
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

/// Writes this server's seeded data, kitchen and gateway settings into the root extensions.
fn describe_server(doc: &mut Value, config: &ServerConfig) -> anyhow::Result<()> {
    let menu: Vec<Value> = SEED_MENU
        .iter()
        .map(|(sku, name, price)| json!({"sku": sku, "name": name, "price_cents": price}))
        .collect();
    doc["x-seed-data"] = json!({
        "description": "Written on the first start of an empty data directory; a reused data \
                        directory keeps its earlier state (menu changes, stock, orders)",
        "stores": {"count": config.stores, "first": "store-1", "last": format!("store-{}", config.stores)},
        "menu": menu,
        "stock_per_store_per_sku": config.initial_stock,
    });
    let naive = config.naive();
    let stations: Vec<Value> = config
        .station_specs()
        .map_err(anyhow::Error::msg)?
        .iter()
        .map(|s| {
            let kinds: Vec<&str> = s.kinds.iter().map(|k| k.as_str()).collect();
            json!({"name": s.name, "order_types": kinds, "workers": s.workers,
                   "backlog": (!naive).then_some(s.backlog)})
        })
        .collect();
    let cook_on = match config.cook_on {
        crate::config::CookOn::Paid => "paid",
        crate::config::CookOn::Received => "received",
    };
    doc["x-kitchen"] = json!({
        "description": "backlog: orders admitted to the station and not yet ready beyond which POST \
                        /orders answers 503 (null: unbounded, the naive profile); max_attempts null: \
                        no limit",
        "cook_on": cook_on,
        "prep_time_ms": config.prep_time_ms,
        "unpaid_expiry_ms": config.unpaid_expiry_ms,
        "stations": stations,
        "max_attempts": (!naive).then_some(config.prep_max_attempts),
        "retry_backoff_ms": config.retry_backoff_ms,
        "heartbeat_timeout_ms": (!naive).then_some(config.heartbeat_timeout_ms),
        "statuses": ["received", "paid", "preparing", "retrying", "requeued", "ready", "expired", "dead_letter"],
        "terminal": ["ready", "expired", "dead_letter"],
    });
    let gateway = doc["x-payment-gateway"]
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("openapi.json has no x-payment-gateway"))?;
    gateway.insert(
        "timeout_ms".into(),
        json!((!naive).then_some(config.payment_timeout_ms)),
    );
    gateway.insert(
        "breaker".into(),
        match naive {
            true => Value::Null,
            false => json!({"threshold": config.breaker_threshold,
                            "cooldown_ms": config.breaker_cooldown_ms}),
        },
    );
    Ok(())
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

    #[test]
    fn the_seed_the_kitchen_and_the_gateway_are_stated_with_this_servers_values() {
        let cli = <crate::config::Cli as clap::Parser>::parse_from([
            "reference-server",
            "--stores",
            "3",
            "--initial-stock",
            "40",
            "--payment-timeout-ms",
            "850",
            "--stations",
            "grill:dine_in:4:300,counter:takeout+delivery:6:400",
        ]);
        let doc: Value = serde_json::from_slice(&document(&cli.server).unwrap()).unwrap();
        let seed = &doc["x-seed-data"];
        assert_eq!(seed["stores"]["last"], "store-3");
        assert_eq!(seed["stock_per_store_per_sku"], 40);
        assert_eq!(
            seed["menu"][2],
            json!({"sku": "latte", "name": "Latte", "price_cents": 450})
        );
        let stations = &doc["x-kitchen"]["stations"];
        assert_eq!(stations[1]["order_types"], json!(["takeout", "delivery"]));
        assert_eq!(stations[1]["backlog"], 400);
        assert_eq!(doc["x-kitchen"]["unpaid_expiry_ms"], 120_000);
        let gateway = &doc["x-payment-gateway"];
        assert_eq!(gateway["timeout_ms"], 850);
        assert_eq!(
            gateway["breaker"],
            json!({"threshold": 5, "cooldown_ms": 10_000})
        );
        assert_eq!(gateway["request"]["path"], "/charges");
        assert!(gateway["request"]["headers"]["Idempotency-Key"].is_string());
    }
}
