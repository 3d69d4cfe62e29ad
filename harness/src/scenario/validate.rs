//! Raw scenario file → validated plan: the top level, the target and the
//! load shape here; flows in `steps.rs`, links and faults in `faults.rs`. Each
//! check points at the value it is about, so the error carries its line and field.

use super::error::{ScenarioError, Source};
use super::{duration, raw, LoadPlan, Scenario, Stage, TargetSpec, DEFAULT_TIMEOUT};
use crate::record::LoadModel;
use crate::slo::Gate;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

pub(crate) fn scenario(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
    let src = Source { file, text };
    let raw: raw::File = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
    let v = Validator {
        src: &src,
        names: Vec::new(),
    };
    v.run(raw)
}

pub(super) struct Validator<'a> {
    pub(super) src: &'a Source<'a>,
    pub(super) names: Vec<String>,
}

impl Validator<'_> {
    pub(super) fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        field: impl Into<String>,
        msg: impl Into<String>,
    ) -> Result<T, ScenarioError> {
        Err(self.src.error(span, field, msg))
    }

    pub(super) fn duration(
        &self,
        value: &Spanned<String>,
        field: &str,
    ) -> Result<Duration, ScenarioError> {
        duration::parse(value.get_ref()).or_else(|m| self.err(value.span(), field, m))
    }

    fn run(mut self, raw: raw::File) -> Result<Scenario, ScenarioError> {
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return self.err(
                raw.name.span(),
                "name",
                "the name must be ASCII letters (a-z, A-Z), digits, `-` or `_` (it names the report folder)",
            );
        }
        let target = self.target(raw.target.as_ref())?;
        let load = self.load(&raw.load)?;
        let data = self.data(&raw.data)?;
        let data_index: BTreeMap<&str, usize> = data
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.as_str(), i))
            .collect();
        if raw.flows.is_empty() {
            return self.err(
                0..0,
                "flows",
                "a scenario needs at least one `[[flows]]` with steps",
            );
        }
        let total = load.total();
        let mut flows = Vec::new();
        for (i, flow) in raw.flows.iter().enumerate() {
            flows.push(self.flow(i, flow, &data_index, total)?);
        }
        if flows.iter().all(|f| f.at.is_some()) {
            return self.err(
                raw.flows[0].span(),
                "flows",
                "every flow has `at`: at least one flow must make up the load (no `at`)",
            );
        }
        self.unique_flows(&raw.flows, &flows)?;
        let (gates, aborts) = self.gates(&raw.gates)?;
        let links = self.links(&raw.links, &target, "")?;
        let targets = self.target_entries(&raw.targets)?;
        self.link_layout(&raw, &target, &links, &targets)?;
        let faults = self.faults(&raw.faults, &target, &links, &targets, total)?;
        let worker_stops = self.worker_stops(&raw.faults, &target, total)?;
        let windows = faults
            .iter()
            .map(|f| f.name.as_str())
            .chain(worker_stops.iter().map(|w| w.name.as_str()))
            .chain(load.stages.iter().map(|s| s.name.as_str()))
            .collect();
        self.gate_names(&raw.gates, &gates, windows)?;
        let server_metrics = self.server_metrics(raw.server_metrics.as_ref())?;
        self.series_gates(&raw.gates, &gates, &server_metrics)?;
        let capacity_slo = self.capacity_slo(raw.capacity.as_ref(), &server_metrics)?;
        Ok(Scenario {
            name,
            description: raw.description.trim().to_string(),
            file: self.src.file.display().to_string(),
            seed: raw.seed.unwrap_or_else(rand::random),
            target,
            load,
            data,
            flows,
            gates,
            aborts,
            faults,
            worker_stops,
            links,
            targets,
            target_settings: Vec::new(),
            request_names: self.names,
            notes: Vec::new(),
            not_injected: Vec::new(),
            http2: raw
                .target
                .as_ref()
                .and_then(|t| t.get_ref().http2)
                .unwrap_or(false),
            server_metrics,
            capacity_slo,
        })
    }

    /// `[data]` lists, each with at least one value.
    fn data(
        &self,
        data: &BTreeMap<String, Spanned<Vec<String>>>,
    ) -> Result<Vec<(String, Vec<String>)>, ScenarioError> {
        data.iter()
            .map(|(k, v)| {
                if v.get_ref().is_empty() {
                    return self.err(
                        v.span(),
                        format!("data.{k}"),
                        "a data list needs at least one value",
                    );
                }
                // `{{env.NAME}}` in a data value: read once, now.
                let values = v
                    .get_ref()
                    .iter()
                    .map(|value| super::env::expand(value))
                    .collect::<Result<Vec<_>, _>>()
                    .or_else(|m| self.err(v.span(), format!("data.{k}"), m))?;
                Ok((k.clone(), values))
            })
            .collect()
    }

    /// The scenario's `gates = [...]`, each parsed, and those that abort.
    fn gates(
        &self,
        gates: &[Spanned<raw::GateEntry>],
    ) -> Result<(Vec<Gate>, Vec<super::GateAbort>), ScenarioError> {
        let mut parsed = Vec::new();
        let mut aborts = Vec::new();
        for (i, g) in gates.iter().enumerate() {
            let field = format!("gates[{i}]");
            let span = g.span();
            let (text, table) = match g.get_ref() {
                raw::GateEntry::Text(t) => (t.as_str(), None),
                raw::GateEntry::Table(t) => (t.gate.as_str(), Some(t)),
            };
            let gate = text
                .parse::<Gate>()
                .or_else(|e| self.err(span.clone(), &field, format!("bad gate {text:?}: {e}")))?;
            if let Some(t) = table {
                if t.after.is_some() && !t.abort {
                    return self.err(
                        span,
                        format!("{field}.after"),
                        "`after` is the grace before a failed window stops the run: it needs `abort = true`",
                    );
                }
                if t.abort {
                    if gate.window.is_none() {
                        return self.err(
                            span,
                            format!("{field}.abort"),
                            format!(
                                "only a window gate can stop the run early: end {text:?} in `over <duration>` (e.g. `over 10s`)"
                            ),
                        );
                    }
                    if gate.during.is_some() {
                        return self.err(
                            span,
                            format!("{field}.abort"),
                            "a gate judged `during` a fault or stage is judged when the run ends and cannot stop it; drop `during` or `abort`",
                        );
                    }
                    let after = match &t.after {
                        Some(a) => duration::parse(a)
                            .or_else(|m| self.err(span.clone(), format!("{field}.after"), m))?,
                        None => std::time::Duration::ZERO,
                    };
                    aborts.push(super::GateAbort {
                        gate: gate.clone(),
                        after,
                    });
                }
            }
            parsed.push(gate);
        }
        Ok((parsed, aborts))
    }

    fn target(&self, target: Option<&Spanned<raw::Target>>) -> Result<TargetSpec, ScenarioError> {
        let Some(t) = target else {
            return Ok(TargetSpec::Bundled {
                profile: super::profile::Profile::Default,
                server_args: vec![],
                gateway_args: vec![],
            });
        };
        let tr = t.get_ref();
        if let Some(url) = &tr.url {
            if tr.profile.is_some() || !tr.server_args.is_empty() || !tr.gateway_args.is_empty() {
                return self.err(t.span(), "target", "`url` names a running backend: `profile`, `server_args` and `gateway_args` are for the bundled server only");
            }
            super::url::check_url(url.get_ref())
                .or_else(|e| self.err(url.span(), "target.url", e.to_string()))?;
            return Ok(TargetSpec::Url(url.get_ref().clone()));
        }
        let profile = match &tr.profile {
            Some(p) => match super::profile::parse(p.get_ref()) {
                Some(profile) => profile,
                None => {
                    return self.err(
                        p.span(),
                        "target.profile",
                        format!(
                            "unknown profile {:?}: expected {}",
                            p.get_ref(),
                            super::profile::expected()
                        ),
                    )
                }
            },
            None => super::profile::Profile::Default,
        };
        Ok(TargetSpec::Bundled {
            profile,
            server_args: tr.server_args.clone(),
            gateway_args: tr.gateway_args.clone(),
        })
    }

    fn load(&self, load: &Spanned<raw::Load>) -> Result<LoadPlan, ScenarioError> {
        let l = load.get_ref();
        let model = match l.model.get_ref().as_str() {
            "closed" => LoadModel::Closed,
            "open" => LoadModel::Open,
            other => return self.err(l.model.span(), "load.model", format!("unknown model {other:?}: expected \"closed\" (concurrent users) or \"open\" (arrivals per second)")),
        };
        let timeout = match &l.timeout {
            Some(t) => self.duration(t, "load.timeout")?,
            None => DEFAULT_TIMEOUT,
        };
        if timeout.is_zero() {
            return self.err(
                l.timeout.as_ref().map_or(0..0, Spanned::span),
                "load.timeout",
                "the request timeout must be above zero",
            );
        }
        if l.stages.is_empty() {
            return self.err(
                load.span(),
                "load.stages",
                "the load needs at least one `[[load.stages]]`",
            );
        }
        let mut stages = Vec::new();
        for (i, s) in l.stages.iter().enumerate() {
            let field = format!("load.stages[{i}]");
            let st = s.get_ref();
            let d = self.duration(&st.duration, &format!("{field}.duration"))?;
            if d < Duration::from_millis(100) {
                return self.err(
                    st.duration.span(),
                    format!("{field}.duration"),
                    "a stage lasts at least 100ms",
                );
            }
            let target = match (model, &st.users, &st.rate) {
                (LoadModel::Closed, Some(u), None) => {
                    super::bounds::users(*u.get_ref()).or_else(|m| self.err(u.span(), format!("{field}.users"), m))?;
                    *u.get_ref() as f64
                }
                (LoadModel::Open, None, Some(r)) => {
                    super::bounds::rate(*r.get_ref()).or_else(|m| self.err(r.span(), format!("{field}.rate"), m))?;
                    *r.get_ref()
                }
                (LoadModel::Closed, _, _) => return self.err(s.span(), field, "a closed-model stage sets `users` (concurrent users at its end) and no `rate`"),
                (LoadModel::Open, _, _) => return self.err(s.span(), field, "an open-model stage sets `rate` (arrivals per second at its end) and no `users`"),
            };
            let name = st
                .name
                .clone()
                .unwrap_or_else(|| format!("stage {}", i + 1));
            stages.push(Stage {
                name,
                duration: d,
                target,
            });
        }
        let peak = stages.iter().map(|s| s.target).fold(0.0, f64::max);
        if peak <= 0.0 {
            return self.err(
                load.span(),
                "load.stages",
                "every stage has 0 users (or a rate of 0): the load would send nothing",
            );
        }
        let max_users = match &l.max_users {
            Some(m) if model == LoadModel::Closed => return self.err(m.span(), "load.max_users", "`max_users` sizes the open model's pool; a closed model's users are its stages' `users`"),
            Some(m) if *m.get_ref() == 0 => return self.err(m.span(), "load.max_users", "`max_users` must be at least 1"),
            Some(m) if super::bounds::users(*m.get_ref()).is_err() => {
                let why = super::bounds::users(*m.get_ref()).unwrap_err();
                return self.err(m.span(), "load.max_users", why);
            }
            Some(m) => *m.get_ref() as usize,
            // Enough users to hold two seconds of arrivals in flight.
            None => ((peak * 2.0).ceil() as usize).clamp(50, 5000),
        };
        Ok(LoadPlan {
            model,
            timeout,
            max_users,
            stages,
        })
    }
}
