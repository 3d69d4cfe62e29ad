//! One iteration of a flow: its steps in order, templates rendered, captures
//! taken from JSON answers, `until` polls bounded, `until_event` waits read
//! from an event stream (`sse`), think times slept. Each
//! request becomes one [`Sample`]; a step whose answer is not what it expects
//! ends the iteration (the steps after it depend on it).

use super::sink::Event;
use super::Engine;
use crate::record::{Finding, Outcome, Sample};
use crate::scenario::{Flow, Step, Think, Vars};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// What one simulated customer carries from iteration to iteration.
#[derive(Clone)]
pub(crate) struct UserState {
    pub(crate) index: u64,
    pub(crate) iteration: u64,
    pub(crate) rng: StdRng,
    /// This user's draw from each `[data]` list.
    pub(crate) data: Vec<String>,
    pub(crate) client: reqwest::Client,
}

impl UserState {
    /// A user's draws are a function of the scenario's seed and its number,
    /// so a run is repeatable.
    pub(crate) fn new(
        index: u64,
        seed: u64,
        data_lists: &[(String, Vec<String>)],
        client: reqwest::Client,
    ) -> UserState {
        let mut rng = StdRng::seed_from_u64(
            seed ^ (index.wrapping_add(1)).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let data = data_lists
            .iter()
            .map(|(_, values)| values[rng.random_range(0..values.len())].clone())
            .collect();
        UserState {
            index,
            iteration: 0,
            rng,
            data,
            client,
        }
    }
}

/// One request of a step: when it was due, and whether it is the last look
/// of a poll (then not seeing the awaited value is an error).
#[derive(Clone, Copy)]
struct Look {
    due: Instant,
    last: bool,
}

enum Answer {
    /// The JSON body (when the step reads it) and the response headers the
    /// step captures, in the order of its captures (`None` for a pointer).
    Ok(Option<serde_json::Value>, Vec<Option<String>>),
    /// An expected status the step says ends the flow.
    Leave,
    Stop,
    /// No answer at all (connection refused or reset, timeout).
    Unreachable,
}

impl Engine {
    /// Runs one iteration of `flow`; its first request is due at `intended`.
    /// Returns whether it ended because the target did not answer at all.
    pub(crate) async fn run_flow(
        &self,
        user: &mut UserState,
        flow: &Flow,
        iteration: u64,
        intended: Instant,
    ) -> bool {
        let key = format!("{}-u{}-i{}", self.nonce, user.index, iteration);
        let mut captures: Vec<Option<String>> = vec![None; flow.capture_slots];
        let mut due = intended;
        for (i, step) in flow.steps.iter().enumerate() {
            if self.stop.is_cancelled() || self.interrupted() {
                return false;
            }
            let attempts = step.until.as_ref().map_or(1, |u| u.max);
            for attempt in 1..=attempts {
                let look = Look {
                    due,
                    last: attempt == attempts,
                };
                let (body, headers) = match self
                    .send(user, step, iteration, &key, &captures, look)
                    .await
                {
                    Answer::Ok(body, headers) => (body, headers),
                    Answer::Stop | Answer::Leave => return false,
                    Answer::Unreachable => return true,
                };
                for ((slot, pointer), header) in step.captures.iter().zip(headers) {
                    if pointer.starts_with("header:") {
                        captures[*slot] = header;
                        continue;
                    }
                    let value = body.as_ref().and_then(|b| b.pointer(pointer));
                    captures[*slot] = value.map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
                let Some(until) = &step.until else { break };
                let done =
                    body.as_ref().and_then(|b| b.pointer(&until.pointer)) == Some(&until.equals);
                if done {
                    break;
                }
                if !self.pause(until.every).await {
                    return false;
                }
                due = Instant::now();
            }
            let think = match step.think {
                Think::None => Duration::ZERO,
                Think::Fixed(d) => d,
                Think::Range(a, b) => {
                    let (a, b) = (a.as_micros() as u64, b.as_micros() as u64);
                    Duration::from_micros(user.rng.random_range(a..=b))
                }
            };
            if !think.is_zero() && !self.pause(think).await {
                if i + 1 == flow.steps.len() {
                    // Every answer came as expected; only the last think was cut.
                    self.sink.send(Event::FlowCompleted);
                }
                return false;
            }
            due = Instant::now();
        }
        self.sink.send(Event::FlowCompleted);
        false
    }

    /// Sleeps, unless the run stops first (then `false`).
    async fn pause(&self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.stop.cancelled() => false,
        }
    }

