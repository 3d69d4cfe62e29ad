//! RunRecord → Summary: whole-run figures, per-second series, stages, fault
//! windows and generator health. The verdicts are left for `gate::judge`.

use super::figures::{latency, ms, rate, round3};
use super::windows::{fault_summaries, stage_summaries};
use super::{
    FlowFigures, GeneratorSummary, PercentilePoint, RequestSummary, RunInfo, SecondSeries, Summary,
    Timeline, Verdict, SCHEMA_VERSION,
};
use crate::record::{Counts, GeneratorHealth, LoadModel, RunRecord, Second, Series};
use hdrhistogram::Histogram;

/// Highest "nines" level of the distribution (5 = p99.999), and its resolution.
const MAX_NINES: f64 = 5.0;
const NINES_STEP: f64 = 0.1;

/// Computes the figures of a run. Its gates are empty and its verdict a
/// plain pass until `gate::judge` decides them.
pub(crate) fn compute(run: &RunRecord) -> Summary {
    let duration_s = run_duration_s(run);
    let overall = request_summary("all requests", run.recorder.overall(), duration_s);
    let requests = run
        .recorder
        .requests()
        .map(|(name, series)| request_summary(name, series, duration_s))
        .collect();
    let timeline = Timeline {
        interval_s: 1.0,
        overall: second_series(&run.recorder.overall().seconds, duration_s),
        requests: run
            .recorder
            .requests()
            .map(|(name, series)| (name.to_string(), second_series(&series.seconds, duration_s)))
            .collect(),
    };
    Summary {
        schema_version: SCHEMA_VERSION,
        run: run_info(run, duration_s),
        verdict: Verdict::Pass,
        verdict_reason: String::new(),
        overall,
        requests,
        timeline,
        stages: stage_summaries(run, duration_s),
        faults: fault_summaries(run, duration_s),
        generator: generator_summary(&run.generator, run.recorder.overall(), run.meta.model),
        gates: Vec::new(),
        shards: Vec::new(),
        flows: FlowFigures {
            started: run.generator.scheduled_starts,
            completed: run.recorder.flows_completed(),
            goodput_per_s: round3(run.recorder.flows_completed() as f64 / duration_s),
        },
        missed_windows: run.missed.clone(),
        server_metrics: None,
    }
}

/// The measured length of the run; a record without usable clock times
/// (e.g. built in a test) falls back to the seconds it holds.
fn run_duration_s(run: &RunRecord) -> f64 {
    let measured = (run.meta.ended_at - run.meta.started_at).as_seconds_f64();
    let recorded = run.recorder.overall().seconds.len() as f64;
    if measured > 0.0 {
        measured
    } else {
        recorded.max(1.0)
    }
}

fn run_info(run: &RunRecord, duration_s: f64) -> RunInfo {
    RunInfo {
        meta: run.meta.clone(),
        duration_s: round3(duration_s),
        interrupted: run.interrupted(),
        stopped_by: run.stop,
        aborted_by: run.aborted.as_ref().map(|a| a.gate.clone()),
        aborted_at_s: run.aborted.as_ref().map(|a| round3(a.at_s)),
        notes: run.notes.clone(),
    }
}

fn request_summary(name: &str, series: &Series, duration_s: f64) -> RequestSummary {
    let c: &Counts = &series.counts;
    let uncorrected = |q| {
        if series.service.is_empty() {
            0.0
        } else {
            ms(series.service.value_at_quantile(q))
        }
    };
    RequestSummary {
        name: name.to_string(),
        count: c.total,
        ok: c.ok,
        shed: c.shed,
        errors: c.errors(),
        http_errors: c.http_error,
        timeouts: c.timeout,
        transport_errors: c.transport,
        throughput_rps: round3(c.total as f64 / duration_s),
        latency_ms: latency(&series.latency).unwrap_or_default(),
        uncorrected_p50_ms: uncorrected(0.50),
        uncorrected_p99_ms: uncorrected(0.99),
        gave_up: series.findings.gave_up,
        schema_checked: series.findings.checked,
        schema_mismatches: series.findings.schema_mismatches,
        schema_examples: series.findings.schema_examples.clone(),
        shed_rate: rate(c.shed, c.total),
        error_rate: rate(c.errors(), c.total),
        statuses: series
            .statuses
            .iter()
            .map(|(status, n)| (status.to_string(), *n))
            .collect(),
        distribution: distribution(&series.latency),
    }
}

