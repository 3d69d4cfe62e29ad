//! Fault windows: figures before, during and after each fault, overall and per
//! request, and the time the service took to recover.
//!
//! Windows are whole seconds of the run (by completion time): "during" covers
//! every second the fault touched; "before" and "after" are as long as the
//! fault (at least [`MIN_SIDE_S`]) and stop at the run's edges.

use super::figures::{latency, rate, round3};
use super::{FaultSummary, NamedWindow, RequestWindow, StageSummary, WindowFigures};
use crate::record::{Counts, LinkTraffic, RunRecord, Second};
use hdrhistogram::Histogram;
use std::ops::Range;

/// Shortest before/after stretch, seconds: shorter ones are too noisy to compare.
const MIN_SIDE_S: f64 = 5.0;

/// p95 counts as recovered when back within this factor of its value before the fault.
pub(crate) const RECOVERY_FACTOR: f64 = 1.2;

/// Consecutive recovered seconds needed, so one lucky second is not a recovery.
const RECOVERY_STREAK: usize = 3;

pub(super) fn fault_summaries(run: &RunRecord, duration_s: f64) -> Vec<FaultSummary> {
    let overall = &run.recorder.overall().seconds;
    let run_end = (duration_s.ceil() as usize).max(overall.len());
    run.faults
        .iter()
        .map(|f| {
            let [before, during, after] = ranges(f.start_s, f.end_s, run_end);
            let figures = |seconds: &[Second]| {
                [
                    figures(seconds, before.clone()),
                    figures(seconds, during.clone()),
                    figures(seconds, after.clone()),
                ]
            };
            let [b, d, a] = figures(overall);
            // Without a steady state before the fault, "back to before" means nothing.
            let steady = super::recovery::steady(overall, before.clone());
            let requests = run
                .recorder
                .requests()
                .map(|(name, series)| {
                    let [before, during, after] = figures(&series.seconds);
                    RequestWindow {
                        name: name.to_string(),
                        before,
                        during,
                        after,
                    }
                })
                .collect();
            FaultSummary {
                name: f.name.clone(),
                link: f.link.clone(),
                toxic: f.toxic.clone(),
                planned_start_s: f.planned_start_s,
                start_s: f.start_s,
                end_s: f.end_s,
                recovery_s: b
                    .latency_ms
                    .filter(|_| steady.is_ok())
                    .and_then(|l| recovery_s(overall, f.end_s, l.p95)),
                recovery: Some(super::recovery::p95_basis(steady)),
                before: b,
                during: d,
                after: a,
                requests,
                http_requests: f.http_requests,
                warning: f.traffic.as_ref().and_then(|t| warning(&f.link, t)),
                traffic: f.traffic.clone(),
            }
        })
        .collect()
}

/// The warning a window's traffic calls for: figures of a link nothing
/// crossed describe the run, not the fault.
fn warning(link: &str, traffic: &LinkTraffic) -> Option<String> {
    match traffic {
        LinkTraffic::Crossed { .. } => None,
        LinkTraffic::Idle => Some(format!(
            "no request crossed link `{link}` during this window: the fault met no traffic, so figures before, during and after it say nothing about it"
        )),
        LinkTraffic::Unknown { why } => Some(format!(
            "traffic through link `{link}` unknown during this window ({why}): the figures may not show the fault"
        )),
    }
}

pub(super) fn stage_summaries(run: &RunRecord, duration_s: f64) -> Vec<StageSummary> {
    let overall = &run.recorder.overall().seconds;
    let run_end = (duration_s.ceil() as usize).max(overall.len());
    run.stages
        .iter()
        .map(|st| {
            // Stages meet at their boundaries: rounding gives each second to one stage.
            let start = (st.start_s.max(0.0).round() as usize).min(run_end);
            let end = (st.end_s.max(st.start_s).round() as usize).clamp(start, run_end);
            StageSummary {
                name: st.name.clone(),
                description: st.description.clone(),
                start_s: st.start_s,
                end_s: st.end_s,
                figures: figures(overall, start..end),
                requests: run
                    .recorder
                    .requests()
                    .map(|(name, series)| NamedWindow {
                        name: name.to_string(),
                        figures: figures(&series.seconds, start..end),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Second ranges before, during and after a fault from `start` to `end`.
fn ranges(start: f64, end: f64, run_end: usize) -> [Range<usize>; 3] {
    let side = (end - start).max(MIN_SIDE_S);
    let first = start.max(0.0).floor() as usize;
    let last = (end.max(start).ceil() as usize).min(run_end).max(first);
    let before = ((start - side).max(0.0).floor() as usize).min(first)..first;
    let after = last..((end + side).ceil() as usize).min(run_end).max(last);
    [before, first..last, after]
}

fn figures(seconds: &[Second], range: Range<usize>) -> WindowFigures {
    let mut h = Histogram::<u64>::new(2).expect("2 significant figures is valid");
    let mut counts = Counts::default();
    for second in seconds
        .get(range.start.min(seconds.len())..range.end.min(seconds.len()))
        .unwrap_or(&[])
    {
        h.add(&second.latency)
            .expect("auto-resizing histograms merge");
        counts.merge(&second.counts);
    }
    let span = range.len() as f64;
    WindowFigures {
        start_s: range.start as f64,
        end_s: range.end as f64,
        count: counts.total,
        throughput_rps: if span > 0.0 {
            round3(counts.total as f64 / span)
        } else {
            0.0
        },
        latency_ms: latency(&h),
        shed_rate: rate(counts.shed, counts.total),
        error_rate: rate(counts.errors(), counts.total),
    }
}

/// Seconds from `end` until the per-second p95 stays within [`RECOVERY_FACTOR`]
/// of `before_p95_ms` for [`RECOVERY_STREAK`] seconds with traffic (fewer when
/// the run ends first).
fn recovery_s(seconds: &[Second], end: f64, before_p95_ms: f64) -> Option<f64> {
    let limit_us = before_p95_ms * 1000.0 * RECOVERY_FACTOR;
    let busy: Vec<(usize, bool)> = seconds
        .iter()
        .enumerate()
        .skip(end.max(0.0).floor() as usize)
        .filter(|(_, s)| !s.latency.is_empty())
        .map(|(i, s)| (i, s.latency.value_at_quantile(0.95) as f64 <= limit_us))
        .collect();
    (0..busy.len())
        .find(|&k| {
            let streak = &busy[k..(k + RECOVERY_STREAK).min(busy.len())];
            streak.iter().all(|(_, ok)| *ok)
        })
        .map(|k| round3((busy[k].0 as f64 - end).max(0.0)))
}
