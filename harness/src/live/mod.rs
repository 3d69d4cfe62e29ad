//! The run as it goes: window gates judged every second (and the abort they
//! may raise), and the snapshots the dashboard serves. A read-only view of
//! the recorder's per-second histograms, called by the load engine's
//! aggregator through `crate::load::Watch`; nothing here sends load.

pub mod dashboard;
pub(crate) mod gates;
mod series;
pub(crate) mod snapshot;

pub(crate) use series::LiveSeries;

use crate::load::Watch;
use crate::record::{Aborted, GeneratorHealth, Recorder};
use crate::scenario::Scenario;
use crate::slo::Gate;
use gates::{GateWatch, WatchedGate};
use std::time::Duration;

/// What a run watches while it goes (`harness run --abort-on-fail`, `--dashboard`).
#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    /// Every window gate stops the run at its first failed window.
    pub(crate) abort_on_fail: bool,
    /// The dashboard the run's snapshots go to.
    pub(crate) dashboard: Option<dashboard::Hub>,
    /// What this run is within a batch or a capacity search ("run 2 of 4:
    /// bundled:naive", "step 3: 120.0/s"), shown on the dashboard.
    pub(crate) context: Option<String>,
}

impl LiveOptions {
    /// Shows a finished run's summary on the dashboard: the page's last
    /// figures are summary.json's.
    pub(crate) fn show_final(&self, summary: &crate::summary::Summary) {
        if let Some(hub) = &self.dashboard {
            hub.publish_final(&snapshot::final_snapshot(summary, self.context.clone()));
        }
    }
}

/// The window gates of a run, each with the grace after which a failed
/// window stops it: the scenario's `abort = true` gates, and with
/// `--abort-on-fail` every other window gate from the start.
pub(crate) fn watched_gates(sc: &Scenario, gates: &[Gate], opts: &LiveOptions) -> Vec<WatchedGate> {
    gates
        .iter()
        .filter(|g| g.window.is_some())
        .map(|g| {
            let declared = sc.aborts.iter().find(|a| &a.gate == g).map(|a| a.after);
            let everyone = (opts.abort_on_fail && g.during.is_none()).then_some(Duration::ZERO);
            WatchedGate {
                gate: g.clone(),
                abort_after: declared.or(everyone),
                during_s: g.during.as_deref().and_then(|name| planned_span(sc, name)),
            }
        })
        .collect()
}

/// The planned whole seconds of a fault (or, failing that, a stage) named `name`.
fn planned_span(sc: &Scenario, name: &str) -> Option<(u64, u64)> {
    let fault = sc
        .faults
        .iter()
        .map(|f| (f.name.as_str(), f.at, f.duration))
        .chain(
            sc.worker_stops
                .iter()
                .map(|w| (w.name.as_str(), w.at, w.duration)),
        )
        .find(|(n, _, _)| *n == name)
        .map(|(_, at, d)| (at.as_secs_f64().floor(), (at + d).as_secs_f64().ceil()));
    let stage = || {
        sc.load
            .stages
            .iter()
            .zip(sc.stage_bounds())
            .find(|(st, _)| st.name == name)
            .map(|(_, (a, b))| (a.round(), b.round()))
    };
    fault
        .or_else(stage)
        .map(|(a, b)| (a.max(0.0) as u64, b.max(0.0) as u64))
}

/// The aggregator's once-a-second look at the run.
pub(crate) struct Watcher {
    gates: GateWatch,
    dashboard: Option<(dashboard::Hub, snapshot::LiveBuilder)>,
    /// The target's series scraped so far, for the dashboard.
    series: LiveSeries,
}

impl Watcher {
    /// `None` when there is nothing to watch.
    pub(crate) fn new(
        sc: &Scenario,
        gates: &[Gate],
        opts: &LiveOptions,
        series: LiveSeries,
    ) -> Option<Watcher> {
        let watched = GateWatch::new(&watched_gates(sc, gates, opts), &sc.request_names);
        let dashboard = opts.dashboard.clone().map(|hub| {
            let builder = snapshot::LiveBuilder::new(snapshot::Plan::of(sc), opts.context.clone());
            (hub, builder)
        });
        (!watched.is_empty() || dashboard.is_some()).then_some(Watcher {
            gates: watched,
            dashboard,
            series,
        })
    }
}

impl Watch for Watcher {
    fn second(
        &mut self,
        recorder: &Recorder,
        health: &GeneratorHealth,
        elapsed_s: u64,
    ) -> Option<Aborted> {
        let abort = self.gates.advance(recorder, elapsed_s);
        if let Some((hub, builder)) = &mut self.dashboard {
            let mut snap = builder.snapshot(recorder, health, elapsed_s, self.gates.states());
            snap.aborted_by = abort.as_ref().map(|a| a.gate.clone());
            snap.server_series = self.series.snapshot();
            hub.publish(&snap);
        }
        abort
    }
}
