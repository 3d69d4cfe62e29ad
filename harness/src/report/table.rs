//! The summary table printed on the terminal at the end of a run.

use crate::summary::{RequestSummary, Summary};
use std::io::{self, Write};

/// A fault's line when its gates held in every second of it.
const HELD: &str = "the gates held through the fault: nothing to recover from";

pub(crate) fn print_summary_table(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let width = summary
        .requests
        .iter()
        .map(|r| r.name.chars().count())
        .chain([12])
        .max()
        .unwrap_or(12);
    writeln!(
        out,
        "{:<width$}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10}  {:>6}  {:>6}",
        "request",
        "count",
        "rps",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "p99 uncorr",
        "503 %",
        "err %"
    )?;
    for r in summary.requests.iter().chain([&summary.overall]) {
        row(out, r, width)?;
    }
    for r in &summary.requests {
        if r.gave_up > 0 {
            writeln!(
                out,
                "{}: {} poll(s) gave up (the awaited value never came)",
                r.name, r.gave_up
            )?;
        }
        if r.schema_mismatches > 0 {
            writeln!(
                out,
                "{}: {} of {} answer(s) did not match the target's /openapi.json: {}",
                r.name,
                r.schema_mismatches,
                r.schema_checked,
                r.schema_examples.first().map_or("", String::as_str)
            )?;
        }
    }
    if summary.overall.schema_checked > 0 && summary.overall.schema_mismatches == 0 {
        writeln!(
            out,
            "contract: all {} checked answers matched the target's /openapi.json",
            summary.overall.schema_checked
        )?;
    }
    for f in &summary.faults {
        if let Some(h) = &f.http_requests {
            writeln!(
                out,
                "fault {}: affected {} of {} requests through the proxy{}",
                f.name,
                h.affected,
                h.requests,
                h.affected_share
                    .map_or(String::new(), |s| format!(" ({:.1} %)", s * 100.0))
            )?;
        }
        if let Some(w) = &f.warning {
            writeln!(out, "fault {}: warning: {w}", f.name)?;
            if matches!(f.traffic, Some(crate::record::LinkTraffic::Idle)) {
                continue;
            }
        }
        let p95 = |w: &super::summary::WindowFigures| {
            w.latency_ms
                .map_or("-".to_string(), |l| format!("{:.1}", l.p95))
        };
        writeln!(
            out,
            "fault {} ({:.1}s-{:.1}s): p95 {} → {} → {} ms, {}",
            f.name,
            f.start_s,
            f.end_s,
            p95(&f.before),
            p95(&f.during),
            p95(&f.after),
            match (&f.recovery, f.recovery_s) {
                (
                    Some(crate::summary::Recovery {
                        not_measurable: Some(why),
                        ..
                    }),
                    _,
                ) => why.clone(),
                (Some(crate::summary::Recovery { held: true, .. }), _) => HELD.to_string(),
                (_, Some(s)) => format!("recovered after {s:.0}s"),
                (_, None) => "recovered not by the end of the run".to_string(),
            }
        )?;
    }
    for g in &summary.gates {
        writeln!(
            out,
            "gate {:<4}  {}  (actual {})",
            match (g.passed, &g.not_evaluated) {
                (_, Some(_)) => "n/e",
                (true, None) => "ok",
                (false, None) => "FAIL",
            },
            g.gate,
            g.actual
        )?;
    }
    if let Some(why) = summary.generator.warning() {
        writeln!(out, "WARNING: {why}")?;
    } else if let Some(why) = &summary.generator.saturation {
        writeln!(out, "INVALID: {why}")?;
    } else if let Some(why) = &summary.generator.inflated {
        writeln!(out, "note: {why}")?;
    }
    if summary.run.interrupted {
        writeln!(
            out,
            "INTERRUPTED: the run was stopped early; figures cover what was measured"
        )?;
    }
    for note in &summary.run.notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(
        out,
        "verdict: {} ({})",
        summary.verdict.label(),
        summary.verdict_reason
    )
}

fn row(out: &mut dyn Write, r: &RequestSummary, width: usize) -> io::Result<()> {
    let l = &r.latency_ms;
    writeln!(
        out,
        "{:<width$}  {:>8}  {:>8.1}  {:>8.2}  {:>8.2}  {:>8.2}  {:>8.2}  {:>8.2}  {:>10.2}  {:>6.2}  {:>6.2}",
        r.name,
        r.count,
        r.throughput_rps,
        l.p50,
        l.p95,
        l.p99,
        l.p99_9,
        l.max,
        r.uncorrected_p99_ms,
        r.shed_rate * 100.0,
        r.error_rate * 100.0
    )
}
