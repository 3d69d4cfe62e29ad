//! `recording.json`: what a shard's run folder holds beside its ordinary
//! report so that `harness merge` can rebuild the shard's record exactly and
//! add the shards up. The per-second latency histograms are the `.hlog`
//! interval logs themselves (named here per request); this file adds the
//! whole-run histograms (corrected latency and service time, at their
//! recording precision), the outcome counts per second and per status, the
//! generator's health, the stages and the fault windows. Histograms are
//! HdrHistogram's compressed V2 payloads in base64, as in the `.hlog` lines.

use crate::record::{
    Counts, FaultWindow, Findings, GeneratorHealth, HostSecond, Recorder, RunRecord, Second,
    Series, StageMark,
};
use crate::report::hlog;
use anyhow::{Context, Result};
use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use super::Shard;

/// The file's name in a run folder.
pub(crate) const FILE: &str = "recording.json";

/// Bumped when a field changes meaning.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct RecordingFile {
    format: u32,
    shard: Shard,
    /// The scenario's request names, in its order.
    names: Vec<String>,
    /// All requests first, then one per request name.
    series: Vec<SeriesFile>,
    generator: GeneratorFile,
    stages: Vec<StageMark>,
    faults: Vec<FaultWindow>,
    interrupted: bool,
    /// Why the shard stopped early, when it did.
    #[serde(default)]
    stop: Option<crate::stop::StopReason>,
    /// Flows whose every step got an expected answer (goodput).
    flows_completed: u64,
}

#[derive(Serialize, Deserialize)]
struct SeriesFile {
    name: String,
    /// The interval log holding this series' per-second latency histograms.
    hlog: String,
    latency: String,
    service: String,
    counts: Counts,
    statuses: BTreeMap<u16, u64>,
    /// Outcome counts per second, by completion time.
    seconds: Vec<Counts>,
    /// Polls that gave up and answers checked against the contract.
    findings: Findings,
}

#[derive(Serialize, Deserialize)]
struct GeneratorFile {
    start_lag: String,
    late_starts: u64,
    missed_starts: u64,
    scheduled_starts: u64,
    cpu_per_second: Vec<f64>,
    peak_rss_bytes: u64,
    #[serde(default)]
    host: Vec<HostSecond>,
}

/// A shard's record, read back from its run folder.
pub(crate) struct Recording {
    pub(crate) shard: Shard,
    pub(crate) recorder: Recorder,
    pub(crate) generator: GeneratorHealth,
    pub(crate) stages: Vec<StageMark>,
    pub(crate) faults: Vec<FaultWindow>,
    pub(crate) stop: Option<crate::stop::StopReason>,
}

/// Writes `recording.json` into `dir`, beside the `.hlog` files of the same run.
pub fn write(run: &RunRecord, shard: Shard, dir: &Path) -> Result<()> {
    let all = std::iter::once(("all requests", run.recorder.overall()));
    let files = hlog::file_names(run.recorder.names());
    let series = all
        .chain(run.recorder.requests())
        .zip(files)
        .map(|((name, s), hlog)| {
            Ok(SeriesFile {
                name: name.to_string(),
                hlog,
                latency: encode(&s.latency)?,
                service: encode(&s.service)?,
                counts: s.counts,
                statuses: s.statuses.clone(),
                seconds: s.seconds.iter().map(|sec| sec.counts).collect(),
                findings: s.findings.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let g = &run.generator;
    let file = RecordingFile {
        format: FORMAT,
        shard,
        names: run.recorder.names().to_vec(),
        series,
        generator: GeneratorFile {
            start_lag: encode(&g.start_lag)?,
            late_starts: g.late_starts,
            missed_starts: g.missed_starts,
            scheduled_starts: g.scheduled_starts,
            cpu_per_second: g.cpu_per_second.clone(),
            peak_rss_bytes: g.peak_rss_bytes,
            host: g.host.clone(),
        },
        stages: run.stages.clone(),
        faults: run.faults.clone(),
        interrupted: run.interrupted(),
        stop: run.stop,
        flows_completed: run.recorder.flows_completed(),
    };
    let path = dir.join(FILE);
    let json = serde_json::to_vec(&file).context("serialising recording.json")?;
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))
}

/// Reads a shard's record back from its run folder.
pub(crate) fn read(dir: &Path) -> Result<Recording> {
    let path = dir.join(FILE);
    let text = std::fs::read(&path).with_context(|| {
        format!(
            "reading {}: is this the folder of a sharded run (harness run --shard I/N)?",
            path.display()
        )
    })?;
    let file: RecordingFile = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{} is not a recording this harness can read",
            path.display()
        )
    })?;
    if file.format != FORMAT {
        anyhow::bail!(
            "{} has recording format {}, this harness reads format {FORMAT}",
            path.display(),
            file.format
        );
    }
    let mut series = Vec::with_capacity(file.series.len());
    for s in &file.series {
        series.push(
            read_series(dir, s)
                .with_context(|| format!("{}: series `{}`", path.display(), s.name))?,
        );
    }
    let overall = series.remove(0);
    let recorder = Recorder::from_series(file.names, overall, series, file.flows_completed)
        .with_context(|| {
            format!(
                "{}: the series do not match the request names",
                path.display()
            )
        })?;
    let g = file.generator;
    let generator = GeneratorHealth {
        start_lag: decode(&g.start_lag).context("the generator's start lag")?,
        late_starts: g.late_starts,
        missed_starts: g.missed_starts,
        scheduled_starts: g.scheduled_starts,
        cpu_per_second: g.cpu_per_second,
        peak_rss_bytes: g.peak_rss_bytes,
        host: g.host,
    };
    Ok(Recording {
        shard: file.shard,
        recorder,
        generator,
        stages: file.stages,
        faults: file.faults,
        stop: file.stop,
    })
}

