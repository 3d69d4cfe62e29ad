//! Flows and their steps: methods, templated paths, headers and bodies,
//! think times, expected statuses, captures, polls and event waits. A `{{name}}` must be
//! built in, a `[data]` list, or captured by an earlier step of the flow.

use super::error::ScenarioError;
use super::template::{Names, Template};
use super::validate::Validator;
use super::{duration, raw, BodyNode, Flow, Step, Think, Until, UntilEvent};
use crate::record::RequestIdx;
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

const BUILTINS: &str = "user, iteration, idempotency_key, uuid, random:a,b,c, int:1,5, env.NAME";

impl Validator<'_> {
    pub(super) fn flow(
        &mut self,
        i: usize,
        flow: &Spanned<raw::Flow>,
        data: &BTreeMap<&str, usize>,
        total: Duration,
    ) -> Result<Flow, ScenarioError> {
        let f = flow.get_ref();
        let field = format!("flows[{i}]");
        let at = match &f.at {
            Some(at) => {
                let d = self.duration(at, &format!("{field}.at"))?;
                if d >= total {
                    return self.err(
                        at.span(),
                        format!("{field}.at"),
                        format!("`at` is after the load ends ({})", duration::show(total)),
                    );
                }
                Some(d)
            }
            None => None,
        };
        let weight = f.weight.as_ref().map_or(1, |w| *w.get_ref());
        if at.is_none() || weight > 0 {
            super::bounds::weight(weight).or_else(|m| {
                self.err(
                    f.weight.as_ref().map_or(flow.span(), Spanned::span),
                    format!("{field}.weight"),
                    m,
                )
            })?;
        }
        if f.steps.is_empty() {
            return self.err(
                flow.span(),
                format!("{field}.steps"),
                "a flow needs at least one `[[flows.steps]]`",
            );
        }
        let all: Vec<String> = f
            .steps
            .iter()
            .flat_map(|s| s.get_ref().capture.keys().cloned())
            .collect();
        let mut names = FlowNames {
            flow: f.name.get_ref().clone(),
            data,
            known: Vec::new(),
            all,
        };
        let mut steps = Vec::new();
        for (j, s) in f.steps.iter().enumerate() {
            steps.push(self.step(&format!("{field}.steps[{j}]"), s, &mut names)?);
        }
        Ok(Flow {
            name: f.name.get_ref().clone(),
            weight,
            at,
            steps,
            capture_slots: names.known.len(),
        })
    }

    /// One step: each part checked by its own function below, in the order
    /// the file reads (method, path, headers, body, think, expect, until,
    /// end_flow_on, capture), so the first bad field is the one reported.
    fn step(
        &mut self,
        field: &str,
        step: &Spanned<raw::Step>,
        names: &mut FlowNames<'_>,
    ) -> Result<Step, ScenarioError> {
        let s = step.get_ref();
        let (method_text, method) = self.method(field, &s.method)?;
        if !s.path.get_ref().starts_with('/') {
            return self.err(
                s.path.span(),
                format!("{field}.path"),
                "the path must start with `/` (the target's URL is put before it)",
            );
        }
        let path = Template::compile(s.path.get_ref(), names)
            .or_else(|m| self.err(s.path.span(), format!("{field}.path"), m))?;
        let headers = self.headers(field, &s.headers, names)?;
        let body = match &s.body {
            Some(b) => Some(
                body_node(b.get_ref(), names)
                    .or_else(|m| self.err(b.span(), format!("{field}.body"), m))?,
            ),
            None => None,
        };
        let think = match &s.think {
            None => Think::None,
            Some(t) => self.think(field, t)?,
        };
        let expect = self.expect(field, s.expect.as_ref())?;
        let until = match &s.until {
            Some(u) => Some(self.until(field, u)?),
            None => None,
        };
        let until_event = match &s.until_event {
            Some(u) => Some(self.until_event(field, &method, s.until.is_some(), u)?),
            None => None,
        };
        let end_flow_on = match &s.end_flow_on {
            Some(e) => self.end_flow_on(field, e, &expect)?,
            None => Vec::new(),
        };
        let captures = self.captures(field, &s.capture, names)?;
        let check_openapi = match &s.check {
            None => false,
            Some(c) if c.get_ref() == "openapi" => true,
            Some(c) => {
                return self.err(
                    c.span(),
                    format!("{field}.check"),
                    format!(
                        "unknown check {:?}: the one check is \"openapi\" (each answer against \
                         the response schema of the target's /openapi.json)",
                        c.get_ref()
                    ),
                )
            }
        };
        let request_name = s
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {}", method_text, s.path.get_ref()));
        Ok(Step {
            request: self.request_idx(request_name),
            method,
            path,
            headers,
            body,
            think,
            expect,
            captures,
            until,
            until_event,
            end_flow_on,
            route: s.path.get_ref().clone(),
            check_openapi,
        })
    }

    fn until_event(
        &self,
        field: &str,
        method: &reqwest::Method,
        polls: bool,
        u: &Spanned<raw::UntilEvent>,
    ) -> Result<UntilEvent, ScenarioError> {
        let r = u.get_ref();
        let at = format!("{field}.until_event");
        if polls || method != reqwest::Method::GET {
            return self.err(
                u.span(),
                at,
                "`until_event` waits on a GET's event stream; it cannot go with `until` (a poll) or another method",
            );
        }
        if !r.pointer.get_ref().starts_with('/') {
            return self.err(
                r.pointer.span(),
                format!("{at}.pointer"),
                "a JSON pointer into each event's data, such as \"/status\"",
            );
        }
        let timeout = self.duration(&r.timeout, &format!("{at}.timeout"))?;
        if timeout.is_zero() {
            return self.err(
                r.timeout.span(),
                format!("{at}.timeout"),
                "the wait needs a timeout above zero, e.g. \"5m\"",
            );
        }
        let equals = serde_json::to_value(&r.equals)
            .or_else(|e| self.err(u.span(), format!("{at}.equals"), e.to_string()))?;
        Ok(UntilEvent {
            pointer: r.pointer.get_ref().clone(),
            equals,
            timeout,
        })
    }

    /// The method, upper-cased, and as reqwest's type.
    fn method(
        &self,
        field: &str,
        method: &Spanned<String>,
    ) -> Result<(String, reqwest::Method), ScenarioError> {
        let text = method.get_ref().to_ascii_uppercase();
        if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(&text.as_str()) {
            return self.err(
                method.span(),
                format!("{field}.method"),
                format!(
                    "unknown method {:?}: expected GET, POST, PUT, PATCH, DELETE or HEAD",
                    method.get_ref()
                ),
            );
        }
        let parsed = reqwest::Method::from_bytes(text.as_bytes()).expect("a known method");
        Ok((text, parsed))
    }

    fn headers(
        &self,
        field: &str,
        headers: &BTreeMap<String, Spanned<String>>,
        names: &FlowNames<'_>,
    ) -> Result<Vec<(reqwest::header::HeaderName, Template)>, ScenarioError> {
        let mut out = Vec::new();
        for (k, v) in headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes()).or_else(|_| {
                self.err(
                    v.span(),
                    format!("{field}.headers"),
                    format!("{k:?} is not a valid header name"),
                )
            })?;
            let t = Template::compile(v.get_ref(), names)
                .or_else(|m| self.err(v.span(), format!("{field}.headers.{k}"), m))?;
            if crate::redact::is_sensitive_header(k) && t.is_literal() {
                // A credential written in the file is masked like one from the environment.
                crate::redact::register(v.get_ref());
            }
            out.push((name, t));
        }
        Ok(out)
    }

    /// `think = "2s"` or a range `"1s..3s"`.
    fn think(&self, field: &str, t: &Spanned<String>) -> Result<Think, ScenarioError> {
        let Some((a, b)) = t.get_ref().split_once("..") else {
            return Ok(Think::Fixed(self.duration(t, &format!("{field}.think"))?));
        };
        match (duration::parse(a), duration::parse(b)) {
            (Ok(a), Ok(b)) if a <= b => Ok(Think::Range(a, b)),
            (Ok(_), Ok(_)) => self.err(
                t.span(),
                format!("{field}.think"),
                "a think range goes from the shorter to the longer time, e.g. \"1s..3s\"",
            ),
            (Err(m), _) | (_, Err(m)) => self.err(t.span(), format!("{field}.think"), m),
        }
    }

    fn expect(
        &self,
        field: &str,
        expect: Option<&Spanned<Vec<u16>>>,
    ) -> Result<Vec<u16>, ScenarioError> {
        match expect {
            Some(e)
                if e.get_ref().is_empty()
                    || e.get_ref().iter().any(|c| !(100..=599).contains(c)) =>
            {
                self.err(
                    e.span(),
                    format!("{field}.expect"),
                    "expected statuses are HTTP codes 100-599, e.g. [200, 201]",
                )
            }
            Some(e) => Ok(e.get_ref().clone()),
            None => Ok(Vec::new()),
        }
    }

    /// Statuses that end the flow: expected ones (any other is an error already), never 503.
    fn end_flow_on(
        &self,
        field: &str,
        e: &Spanned<Vec<u16>>,
        expect: &[u16],
    ) -> Result<Vec<u16>, ScenarioError> {
        let expected = |c: &u16| {
            if expect.is_empty() {
                (200..300).contains(c)
            } else {
                expect.contains(c)
            }
        };
        if e.get_ref().contains(&503) {
            return self.err(
                e.span(),
                format!("{field}.end_flow_on"),
                "503 is always counted as shed load and ends the flow already; \
                 leave it out of `end_flow_on`",
            );
        }
        if let Some(code) = e.get_ref().iter().find(|c| !expected(c)) {
            return self.err(
                e.span(),
                format!("{field}.end_flow_on"),
                format!(
                    "{code} is not an expected status of this step: a status that ends \
                     the flow must also be in `expect` (any other is already an error)"
                ),
            );
        }
        Ok(e.get_ref().clone())
    }

    /// Captures as (slot, JSON pointer); each name becomes known to later steps.
    fn captures(
        &self,
        field: &str,
        capture: &BTreeMap<String, Spanned<String>>,
        names: &mut FlowNames<'_>,
    ) -> Result<Vec<(usize, String)>, ScenarioError> {
        let mut out = Vec::new();
        for (name, pointer) in capture {
            let p = pointer.get_ref();
            let header = p.strip_prefix("header:");
            let bad_header = header.is_some_and(|h| {
                reqwest::header::HeaderName::from_bytes(h.trim().as_bytes()).is_err()
            });
            if bad_header || (header.is_none() && !p.is_empty() && !p.starts_with('/')) {
                return self.err(
                    pointer.span(),
                    format!("{field}.capture.{name}"),
                    "a capture is a JSON pointer such as \"/id\" or \"/items/0/sku\", \
                     or a response header such as \"header:ETag\"",
                );
            }
            out.push((names.learn(name), pointer.get_ref().clone()));
        }
        Ok(out)
    }

    fn until(&self, field: &str, u: &Spanned<raw::Until>) -> Result<Until, ScenarioError> {
        let r = u.get_ref();
        if !r.pointer.get_ref().starts_with('/') {
            return self.err(
                r.pointer.span(),
                format!("{field}.until.pointer"),
                "a JSON pointer such as \"/status\"",
            );
        }
        let every = self.duration(&r.every, &format!("{field}.until.every"))?;
        if *r.max.get_ref() == 0 {
            return self.err(
                r.max.span(),
                format!("{field}.until.max"),
                "`max` (attempts) must be at least 1",
            );
        }
        let equals = serde_json::to_value(&r.equals)
            .or_else(|e| self.err(u.span(), format!("{field}.until.equals"), e.to_string()))?;
        Ok(Until {
            pointer: r.pointer.get_ref().clone(),
            equals,
            every,
            max: *r.max.get_ref(),
        })
    }

    fn request_idx(&mut self, name: String) -> RequestIdx {
        let i = self
            .names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| {
                self.names.push(name);
                self.names.len() - 1
            });
        i as RequestIdx
    }
}