/// Latency at log-spaced percentiles (p0, p20.6, ..., p90, ..., p99.999), up to
/// the resolution the sample count supports.
fn distribution(h: &Histogram<u64>) -> Vec<PercentilePoint> {
    if h.is_empty() {
        return Vec::new();
    }
    let resolvable = (h.len() as f64).log10();
    let steps = (MAX_NINES.min(resolvable) / NINES_STEP).round() as usize;
    (0..=steps)
        .map(|i| {
            let nines = i as f64 * NINES_STEP;
            let q = 1.0 - 10f64.powf(-nines);
            PercentilePoint {
                percentile: (q * 100.0 * 1e6).round() / 1e6,
                latency_ms: ms(h.value_at_quantile(q)),
            }
        })
        .collect()
}

/// Per-second figures. `rps` is the count over the part of the second the run
/// covered, so the run's last, partial second is not shown as a drop.
fn second_series(seconds: &[Second], duration_s: f64) -> SecondSeries {
    let mut s = SecondSeries::default();
    for (t, second) in seconds.iter().enumerate() {
        // Completions after the run's end (requests still in flight) count as a full second.
        let covered = match duration_s - t as f64 {
            c if c >= 1.0 || c <= 0.0 => 1.0,
            c => c.max(0.1),
        };
        let h = &second.latency;
        let q = |q| (!h.is_empty()).then(|| ms(h.value_at_quantile(q)));
        s.t_s.push(t as u32);
        s.count.push(second.counts.total);
        s.rps.push(round3(second.counts.total as f64 / covered));
        s.p50_ms.push(q(0.50));
        s.p95_ms.push(q(0.95));
        s.p99_ms.push(q(0.99));
        s.shed.push(second.counts.shed);
        s.errors.push(second.counts.errors());
    }
    s
}

fn generator_summary(g: &GeneratorHealth, overall: &Series, model: LoadModel) -> GeneratorSummary {
    let inflated = if overall.service.is_empty() {
        None
    } else {
        g.inflation(overall.service.value_at_quantile(0.50))
    };
    let cpu = &g.cpu_per_second;
    let cpu_mean_cores = if cpu.is_empty() {
        0.0
    } else {
        round3(cpu.iter().sum::<f64>() / cpu.len() as f64)
    };
    let (saturation, saturation_effect) =
        super::host::saturation(g, model, g.saturation(), cpu_mean_cores);
    // A generator that fell behind (or a host that broke its schedule) is
    // already the headline; inflation is the milder finding of one that kept
    // its schedule but not tightly enough.
    let inflated = inflated.filter(|_| saturation.is_none());
    let lag = |q| {
        if g.start_lag.is_empty() {
            0.0
        } else {
            ms(g.start_lag.value_at_quantile(q))
        }
    };
    GeneratorSummary {
        scheduled_starts: g.scheduled_starts,
        late_starts: g.late_starts,
        missed_starts: g.missed_starts,
        start_lag_p50_ms: lag(0.50),
        start_lag_p99_ms: lag(0.99),
        start_lag_max_ms: if g.start_lag.is_empty() {
            0.0
        } else {
            ms(g.start_lag.max())
        },
        cpu_mean_cores,
        cpu_max_cores: round3(cpu.iter().copied().fold(0.0, f64::max)),
        peak_rss_mb: round3(g.peak_rss_bytes as f64 / (1024.0 * 1024.0)),
        saturation,
        inflated,
        saturation_effect,
        cpu_per_second: cpu.iter().map(|&c| round3(c)).collect(),
        host: super::host::host_summary(&g.host),
    }
}
