//! The scenario of a run: read from its file, with the command line's
//! overrides (seed, profile, target, duration, scale, extra gates) applied
//! and checked. Nothing runs here.

use super::{RunArgs, RunError};
use crate::load;
use crate::scenario::{self, Scenario, TargetSpec};
use crate::slo::Gate;

/// Reads the scenario and applies the command line's overrides; nothing runs.
pub fn prepare(args: &RunArgs) -> Result<(Scenario, Vec<Gate>), RunError> {
    let mut sc = scenario::load(&args.scenario)?;
    if let Some(seed) = args.seed {
        sc.seed = seed;
    }
    if let Some(p) = &args.profile {
        match &mut sc.target {
            _ if !["default", "naive"].contains(&p.as_str()) => {
                return Err(RunError::Usage(format!(
                    "--profile {p:?}: expected \"default\" or \"naive\""
                )))
            }
            TargetSpec::Bundled { profile, .. } if args.target.is_none() => *profile = p.clone(),
            _ => {
                return Err(RunError::Usage(
                    "--profile chooses the bundled server's profile; it cannot apply to --target"
                        .into(),
                ))
            }
        }
    }
    if let Some(url) = &args.target {
        crate::target::check_url(url).map_err(|e| RunError::Usage(format!("--target: {e}")))?;
        // A `[[targets]]` entry for this URL brings its own links (its
        // `payments`, pointed at its gateway) and settings.
        let entry = sc
            .targets
            .iter()
            .find(|t| t.spec == TargetSpec::Url(url.trim_end_matches('/').to_string()))
            .cloned();
        if let Some(entry) = entry {
            sc.links
                .retain(|l| !entry.links.iter().any(|e| e.name == l.name));
            sc.links.extend(entry.links);
            sc.target_settings = entry.settings;
        }
        // `edge` can be put in front of any URL; other links of the bundled
        // server (`payments`) exist on another backend only if it declares them.
        let links: Vec<String> = sc.links.iter().map(|l| l.name.clone()).collect();
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut sc.faults)
            .into_iter()
            .partition(|f| f.link == "edge" || links.contains(&f.link));
        sc.faults = kept;
        for f in dropped {
            sc.notes.push(format!(
                "fault `{}` was not injected: its link `{}` exists only around the bundled server; \
                 to inject it into {url}, declare the link for it in `[[targets]]` (or `[[links]]`)",
                f.name, f.link
            ));
        }
        // A worker stop written for the bundled server has no admin token for another backend.
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut sc.worker_stops)
            .into_iter()
            .partition(|w| w.admin_token.is_some());
        sc.worker_stops = kept;
        for w in dropped {
            sc.notes.push(format!(
                "fault `{}` (worker_stop {}) was not injected: {url} needs its admin token \
                 (`attributes.admin_token`, e.g. \"{{{{env.ADMIN_TOKEN}}}}\")",
                w.name, w.worker
            ));
        }
        sc.target = TargetSpec::Url(url.clone());
    }
    if let Some(d) = args.duration {
        if d.is_zero() {
            return Err(RunError::Usage("--duration must be above zero".into()));
        }
        sc.set_duration(d);
    }
    if let Some(k) = args.scale {
        if !(k.is_finite() && k > 0.0) {
            return Err(RunError::Usage(format!(
                "--scale {k}: expected a factor above zero, e.g. 0.5 or 2"
            )));
        }
        sc.set_scale(k);
    }
    if let Some(s) = args.sharding.shard {
        crate::shard::check_plan(&sc, s, args.toxiproxy.as_deref())?;
    }
    load::align_stages(&mut sc);
    let mut gates = std::mem::take(&mut sc.gates);
    for g in &args.gates {
        gates.push(
            g.parse()
                .map_err(|e| RunError::Usage(format!("--gate {g:?}: {e}")))?,
        );
    }
    for g in &gates {
        if let Some(m) = scenario::undeclared_series(&sc.server_metrics, g) {
            return Err(RunError::Usage(format!("--gate: {m}")));
        }
    }
    Ok((sc, gates))
}
