//! `[server_metrics]` and its `[[server_metrics.series]]` → a
//! [`ScrapePlan`]: the endpoint, interval, headers (with `{{env.NAME}}`
//! secrets) and each declared series with its selector parsed.

use super::error::ScenarioError;
use super::raw;
use super::validate::Validator;
use crate::scrape::{
    is_name, Limit, ScrapePlan, Selector, SeriesDecl, SeriesKind, Source, DEFAULT_MAX_SERIES,
};
use std::time::Duration;
use toml::Spanned;

/// The most label sets a declaration may ask for with `max_series`.
const MAX_SERIES_CEILING: u64 = 200;

impl Validator<'_> {
    /// Every gate on a server series names one the scenario declares.
    pub(super) fn series_gates(
        &self,
        raw: &[Spanned<raw::GateEntry>],
        gates: &[crate::slo::Gate],
        plan: &ScrapePlan,
    ) -> Result<(), ScenarioError> {
        for (i, g) in gates.iter().enumerate() {
            if let Some(m) = undeclared(plan, g) {
                return self.err(raw[i].span(), format!("gates[{i}]"), m);
            }
        }
        Ok(())
    }
}

/// Why `gate` cannot be judged when it names a series the scenario does not
/// declare; `None` for a declared series or a gate on requests.
pub(crate) fn undeclared(plan: &ScrapePlan, gate: &crate::slo::Gate) -> Option<String> {
    let series = gate.series.as_ref()?;
    if plan.declares(&series.metric) {
        return None;
    }
    let declared: Vec<&str> = plan.series.iter().map(|d| d.name.as_str()).collect();
    Some(format!(
        "gate `{gate}` names the series `{}`, which the scenario does not declare (declared: {}); \
         declare it under `[[server_metrics.series]]`",
        series.metric,
        if declared.is_empty() {
            "none".to_string()
        } else {
            declared.join(", ")
        }
    ))
}

