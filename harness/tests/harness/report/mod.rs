//! The run report: figures computed from known samples, every file written,
//! summary.json valid against the committed schema, the HTML self-contained
//! with its charts, junit.xml with one case per gate, the `latest` link.
//! This module holds the synthetic run records with known samples that these
//! tests and the gate tests are built from; each concern has its own file.

mod compare;
mod figures;
mod hlog;
mod outputs;
mod recovery;
pub(crate) mod schema;
mod size;

use harness::gate;
use harness::record::{
    GeneratorHealth, LoadModel, MachineInfo, Outcome, Recorder, RunMeta, RunRecord, Sample,
    StageMark,
};
use harness::report::{self, RunReport};
use harness::slo::Gate;
use std::path::Path;
use time::macros::datetime;
use time::Duration;

/// A run record of `seconds` seconds made of `samples`, with request names `names`.
pub fn synthetic_run(
    names: &[&str],
    seconds: u64,
    samples: impl IntoIterator<Item = Sample>,
) -> RunRecord {
    let mut recorder = Recorder::new(names.iter().map(|n| n.to_string()).collect());
    for s in samples {
        recorder.record(&s);
    }
    let started_at = datetime!(2026-11-22 01:30:00 UTC);
    RunRecord {
        meta: RunMeta {
            scenario: "synthetic".into(),
            description: "samples with known values".into(),
            scenario_file: "scenarios/synthetic.toml".into(),
            seed: 42,
            target: "http://127.0.0.1:9".into(),
            settings: Vec::new(),
            model: LoadModel::Open,
            started_at,
            ended_at: started_at + Duration::seconds(seconds as i64),
            planned_duration_s: seconds as f64,
            harness_version: "0.1.0".into(),
            git_commit: Some("0123456789abcdef".into()),
            machine: MachineInfo::current(),
            connection: None,
            shard: None,
        },
        recorder,
        stages: vec![
            StageMark {
                name: "warm-up".into(),
                description: "ramp to 100/s".into(),
                start_s: 0.0,
                end_s: seconds as f64 / 2.0,
            },
            StageMark {
                name: "steady".into(),
                description: "100/s constant".into(),
                start_s: seconds as f64 / 2.0,
                end_s: seconds as f64,
            },
        ],
        faults: Vec::new(),
        generator: GeneratorHealth::default(),
        stop: None,
        aborted: None,
        missed: Vec::new(),
        notes: Vec::new(),
    }
}

/// A finished request of `latency_ms`, intended to start at `at_ms`.
pub fn sample(request: u32, outcome: Outcome, at_ms: u64, latency_ms: u64) -> Sample {
    Sample {
        request,
        status: match outcome {
            Outcome::Ok => 200,
            Outcome::Shed => 503,
            Outcome::HttpError => 500,
            Outcome::Timeout | Outcome::Transport => 0,
        },
        outcome,
        intended_us: at_ms * 1000,
        latency_us: latency_ms * 1000,
        service_us: latency_ms * 1000 / 2,
    }
}

/// 1,000 requests at 10 ms to GET /menu over 10 s, and 10 shed requests at 500 ms to POST /orders.
pub fn known_run() -> RunRecord {
    let fast = (0..1000).map(|i| sample(0, Outcome::Ok, i * 10, 10));
    let slow = (0..10).map(|i| sample(1, Outcome::Shed, i * 1000, 500));
    synthetic_run(&["GET /menu", "POST /orders"], 10, fast.chain(slow))
}

fn gates(texts: &[&str]) -> Vec<Gate> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

/// Summarises `run`, judges it against `gates` and writes its report under
/// `root`, as a finished run does.
pub fn write_report(run: &RunRecord, gates: &[Gate], root: &Path) -> anyhow::Result<RunReport> {
    report::write_run_report(run, gate::summarize(run, gates), None, root)
}
