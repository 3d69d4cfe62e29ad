//! The scenario of a run: read from its file, with the command line's
//! overrides (seed, profile, target, duration, scale, extra gates) applied
//! and checked. Nothing runs here.

use super::{RunArgs, RunError};
use crate::record::MissedWindow;
use crate::scenario::{self, Scenario, TargetSpec};
use crate::slo::Gate;

/// Reads the scenario and applies the command line's overrides; nothing runs.
pub fn prepare(args: &RunArgs) -> Result<(Scenario, Vec<Gate>), RunError> {
    apply(scenario::load(&args.scenario)?, args)
}

/// Applies the command line's overrides to a scenario already read, and
/// checks what they make of it (bounds, gate names); nothing runs.
pub(crate) fn apply(mut sc: Scenario, args: &RunArgs) -> Result<(Scenario, Vec<Gate>), RunError> {
    if let Some(seed) = args.seed {
        sc.seed = seed;
    }
    if let Some(p) = &args.profile {
        let Some(chosen) = scenario::profile::parse(p) else {
            return Err(RunError::Usage(format!(
                "--profile {p:?}: expected {}",
                scenario::profile::expected()
            )));
        };
        match &mut sc.target {
            TargetSpec::Bundled { profile, .. } if args.target.is_none() => *profile = chosen,
            _ => {
                return Err(RunError::Usage(
                    "--profile chooses the bundled server's profile; it cannot apply to --target"
                        .into(),
                ))
            }
        }
    }
    if let Some(url) = &args.target {
        crate::backend::check_url(url).map_err(|e| RunError::Usage(format!("--target: {e}")))?;
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
            sc.not_injected.push(MissedWindow::fault(
                &f.name,
                format!(
                    "its link `{}` exists only around the bundled server, not in front of {url}",
                    f.link
                ),
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
            sc.not_injected.push(MissedWindow::fault(
                &w.name,
                format!("{url} was given no admin token to stop its worker with"),
            ));
        }
        super::overrides::bundled_flags_dropped(&mut sc, url);
        sc.target = TargetSpec::Url(url.clone());
        super::overrides::edge_in_front(&sc, url)?;
    }
    if let Some(d) = args.duration {
        super::overrides::duration(&mut sc, d)?;
    }
    if let Some(k) = args.scale {
        super::overrides::scale(&mut sc, k)?;
    }
    if let Some(s) = args.sharding.shard {
        crate::shard::check_plan(&sc, s, args.toxiproxy.as_deref())?;
    }
    super::overrides::align(&mut sc);
    let mut gates = std::mem::take(&mut sc.gates);
    let names = super::overrides::gate_names(&sc);
    for g in &args.gates {
        let gate: Gate = g
            .parse()
            .map_err(|e| RunError::Usage(format!("--gate {g:?}: {e}")))?;
        if let Some(why) = names.unknown(&gate) {
            return Err(RunError::Usage(format!("--gate {g:?}: {why}")));
        }
        gates.push(gate);
    }
    if args.live.abort_on_fail
        && !gates
            .iter()
            .any(|g| g.window.is_some() && g.during.is_none())
    {
        return Err(RunError::Usage(
            "--abort-on-fail stops the run at the first failed window of a window gate, and this run has none: \
             add one ending in `over <duration>` (e.g. --gate 'p95 < 500ms over 10s')"
                .into(),
        ));
    }
    for g in &gates {
        if let Some(m) = scenario::undeclared_series(&sc.server_metrics, g) {
            return Err(RunError::Usage(format!("--gate: {m}")));
        }
    }
    Ok((sc, gates))
}

/// Refuses, before anything starts, a gate judged during a fault that
/// cannot be injected into this target (its link exists only around the
/// bundled server, or its worker stop has no admin token there): such a gate
/// would judge a window that never happens. A fault no gate names is only
/// noted (each output lists it as not injected).
pub(crate) fn refuse_not_injected(sc: &Scenario, gates: &[Gate]) -> Result<(), RunError> {
    let judged: Vec<_> = sc
        .not_injected
        .iter()
        .filter(|m| {
            gates
                .iter()
                .any(|g| g.during.as_deref() == Some(m.name.as_str()))
        })
        .collect();
    if judged.is_empty() {
        return Ok(());
    }
    let url = match &sc.target {
        TargetSpec::Url(url) => crate::redact::url(url),
        TargetSpec::Bundled { .. } => "this target".to_string(),
    };
    let mut text = format!(
        "{} of the scenario's gates would be judged during a fault that cannot be injected into {url}:",
        judged.len()
    );
    for m in &judged {
        text.push_str(&format!("\n  fault `{}`: {}", m.name, m.reason));
    }
    text.push_str(&format!(
        "\nDeclare the link for this backend in {}, e.g.\n  \
         [[targets]]\n  url = \"{url}\"\n  [[targets.links]]\n  name = \"payments\"\n  \
         listen = \"127.0.0.1:9101\"    # point the backend's payment gateway URL here\n  \
         upstream = \"127.0.0.1:9100\"  # where its gateway really listens\n\
         (a worker stop needs `attributes.admin_token`), drop the gate, or leave out --target \
         to run the bundled server",
        sc.file
    ));
    Err(RunError::Usage(text))
}
