//! `[[faults]]` of `type = "worker_stop"`: a named kitchen worker of the
//! target taken away for a window (see `chaos::kitchen`). They name
//! `link = "kitchen"` (the fault acts on the server's kitchen through its
//! admin routes, not on a network path) and take `attributes = { worker = "..." }`,
//! plus `admin_token` for a URL target (the bundled server's token is the
//! harness's own).

use super::error::ScenarioError;
use super::validate::Validator;
use super::{duration, env, raw, TargetSpec};
use crate::chaos::kitchen::{WorkerStop, KIND, LINK};
use std::time::Duration;
use toml::Spanned;

impl Validator<'_> {
    /// The worker stops among `faults` (the toxics are read by `faults()`),
    /// each within the run, on a known worker, not overlapping another stop
    /// of the same worker.
    pub(super) fn worker_stops(
        &self,
        faults: &[Spanned<raw::Fault>],
        target: &TargetSpec,
        total: Duration,
    ) -> Result<Vec<WorkerStop>, ScenarioError> {
        let mut out: Vec<WorkerStop> = Vec::new();
        for (i, f) in faults.iter().enumerate() {
            let r = f.get_ref();
            if r.kind.get_ref() != KIND {
                continue;
            }
            let field = format!("faults[{i}]");
            let name = r.name.get_ref().clone();
            if faults[..i]
                .iter()
                .any(|o| *o.get_ref().name.get_ref() == name)
            {
                return self.err(
                    r.name.span(),
                    format!("{field}.name"),
                    format!("fault {name:?} is declared twice"),
                );
            }
            if r.link.get_ref() != LINK {
                return self.err(r.link.span(), format!("{field}.link"), format!(
                    "a worker_stop acts on the server's kitchen, not on a network link: write `link = \"{LINK}\"`"
                ));
            }
            if let Some(s) = &r.stream {
                return self.err(
                    s.span(),
                    format!("{field}.stream"),
                    "a worker_stop has no stream: leave it out",
                );
            }
            if let Some(t) = &r.toxicity {
                return self.err(
                    t.span(),
                    format!("{field}.toxicity"),
                    "a worker_stop has no toxicity: the worker is stopped for the whole window",
                );
            }
            let at = self.duration(&r.at, &format!("{field}.at"))?;
            let dur = self.duration(&r.duration, &format!("{field}.duration"))?;
            if at >= total {
                let msg = format!(
                    "the fault starts after the load ends ({})",
                    duration::show(total)
                );
                return self.err(r.at.span(), format!("{field}.at"), msg);
            }
            self.fault_window(r, &field, at, dur, total)?;
            let (worker, admin_token) = self.worker_attributes(f, &field, target)?;
            let overlaps = out
                .iter()
                .find(|o| o.worker == worker && at < o.at + o.duration && o.at < at + dur);
            if let Some(o) = overlaps {
                return self.err(f.span(), field, format!(
                    "worker {worker} is already stopped then by fault `{}`: windows of one worker must not overlap",
                    o.name
                ));
            }
            out.push(WorkerStop {
                name,
                at,
                duration: dur,
                worker,
                admin_token,
            });
        }
        Ok(out)
    }

    /// `attributes = { worker = "counter-1" }` (and `admin_token` for a URL target).
    fn worker_attributes(
        &self,
        f: &Spanned<raw::Fault>,
        field: &str,
        target: &TargetSpec,
    ) -> Result<(String, Option<crate::redact::Secret>), ScenarioError> {
        let r = f.get_ref();
        let afield = format!("{field}.attributes");
        let missing = "a worker_stop needs `attributes = { worker = \"counter-1\" }`, naming the worker to stop (see GET /workers)";
        let Some(attrs) = &r.attributes else {
            return self.err(f.span(), afield, missing);
        };
        let span = attrs.span();
        let Some(table) = attrs.get_ref().as_table() else {
            return self.err(span, afield, missing);
        };
        if let Some(key) = table
            .keys()
            .find(|k| !["worker", "admin_token"].contains(&k.as_str()))
        {
            return self.err(
                span,
                format!("{afield}.{key}"),
                format!("unknown attribute {key:?}: a worker_stop takes `worker` and, for a URL target, `admin_token`"),
            );
        }
        let worker = match table.get("worker").map(|w| w.as_str()) {
            Some(Some(w)) if !w.trim().is_empty() => w.trim().to_string(),
            Some(_) => {
                return self.err(
                    span,
                    format!("{afield}.worker"),
                    "`worker` must be a worker's name, e.g. \"counter-1\"",
                )
            }
            None => return self.err(span, format!("{afield}.worker"), missing),
        };
        let token = table.get("admin_token");
        match target {
            TargetSpec::Bundled { server_args, .. } => {
                if token.is_some() {
                    return self.err(span, format!("{afield}.admin_token"), "the bundled server's admin token is the harness's own (or `--admin-token` in `server_args`): leave `admin_token` out");
                }
                if let Err(m) = bundled_worker_exists(server_args, &worker) {
                    return self.err(span, format!("{afield}.worker"), m);
                }
                Ok((worker, None))
            }
            TargetSpec::Url(_) => {
                let Some(text) = token.and_then(|t| t.as_str()) else {
                    return self.err(span, format!("{afield}.admin_token"), "a worker_stop against a URL target needs the target's admin routes (POST /admin/workers/{name}/stop and /start, GET /workers) and their bearer token: `admin_token = \"{{env.ADMIN_TOKEN}}\"`");
                };
                let value = env::expand(text)
                    .or_else(|m| self.err(span.clone(), format!("{afield}.admin_token"), m))?;
                Ok((worker, Some(crate::redact::Secret::new(value))))
            }
        }
    }
}

/// With `--stations name:kinds:workers:backlog,...` in the server's
/// arguments, the worker must be one of `name-1..name-workers`; without it
/// the names are checked against `GET /workers` before the run.
fn bundled_worker_exists(server_args: &[String], worker: &str) -> Result<(), String> {
    let spec = server_args
        .iter()
        .position(|a| a == "--stations")
        .and_then(|i| server_args.get(i + 1).cloned())
        .or_else(|| {
            server_args
                .iter()
                .find_map(|a| a.strip_prefix("--stations=").map(str::to_string))
        });
    let Some(spec) = spec else { return Ok(()) };
    let mut names = Vec::new();
    for station in spec.split(',') {
        let parts: Vec<&str> = station.split(':').collect();
        let (Some(name), Some(Ok(n))) = (parts.first(), parts.get(2).map(|n| n.parse::<usize>()))
        else {
            return Ok(()); // the server itself refuses a bad --stations
        };
        names.extend((1..=n).map(|k| format!("{name}-{k}")));
    }
    if names.iter().any(|n| n == worker) {
        Ok(())
    } else {
        Err(format!(
            "unknown worker {worker:?}: the bundled server's `--stations` gives {}",
            names.join(", ")
        ))
    }
}
