//! The plan's windows that did not happen in a run (see
//! `record::MissedWindow`): faults dropped before the load because this
//! target cannot take them, faults and worker stops the timeline never
//! started or could not inject, and stages the run never reached.

use crate::record::{FaultWindow, MissedWindow, StageMark, WindowKind};
use crate::scenario::Scenario;

/// Every planned fault and stage of `sc` that is not among the windows
/// (`faults`) and stages (`stages`) the run recorded, when the load ran
/// `elapsed_s` seconds.
pub(super) fn missed_windows(
    sc: &Scenario,
    faults: &[FaultWindow],
    stages: &[StageMark],
    elapsed_s: f64,
) -> Vec<MissedWindow> {
    let mut missed = sc.not_injected.clone();
    let planned = sc
        .faults
        .iter()
        .map(|f| (f.name.as_str(), f.at.as_secs_f64()))
        .chain(
            sc.worker_stops
                .iter()
                .map(|w| (w.name.as_str(), w.at.as_secs_f64())),
        );
    for (name, at_s) in planned {
        if faults.iter().any(|w| w.name == name) || missed.iter().any(|m| m.name == name) {
            continue;
        }
        let reason = if at_s >= elapsed_s {
            format!(
                "the run ended at {elapsed_s:.1} s, before the fault's planned start at {at_s:.1} s"
            )
        } else {
            "the fault could not be injected (the notes say why)".to_string()
        };
        missed.push(MissedWindow::fault(name, reason));
    }
    for (stage, (start_s, _)) in sc.load.stages.iter().zip(sc.stage_bounds()) {
        let ran = stages.iter().any(|m| m.name == stage.name);
        let listed = missed.iter().any(|m| m.name == stage.name);
        if stage.name.is_empty() || ran || listed {
            continue;
        }
        missed.push(MissedWindow {
            name: stage.name.clone(),
            kind: WindowKind::Stage,
            reason: format!(
                "the run ended at {elapsed_s:.1} s, before the stage's start at {start_s:.1} s"
            ),
        });
    }
    missed
}