impl Validator<'_> {
    pub(super) fn server_metrics(
        &self,
        raw: Option<&Spanned<raw::ServerMetrics>>,
    ) -> Result<ScrapePlan, ScenarioError> {
        let Some(raw) = raw else {
            return Ok(ScrapePlan::default());
        };
        let r = raw.get_ref();
        let mut plan = ScrapePlan {
            enabled: r.enabled.unwrap_or(true),
            required: r.required.unwrap_or(false),
            ..ScrapePlan::default()
        };
        if let Some(url) = &r.url {
            let text = super::env::expand(url.get_ref())
                .or_else(|m| self.err(url.span(), "server_metrics.url", m))?;
            super::url::check_url(&text)
                .or_else(|e| self.err(url.span(), "server_metrics.url", e.to_string()))?;
            plan.url = Some(text);
        }
        if let Some(i) = &r.interval {
            let d = self.duration(i, "server_metrics.interval")?;
            if d < Duration::from_millis(100) || d > Duration::from_secs(60) {
                return self.err(
                    i.span(),
                    "server_metrics.interval",
                    "the scrape interval must be between 100ms and 60s (1s keeps a point per second)",
                );
            }
            plan.interval = d;
        }
        for (name, value) in &r.headers {
            let field = format!("server_metrics.headers.{name}");
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return self.err(value.span(), field, "not a valid HTTP header name");
            }
            let v = super::env::expand(value.get_ref())
                .or_else(|m| self.err(value.span(), &field, m))?;
            plan.headers.push((name.clone(), v));
        }
        for (i, s) in r.series.iter().enumerate() {
            let decl = self.series(i, s)?;
            if plan.declares(&decl.name) {
                return self.err(
                    s.get_ref().name.span(),
                    format!("server_metrics.series[{i}].name"),
                    format!("series `{}` is declared twice", decl.name),
                );
            }
            plan.series.push(decl);
        }
        Ok(plan)
    }

    /// `[capacity] slo = [...]`, each gate parsed, none naming an undeclared series.
    pub(super) fn capacity_slo(
        &self,
        raw: Option<&Spanned<raw::Capacity>>,
        plan: &ScrapePlan,
    ) -> Result<Vec<crate::slo::Gate>, ScenarioError> {
        let Some(raw) = raw else {
            return Ok(Vec::new());
        };
        let mut gates = Vec::new();
        for (i, g) in raw.get_ref().slo.iter().enumerate() {
            let field = format!("capacity.slo[{i}]");
            let gate: crate::slo::Gate = g.get_ref().parse().or_else(|e| {
                self.err(g.span(), &field, format!("bad gate {:?}: {e}", g.get_ref()))
            })?;
            if let Some(m) = undeclared(plan, &gate) {
                return self.err(g.span(), field, m);
            }
            gates.push(gate);
        }
        if gates.is_empty() {
            return self.err(
                raw.span(),
                "capacity.slo",
                "`[capacity]` needs at least one gate in `slo`",
            );
        }
        Ok(gates)
    }

    fn series(&self, i: usize, s: &Spanned<raw::Series>) -> Result<SeriesDecl, ScenarioError> {
        let f = |k: &str| format!("server_metrics.series[{i}].{k}");
        let r = s.get_ref();
        let name = r.name.get_ref().trim().to_string();
        if !is_name(&name, false) {
            return self.err(
                r.name.span(),
                f("name"),
                "a series name is letters, digits and `_` (gates name it: `max(backlog) < 450`)",
            );
        }
        let selector = Selector::parse(r.metric.get_ref())
            .or_else(|m| self.err(r.metric.span(), f("metric"), m))?;
        let mut by = Vec::new();
        for l in &r.by {
            if !is_name(l.get_ref(), false) {
                return self.err(
                    l.span(),
                    f("by"),
                    format!("`{}` is not a label name", l.get_ref()),
                );
            }
            by.push(l.get_ref().clone());
        }
        let kind = match &r.kind {
            None => SeriesKind::Gauge,
            Some(k) => SeriesKind::parse(k.get_ref()).map_or_else(
                || self.err(k.span(), f("kind"), format!(
                    "unknown kind {:?}: expected \"gauge\" (the value as scraped), \"rate\" (a counter's increase per second) or \"mean\" (a histogram's mean between scrapes)",
                    k.get_ref()
                )),
                Ok,
            )?,
        };
        let source = match r.source.as_ref().map(|s| (s, s.get_ref().as_str())) {
            None | Some((_, "target")) => Source::Target,
            Some((_, "proxy")) => Source::Proxy,
            Some((s, other)) => {
                return self.err(
                    s.span(),
                    f("source"),
                    format!("unknown source {other:?}: expected \"target\" or \"proxy\" (the fault proxy's /metrics)"),
                )
            }
        };
        let limit = match &r.limit {
            None => None,
            Some(l) => Some(match l.get_ref() {
                raw::SeriesLimit::Number(v) if v.is_finite() => Limit::Value(*v),
                raw::SeriesLimit::Number(_) => {
                    return self.err(l.span(), f("limit"), "the limit must be a finite number")
                }
                raw::SeriesLimit::Metric(m) => Limit::Metric(
                    Selector::parse(m).or_else(|e| self.err(l.span(), f("limit"), e))?,
                ),
            }),
        };
        let max_series = match &r.max_series {
            None => DEFAULT_MAX_SERIES,
            Some(m) if (1..=MAX_SERIES_CEILING).contains(m.get_ref()) => *m.get_ref() as usize,
            Some(m) => {
                return self.err(
                    m.span(),
                    f("max_series"),
                    format!("max_series must be between 1 and {MAX_SERIES_CEILING}: each label set is a chart and a series in summary.json"),
                )
            }
        };
        Ok(SeriesDecl {
            name,
            selector,
            by,
            kind,
            source,
            limit,
            max_series,
        })
    }
}
