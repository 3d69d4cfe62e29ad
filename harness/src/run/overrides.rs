//! What the command line's overrides make of a scenario, checked as the
//! scenario file's own values are: `--duration` and `--scale` within the
//! bounds, `--target` keeping a declared `edge` in front of it, the
//! bundled server's flags that a URL target does not take said in a note,
//! and the closed model's whole seconds said when they change the length.

use super::RunError;
use crate::load;
use crate::record::LoadModel;
use crate::scenario::{bounds, show_duration, GateNames, Scenario, TargetSpec};
use std::time::Duration;

/// A stage shorter than this is refused in a scenario file too.
const MIN_STAGE: Duration = Duration::from_millis(100);

/// `--duration`: the timeline stretched or shrunk, each stage still at
/// least [`MIN_STAGE`].
pub(super) fn duration(sc: &mut Scenario, d: Duration) -> Result<(), RunError> {
    if d.is_zero() {
        return Err(RunError::Usage("--duration must be above zero".into()));
    }
    sc.set_duration(d);
    if let Some(short) = sc.load.stages.iter().find(|s| s.duration < MIN_STAGE) {
        // Stages keep their proportions: this one reaches MIN_STAGE at this total.
        let least = d.as_secs_f64() * MIN_STAGE.as_secs_f64() / short.duration.as_secs_f64();
        return Err(RunError::Usage(format!(
            "--duration {}: stage `{}` would last {}, and a stage lasts at least {}; give at least {}",
            show_duration(d),
            short.name,
            show_duration(short.duration),
            show_duration(MIN_STAGE),
            show_duration(Duration::from_secs_f64(least).max(MIN_STAGE)),
        )));
    }
    Ok(())
}

/// `--scale`: users and rates multiplied, still within their bounds.
pub(super) fn scale(sc: &mut Scenario, k: f64) -> Result<(), RunError> {
    if !(k.is_finite() && k > 0.0) {
        return Err(RunError::Usage(format!(
            "--scale {k}: expected a factor above zero, e.g. 0.5 or 2"
        )));
    }
    sc.set_scale(k);
    let peak = sc.load.stages.iter().map(|s| s.target).fold(0.0, f64::max);
    let check = match sc.load.model {
        LoadModel::Closed => bounds::users(peak.ceil() as u64),
        LoadModel::Open => bounds::rate(peak).and(bounds::users(sc.load.max_users as u64)),
    };
    check.map_err(|why| RunError::Usage(format!("--scale {k}: {why}")))
}

/// The closed model runs whole seconds per stage (goose's test plan):
/// a length that changes by it is said, not silently changed.
pub(super) fn align(sc: &mut Scenario) {
    let before = sc.load.total();
    load::align_stages(sc);
    let after = sc.load.total();
    if before != after {
        sc.notes.push(format!(
            "the closed model holds each stage a whole number of seconds (at least 1 s): the load lasts {}, not {}",
            show_duration(after),
            show_duration(before)
        ));
    }
}

/// The names a gate may use in this scenario.
pub(super) fn gate_names(sc: &Scenario) -> GateNames<'_> {
    GateNames {
        requests: &sc.request_names,
        windows: sc
            .faults
            .iter()
            .map(|f| f.name.as_str())
            .chain(sc.worker_stops.iter().map(|w| w.name.as_str()))
            .chain(sc.load.stages.iter().map(|s| s.name.as_str()))
            .collect(),
    }
}

/// `--target URL` over a scenario written for the bundled server: its
/// extra server and gateway flags do not reach the URL, which is said.
pub(super) fn bundled_flags_dropped(sc: &mut Scenario, url: &str) {
    let TargetSpec::Bundled {
        server_args,
        gateway_args,
        ..
    } = &sc.target
    else {
        return;
    };
    let dropped: Vec<String> = [("server_args", server_args), ("gateway_args", gateway_args)]
        .into_iter()
        .filter(|(_, a)| !a.is_empty())
        .map(|(key, a)| format!("{key} ({})", a.join(" ")))
        .collect();
    if !dropped.is_empty() {
        let note = format!(
            "the scenario's {} set up the bundled server only: {} runs with its own settings",
            dropped.join(" and "),
            crate::redact::url(url)
        );
        sc.notes.push(note);
    }
}

/// A declared `edge` link replaces the proxy in front of the target: it
/// must forward to the `--target` URL, else the load would bypass it.
pub(super) fn edge_in_front(sc: &Scenario, url: &str) -> Result<(), RunError> {
    let Some(edge) = sc.links.iter().find(|l| l.name == "edge") else {
        return Ok(());
    };
    let Ok(parsed) = crate::backend::check_url(url) else {
        return Ok(());
    };
    let authority = format!(
        "{}:{}",
        parsed.host_str().unwrap_or(""),
        parsed.port_or_known_default().unwrap_or(80)
    );
    let norm = |s: &str| s.replace("localhost", "127.0.0.1");
    match norm(&edge.upstream) == norm(&authority) {
        true => Ok(()),
        false => Err(RunError::Usage(format!(
            "--target {}: the scenario's link `edge` forwards to {}, so the load would not go through it; \
             declare `edge` with upstream {authority} (or in a [[targets]] entry for this URL)",
            crate::redact::url(url),
            edge.upstream
        ))),
    }
}