    async fn send(
        &self,
        user: &mut UserState,
        step: &Step,
        iteration: u64,
        key: &str,
        captures: &[Option<String>],
        look: Look,
    ) -> Answer {
        let due = look.due;
        let req = self.request(user, step, iteration, key, captures);
        let wants_body =
            !step.captures.is_empty() || step.until.is_some() || step.until_event.is_some();
        let sent = Instant::now();
        let exchange = async {
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let headers = captured_headers(step, resp.headers());
            let bytes = match &step.until_event {
                Some(wait) if resp.status().is_success() => {
                    let deadline = tokio::time::Instant::from_std(due + wait.timeout);
                    super::sse::first_match(resp, wait, deadline).await?.into()
                }
                _ => resp.bytes().await?,
            };
            Ok::<_, reqwest::Error>((status, bytes, headers))
        };
        let result = tokio::select! {
            r = exchange => r,
            // Ctrl-C: drop what is in flight, record nothing half-measured.
            _ = self.abort.cancelled() => return Answer::Stop,
        };
        let done = Instant::now();
        if self.interrupted() {
            // Ctrl-C also reaches a bundled server: what fails after it is not the server's doing.
            return Answer::Stop;
        }
        let (result, headers) = match result {
            Ok((status, bytes, headers)) => (Ok((status, bytes)), headers),
            Err(e) => (Err(e), Vec::new()),
        };
        let checked = match &result {
            Ok((status, bytes)) => self.check_contract(step, *status, bytes),
            Err(_) => None,
        };
        let (status, outcome, body, gave_up) = classify(step, look, result, wants_body);
        if gave_up {
            self.sink
                .send(Event::Finding(step.request, Finding::GaveUp));
        }
        // An answer of the wrong shape is an error even with the right
        // status: whoever reads it would fail.
        let outcome = match checked {
            Some(false) if outcome == Outcome::Ok => Outcome::HttpError,
            _ => outcome,
        };
        let epoch = self.epoch();
        self.sink.send(Event::Sample(Sample {
            request: step.request,
            status,
            outcome,
            intended_us: due.saturating_duration_since(epoch).as_micros() as u64,
            latency_us: done.saturating_duration_since(due).as_micros() as u64,
            service_us: done.saturating_duration_since(sent).as_micros() as u64,
        }));
        match outcome {
            Outcome::Ok if step.end_flow_on.contains(&status) => Answer::Leave,
            Outcome::Ok => Answer::Ok(body, headers),
            Outcome::Timeout | Outcome::Transport => Answer::Unreachable,
            Outcome::Shed | Outcome::HttpError => Answer::Stop,
        }
    }

