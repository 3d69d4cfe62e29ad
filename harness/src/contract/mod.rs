//! The target's own contract: `check = "openapi"` on a step validates each
//! answer against the response schema that the target's `/openapi.json`
//! declares for that route, method and status. The document is fetched once,
//! before the load starts; every checked step is resolved against it then,
//! so the hot path only runs a compiled validator. A target without a usable
//! document, or a step whose route it does not declare, is not an error of
//! the run: every answer of that step is counted as a mismatch, with the
//! reason, so a comparison shows which backend does not answer as promised.

mod operation;

use crate::scenario::Scenario;
use operation::Operation;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// How long the one fetch of `/openapi.json` may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Schema errors named per answer (the first ones; one is usually enough).
const MAX_ERRORS: usize = 3;

/// Each checked step's operation in the target's document, by (method, path
/// as written in the scenario).
pub(crate) struct Contract {
    steps: HashMap<(String, String), Result<Operation, String>>,
}

impl Contract {
    /// Fetches `{base_url}/openapi.json` when any step of `scenario` checks
    /// its answers; `None` when none does. The second value is a note for the
    /// report when the document could not be used.
    pub(crate) async fn fetch(
        base_url: &str,
        scenario: &Scenario,
        client: &reqwest::Client,
    ) -> (Option<Contract>, Option<String>) {
        let checked: Vec<(String, String)> = scenario
            .flows
            .iter()
            .flat_map(|f| &f.steps)
            .filter(|s| s.check_openapi)
            .map(|s| (s.method.as_str().to_string(), s.route.clone()))
            .collect();
        if checked.is_empty() {
            return (None, None);
        }
        let url = format!("{}/openapi.json", base_url.trim_end_matches('/'));
        let doc = match get_document(client, &url).await {
            Ok(doc) => Ok(doc),
            Err(why) => Err(format!("{url}: {why}")),
        };
        let note = doc.as_ref().err().map(|why| {
            format!("answers could not be checked against the contract: {why}; every checked answer counts as a mismatch")
        });
        let steps = checked
            .into_iter()
            .map(|key| {
                let op = match &doc {
                    Ok(doc) => Operation::resolve(doc, &key.0, &key.1),
                    Err(why) => Err(format!("no contract ({why})")),
                };
                (key, op)
            })
            .collect();
        (Some(Contract { steps }), note)
    }

    /// Why an answer does not match the contract, or `None` when it does.
    pub(crate) fn check(
        &self,
        method: &str,
        route: &str,
        status: u16,
        body: &[u8],
    ) -> Option<String> {
        match self.steps.get(&(method.to_string(), route.to_string())) {
            Some(Ok(op)) => op.check(status, body),
            Some(Err(why)) => Some(why.clone()),
            None => Some(format!(
                "{method} {route} was not resolved against the contract"
            )),
        }
    }
}

async fn get_document(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let resp = client
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("could not be fetched ({e})"))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("could not be read ({e})"))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| format!("is not JSON ({e})"))?;
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err("is not an OpenAPI document (no `paths` object)".into());
    }
    Ok(doc)
}