fn read_series(dir: &Path, s: &SeriesFile) -> Result<Series> {
    let mut seconds: Vec<Second> = s
        .seconds
        .iter()
        .map(|counts| Second {
            counts: *counts,
            ..Second::empty()
        })
        .collect();
    let path = dir.join(&s.hlog);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let intervals = hlog::read_intervals(&bytes).with_context(|| path.display().to_string())?;
    for (t, hist) in intervals {
        let second = seconds.get_mut(t as usize).with_context(|| {
            format!(
                "{}: an interval at {t} s lies after the run's last second",
                path.display()
            )
        })?;
        second
            .latency
            .add(&hist)
            .map_err(|e| anyhow::anyhow!("{}: second {t}: {e:?}", path.display()))?;
    }
    Ok(Series {
        latency: decode(&s.latency).context("the whole-run latency")?,
        service: decode(&s.service).context("the whole-run service time")?,
        counts: s.counts,
        statuses: s.statuses.clone(),
        seconds,
        findings: s.findings.clone(),
    })
}

fn encode(h: &Histogram<u64>) -> Result<String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .map_err(|e| anyhow::anyhow!("encoding a histogram: {e:?}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Decodes into an auto-resizing histogram, so shards with different ranges add up.
fn decode(text: &str) -> Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .context("the histogram is not base64")?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("decoding a histogram: {e:?}"))?;
    let mut grown = Histogram::new(h.sigfig()).context("the histogram's precision")?;
    grown
        .add(&h)
        .map_err(|e| anyhow::anyhow!("decoding a histogram: {e:?}"))?;
    Ok(grown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::LoadModel;
    use crate::record::{Finding, MachineInfo, Outcome, RunMeta, Sample};

    fn run() -> RunRecord {
        let mut recorder = Recorder::new(vec!["GET /menu".into(), "POST /orders".into()]);
        for i in 0..500u64 {
            recorder.record(&Sample {
                request: (i % 2) as u32,
                status: if i % 7 == 0 { 503 } else { 200 },
                outcome: if i % 7 == 0 {
                    Outcome::Shed
                } else {
                    Outcome::Ok
                },
                intended_us: i * 9_000,
                latency_us: 1_000 + i * i * 13,
                service_us: 900 + i,
            });
        }
        for _ in 0..42 {
            recorder.flow_completed();
        }
        recorder.note(1, &Finding::GaveUp);
        recorder.note(
            0,
            &Finding::Checked(Some("status 200: /id is not a string".into())),
        );
        let mut generator = GeneratorHealth::default();
        generator.record_start_lag(120);
        let now = time::OffsetDateTime::now_utc();
        RunRecord {
            meta: RunMeta {
                scenario: "s".into(),
                description: String::new(),
                scenario_file: "s.toml".into(),
                seed: 1,
                target: "http://127.0.0.1:9".into(),
                model: LoadModel::Open,
                started_at: now,
                ended_at: now,
                planned_duration_s: 5.0,
                harness_version: "0".into(),
                git_commit: None,
                machine: MachineInfo::current(),
                connection: None,
                shard: None,
                settings: Vec::new(),
            },
            recorder,
            stages: Vec::new(),
            faults: Vec::new(),
            generator,
            aborted: None,
            stop: None,
            missed: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_recording_reads_back_as_the_record_it_was_written_from() {
        let dir = tempfile::tempdir().unwrap();
        let run = run();
        hlog::write_hlogs(&run, dir.path()).unwrap();
        write(&run, Shard { index: 1, count: 2 }, dir.path()).unwrap();
        let back = read(dir.path()).unwrap();
        assert_eq!(back.shard, Shard { index: 1, count: 2 });
        let (a, b) = (run.recorder.overall(), back.recorder.overall());
        assert_eq!(a.latency, b.latency);
        assert_eq!(a.service, b.service);
        assert_eq!(a.counts, b.counts);
        assert_eq!(a.statuses, b.statuses);
        assert_eq!(a.seconds.len(), b.seconds.len());
        for (x, y) in a.seconds.iter().zip(&b.seconds) {
            assert_eq!(x.counts, y.counts);
            assert_eq!(x.latency, y.latency);
        }
        let orders = back.recorder.requests().nth(1).unwrap().1;
        assert_eq!(
            orders.counts,
            run.recorder.requests().nth(1).unwrap().1.counts
        );
        assert_eq!(back.generator.start_lag.len(), 1);
        assert_eq!(back.recorder.flows_completed(), 42);
        assert_eq!(a.findings, b.findings);
        assert_eq!(b.findings.gave_up, 1);
        assert_eq!(b.findings.schema_mismatches, 1);
    }
}
