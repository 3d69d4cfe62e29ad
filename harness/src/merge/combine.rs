//! The shards added up into one run record: histograms added bucket by
//! bucket (so every percentile of the merged run, whole-run, per request,
//! per second, per stage and per fault window, is the percentile of the union
//! of the samples), counts summed, the generator's health combined; and the
//! per-shard rows of the report.

use super::shards::ShardRun;
use crate::record::{Aborted, GeneratorHealth, RunMeta, RunRecord};
use crate::summary::ShardSummary;

/// The merged record of shards read and checked by `shards::read_all`, in
/// order of index. Stages and fault windows are shard 0's: it drove the
/// faults, and every shard ran the same stages.
pub(crate) fn merged_record(runs: &[ShardRun]) -> RunRecord {
    let first = &runs[0];
    let mut recorder = first.recording.recorder.clone();
    let mut generator = first.recording.generator.clone();
    for r in &runs[1..] {
        recorder.merge(&r.recording.recorder);
        add_generator(&mut generator, &r.recording.generator);
    }
    let run = &first.summary.run.meta;
    let started_at = runs
        .iter()
        .map(|r| r.summary.run.meta.started_at)
        .min()
        .unwrap_or(run.started_at);
    let ended_at = runs
        .iter()
        .map(|r| r.summary.run.meta.ended_at)
        .max()
        .unwrap_or(run.ended_at);
    let mut notes = Vec::new();
    for r in runs {
        let index = r.recording.shard.index;
        notes.extend(
            r.summary
                .run
                .notes
                .iter()
                .map(|n| format!("shard {index}: {n}")),
        );
    }
    RunRecord {
        meta: RunMeta {
            scenario: run.scenario.clone(),
            description: run.description.clone(),
            scenario_file: run.scenario_file.clone(),
            seed: run.seed,
            target: run.target.clone(),
            model: run.model,
            started_at,
            ended_at,
            planned_duration_s: run.planned_duration_s,
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: run.git_commit.clone(),
            machine: run.machine.clone(),
            connection: run.connection.clone(),
            shard: None,
            settings: run.settings.clone(),
        },
        recorder,
        stages: first.recording.stages.clone(),
        faults: first.recording.faults.clone(),
        generator,
        stop: runs.iter().find_map(|r| r.recording.stop),
        aborted: aborted_shard(runs, &mut notes),
        missed: Vec::new(),
        notes,
    }
}

/// The first shard a window gate stopped early (the merged run is aborted
/// by it), each such shard named in the notes.
fn aborted_shard(runs: &[ShardRun], notes: &mut Vec<String>) -> Option<Aborted> {
    let mut first: Option<Aborted> = None;
    for r in runs {
        let run = &r.summary.run;
        if let Some(gate) = &run.aborted_by {
            let at_s = run.aborted_at_s.unwrap_or(run.duration_s);
            notes.push(format!(
                "shard {} was aborted at {at_s:.0} s: a window of `{gate}` failed",
                r.recording.shard.index
            ));
            if first.as_ref().is_none_or(|f| at_s < f.at_s) {
                first = Some(Aborted {
                    gate: gate.clone(),
                    at_s,
                    actual: String::new(),
                });
            }
        }
    }
    first
}

/// Start lags add up; CPU adds up second by second (the cores the whole
/// generator used); the peak memory is the largest shard's.
fn add_generator(total: &mut GeneratorHealth, shard: &GeneratorHealth) {
    total
        .start_lag
        .add(&shard.start_lag)
        .expect("auto-resizing histograms add");
    total.late_starts += shard.late_starts;
    total.missed_starts += shard.missed_starts;
    total.scheduled_starts += shard.scheduled_starts;
    if total.cpu_per_second.len() < shard.cpu_per_second.len() {
        total.cpu_per_second.resize(shard.cpu_per_second.len(), 0.0);
    }
    for (t, c) in total.cpu_per_second.iter_mut().zip(&shard.cpu_per_second) {
        *t += c;
    }
    total.peak_rss_bytes = total.peak_rss_bytes.max(shard.peak_rss_bytes);
    // Shards may share a host or not: each second, the busiest host is the run's.
    if total.host.len() < shard.host.len() {
        total.host.resize(shard.host.len(), Default::default());
    }
    for (t, h) in total.host.iter_mut().zip(&shard.host) {
        t.busy = t.busy.max(h.busy);
        t.steal = t.steal.max(h.steal);
        t.run_queue = t.run_queue.max(h.run_queue);
        t.load_1m = t.load_1m.max(h.load_1m);
    }
}

/// The per-shard table: each shard's share and health, its start against the
/// common start (or, without one, against the earliest shard's).
pub(crate) fn shard_rows(runs: &[ShardRun]) -> Vec<ShardSummary> {
    let earliest = runs
        .iter()
        .filter_map(|r| r.summary.run.meta.shard.as_ref().map(|s| s.started_at))
        .min();
    runs.iter()
        .map(|r| {
            let s = &r.summary;
            let info = s.run.meta.shard.as_ref();
            let skew = info.and_then(|i| i.start_skew_ms).or_else(|| {
                let (i, e) = (info?, earliest?);
                Some(((i.started_at - e).as_seconds_f64() * 1e6).round() / 1e3)
            });
            ShardSummary {
                index: r.recording.shard.index,
                folder: r.dir.display().to_string(),
                requests: s.overall.count,
                throughput_rps: s.overall.throughput_rps,
                p99_ms: s.overall.latency_ms.p99,
                scheduled_starts: s.generator.scheduled_starts,
                late_starts: s.generator.late_starts,
                missed_starts: s.generator.missed_starts,
                cpu_mean_cores: s.generator.cpu_mean_cores,
                // A shard's warning (a busy host it kept its schedule on) does not invalidate the merge.
                saturation: s
                    .generator
                    .saturation
                    .clone()
                    .filter(|_| s.generator.invalidates()),
                start_skew_ms: skew.unwrap_or(0.0),
                verdict_alone: s.verdict,
                aborted_by: s.run.aborted_by.clone(),
            }
        })
        .collect()
}

/// Why the merged run is invalid although its combined start lags may look
/// fine: one shard's generator fell behind, so its share was not the load planned.
pub(crate) fn saturated_shards(rows: &[ShardSummary]) -> Option<String> {
    let behind: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.saturation
                .as_ref()
                .map(|why| format!("shard {}: {why}", r.index))
        })
        .collect();
    (!behind.is_empty()).then(|| behind.join("; "))
}