/// Names a step may use: `[data]` lists, and what earlier steps captured.
struct FlowNames<'a> {
    flow: String,
    data: &'a BTreeMap<&'a str, usize>,
    /// Captured by the steps seen so far, in slot order.
    known: Vec<String>,
    /// Captured anywhere in the flow (to tell "too early" from "never").
    all: Vec<String>,
}

impl FlowNames<'_> {
    fn learn(&mut self, name: &str) -> usize {
        self.known
            .iter()
            .position(|k| k == name)
            .unwrap_or_else(|| {
                self.known.push(name.to_string());
                self.known.len() - 1
            })
    }
}

impl Names for FlowNames<'_> {
    fn data(&self, name: &str) -> Option<usize> {
        self.data.get(name).copied()
    }

    fn capture(&self, name: &str) -> Result<usize, String> {
        if let Some(i) = self.known.iter().position(|k| k == name) {
            return Ok(i);
        }
        let why = if self.all.iter().any(|k| k == name) {
            format!(
                "`{{{{{name}}}}}` is used before the step of flow {:?} that captures it",
                self.flow
            )
        } else {
            format!(
                "`{{{{{name}}}}}` is not captured by any earlier step of flow {:?}",
                self.flow
            )
        };
        let data: Vec<&str> = self.data.keys().copied().collect();
        Err(format!(
            "{why}; a step captures with `capture = {{ {name} = \"/json/pointer\" }}`. Known names: builtins ({BUILTINS}), data ({}), captures ({})",
            if data.is_empty() { "none".to_string() } else { data.join(", ") },
            if self.known.is_empty() { "none".to_string() } else { self.known.join(", ") },
        ))
    }
}

fn body_node(value: &toml::Value, names: &dyn Names) -> Result<BodyNode, String> {
    Ok(match value {
        toml::Value::String(s) => {
            let t = Template::compile(s, names)?;
            if t.is_literal() {
                BodyNode::Fixed(serde_json::Value::String(s.clone()))
            } else if matches!(t.sole_var(), Some(super::Var::Int(..))) {
                BodyNode::Number(t)
            } else {
                BodyNode::Text(t)
            }
        }
        toml::Value::Array(items) => BodyNode::Array(
            items
                .iter()
                .map(|i| body_node(i, names))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => BodyNode::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), body_node(v, names)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => BodyNode::Fixed(serde_json::to_value(other).map_err(|e| e.to_string())?),
    })
}
