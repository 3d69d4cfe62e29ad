//! The end of a measured run: its report written (again, marked so, when a
//! stop came while it was written), the table and closing lines printed,
//! the run recorded in the history, and its exit code.

use super::{sharded, test_hook, Measured, RunArgs, RunError, RunOutcome};
use crate::baseline::BaselineComparison;
use crate::exit;
use crate::record::RunRecord;
use crate::report;
use crate::stop;
use crate::summary::Verdict;
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Writes the report of a measured run (with the verdict against a baseline
/// when there is one), prints its table, and returns its outcome.
pub(crate) fn write_report(
    measured: Measured,
    baseline: Option<&BaselineComparison>,
    args: &RunArgs,
    out: &mut dyn Write,
) -> Result<RunOutcome, RunError> {
    let Measured {
        record,
        summary,
        server_metrics,
    } = measured;
    let unwritten = summary.clone();
    let mut written = report::write_run_report(&record, summary, baseline, &args.reports_dir)
        .context("writing the report")
        .map_err(RunError::Internal)?;
    test_hook::hold_report(out);
    if let Some(reason) = stop::requested().filter(|_| !record.interrupted()) {
        // Stopped while the report was written: it is written again, marked
        // so. The request is recorded once, so this happens at most once.
        let mut summary = unwritten;
        crate::gate::mark_stopped(&mut summary, reason);
        report::write_report_files(&record, &mut summary, baseline, &written.dir)
            .context("writing the report again, marked interrupted")
            .map_err(RunError::Internal)?;
        written.verdict = summary.verdict;
        written.summary = summary;
    }
    args.live.show_final(&written.summary);
    sharded::write_recording(&record, args, &written.dir)?;
    if let Some(text) = server_metrics {
        let _ = std::fs::write(written.dir.join("server-metrics.prom"), text);
    }
    if !args.quiet {
        let _ = report::print_summary_table(&written.summary, out);
    }
    if let Some(reason) = written.summary.run.stopped_by {
        let _ = writeln!(
            out,
            "interrupted: {}; the report holds what was measured until then",
            reason.describe()
        );
    }
    if let Some(a) = &record.aborted {
        let _ = writeln!(
            out,
            "aborted at {:.0} s: a window of `{}` failed ({}); the report holds what was measured until then",
            a.at_s, a.gate, a.actual
        );
    }
    let exit_code = exit::of_verdict(written.verdict);
    let exit_code = sharded::exit_code(args, exit_code, written.verdict, out);
    record_history(args, &written, &record, out);
    let _ = writeln!(
        out,
        "report: {}",
        display_path(&written.dir.join("index.html"))
    );
    Ok(RunOutcome {
        report_dir: written.dir,
        summary: written.summary,
        interrupted: written.verdict == Verdict::Interrupted,
        exit_code,
    })
}

/// Records the run in the history (a shard's share is not a run: `harness
/// merge` records the merged one); a failure is a note, never the run's.
fn record_history(
    args: &RunArgs,
    written: &report::RunReport,
    record: &RunRecord,
    out: &mut dyn Write,
) {
    if args.sharding.shard.is_some() {
        return;
    }
    let line = crate::history::record_line(
        &args.history,
        &args.reports_dir,
        &written.summary,
        &record.recorder,
        Some(&written.dir),
    );
    // --quiet keeps the output to the report's path, and notes.
    if let Some(line) = line.filter(|l| !args.quiet || l.starts_with("note:")) {
        let _ = writeln!(out, "{line}");
    }
}

/// A path relative to the working directory when it is under it.
fn display_path(p: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf())
        .display()
        .to_string()
}
