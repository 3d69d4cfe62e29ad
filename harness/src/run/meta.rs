//! What a run hands to the summary and the report: its record, with the
//! metadata that names what was run against what (the target as reports
//! describe it, its settings, the commit, the machine).

use super::missed;
use crate::backend::Connection;
use crate::load::LoadResult;
use crate::record::{FaultWindow, MachineInfo, RunMeta, RunRecord};
use crate::scenario::{self, Scenario, TargetSpec};
use crate::stop;

/// What the run hands to the summary and the report.
pub(super) fn record_of(
    sc: &Scenario,
    loaded: LoadResult,
    faults: Vec<FaultWindow>,
    notes: Vec<String>,
    connection: Connection,
) -> RunRecord {
    let missed = missed::missed_windows(sc, &faults, &loaded.stages, loaded.elapsed_s);
    RunRecord {
        meta: RunMeta {
            scenario: sc.name.clone(),
            description: sc.description.clone(),
            scenario_file: sc.file.clone(),
            seed: sc.seed,
            target: target_description(&sc.target),
            settings: target_settings(sc),
            model: sc.load.model,
            started_at: loaded.started_at,
            ended_at: loaded.ended_at,
            planned_duration_s: sc.load.total().as_secs_f64(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            machine: MachineInfo::current(),
            connection: Some(connection),
            shard: None,
        },
        recorder: loaded.recorder,
        stages: loaded.stages,
        faults,
        generator: loaded.generator,
        // The one stop request, read now: goose may have returned before any
        // timer saw it, and a stop before the load began counts too.
        stop: stop::requested(),
        aborted: loaded.aborted,
        missed,
        notes,
    }
}

/// The target's settings as the report lists them (see `RunMeta::settings`).
fn target_settings(sc: &Scenario) -> Vec<String> {
    match &sc.target {
        TargetSpec::Bundled {
            server_args,
            gateway_args,
            ..
        } => [("server", server_args), ("gateway", gateway_args)]
            .into_iter()
            .filter(|(_, args)| !args.is_empty())
            .map(|(who, args)| format!("{who} {}", crate::redact::scrub(&args.join(" "))))
            .collect(),
        TargetSpec::Url(_) => sc.target_settings.clone(),
    }
}

/// What was load-tested, as reports name it (a URL's password shown as `***`).
pub(crate) fn target_description(spec: &TargetSpec) -> String {
    match spec {
        TargetSpec::Bundled { profile, .. } => format!(
            "bundled reference-server ({} profile)",
            scenario::profile::name(*profile)
        ),
        TargetSpec::Url(url) => crate::redact::url(url),
    }
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}