    /// The step's request with its templates rendered for this user and iteration.
    fn request(
        &self,
        user: &mut UserState,
        step: &Step,
        iteration: u64,
        key: &str,
        captures: &[Option<String>],
    ) -> reqwest::RequestBuilder {
        let mut vars = Vars {
            user: user.index,
            iteration,
            idempotency_key: key,
            data: &user.data,
            captures,
            rng: &mut user.rng,
        };
        let mut url = String::with_capacity(self.base_url.len() + 32);
        url.push_str(&self.base_url);
        step.path.render_into(&mut vars, &mut url);
        // An event wait is bounded by its own timeout (plus the request timeout to connect).
        let timeout = step
            .until_event
            .as_ref()
            .map_or(self.timeout, |u| u.timeout + self.timeout);
        let mut req = user
            .client
            .request(step.method.clone(), url)
            .timeout(timeout);
        if step.until_event.is_some() {
            req = req.header(reqwest::header::ACCEPT, "text/event-stream");
        }
        for (name, value) in &step.headers {
            let rendered = value.render(&mut vars);
            match reqwest::header::HeaderValue::from_str(&rendered) {
                Ok(mut v) => {
                    // Credentials never show in the HTTP stack's debug output.
                    if value.has_env() || crate::redact::is_sensitive_header(name.as_str()) {
                        v.set_sensitive(true);
                    }
                    req = req.header(name, v);
                }
                Err(_) => req = req.header(name, rendered),
            }
        }
        if let Some(body) = &step.body {
            let json =
                serde_json::to_vec(&body.render(&mut vars)).expect("a JSON value serializes");
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        req
    }
}

/// The response headers a step captures (`header:NAME`), in the order of its
/// captures; `None` for a capture from the body or a header not sent.
fn captured_headers(step: &Step, headers: &reqwest::header::HeaderMap) -> Vec<Option<String>> {
    step.captures
        .iter()
        .map(|(_, p)| {
            let name = p.strip_prefix("header:")?.trim();
            headers.get(name)?.to_str().ok().map(str::to_string)
        })
        .collect()
}

/// How an exchange ended: its status (0 without an answer), its outcome, its
/// JSON body when the step needs it (captures, polls) and it was expected,
/// and whether it was a poll's last look that gave up.
fn classify<B: AsRef<[u8]>>(
    step: &Step,
    look: Look,
    result: Result<(u16, B), reqwest::Error>,
    wants_body: bool,
) -> (u16, Outcome, Option<serde_json::Value>, bool) {
    match result {
        Ok((status, bytes)) => {
            let outcome = if status == 503 {
                Outcome::Shed
            } else if step.expects(status) {
                Outcome::Ok
            } else {
                Outcome::HttpError
            };
            let body = (wants_body && outcome == Outcome::Ok)
                .then(|| serde_json::from_slice::<serde_json::Value>(bytes.as_ref()).ok())
                .flatten();
            // The last look of a poll that still does not see its value is
            // an error: the flow waited on a state that never came (an
            // order never ready is the kitchen falling behind). So is an
            // event wait that ends without its event.
            let misses = |pointer: &str, equals: &serde_json::Value| {
                body.as_ref().and_then(|b| b.pointer(pointer)) != Some(equals)
            };
            let gave_up = look.last
                && outcome == Outcome::Ok
                && !step.end_flow_on.contains(&status)
                && (step
                    .until
                    .as_ref()
                    .is_some_and(|u| misses(&u.pointer, &u.equals))
                    || (step.until_event.as_ref()).is_some_and(|u| misses(&u.pointer, &u.equals)));
            let outcome = if gave_up { Outcome::HttpError } else { outcome };
            (status, outcome, body, gave_up)
        }
        Err(e) if e.is_timeout() => (0, Outcome::Timeout, None, false),
        Err(_) => (0, Outcome::Transport, None, false),
    }
}

impl Engine {
    /// Checks an answer of a `check = "openapi"` step against the target's
    /// contract and reports it: `Some(true)` when it matches, `Some(false)`
    /// when not, `None` when the step does not check.
    fn check_contract(&self, step: &Step, status: u16, body: &[u8]) -> Option<bool> {
        if !step.check_openapi {
            return None;
        }
        let contract = self.contract.as_ref()?;
        let why = contract.check(step.method.as_str(), &step.route, status, body);
        let matched = why.is_none();
        self.sink
            .send(Event::Finding(step.request, Finding::Checked(why)));
        Some(matched)
    }
}
