//! The one renderer: every report the harness writes is drawn here, through
//! the shared templates (`templates`) and charts (`charts`): the run report
//! (summary.json, index.html, junit.xml, summary.md and HDR histogram logs in
//! `<reports root>/<scenario>/<UTC timestamp>/`, the `latest` link beside
//! it, with the baseline verdict when the run was judged against one), the
//! comparison (`compare`), the baseline outputs (`baseline`), the capacity
//! report (`capacity`), and the tables printed on the terminal.
//!
//! A part that fails (a chart, the HTML) becomes a note in the report rather
//! than losing the report: summary.json is always written, last, so it lists
//! every such note.

pub(crate) mod baseline;
pub(crate) mod capacity;
pub(crate) mod charts;
pub mod compare;
pub(crate) mod history;
pub(crate) mod hlog;
pub(crate) mod output;
pub(crate) mod render;
mod table;
mod templates;

pub(crate) use table::print_summary_table;

use crate::baseline::BaselineComparison;
use crate::record::RunRecord;
use crate::summary::{self, Summary, Verdict};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// What `write_run_report` produced.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The run folder (holds index.html, summary.json, junit.xml, summary.md, *.hlog).
    pub dir: PathBuf,
    pub summary: Summary,
    pub verdict: Verdict,
}

/// Writes the report of `run` (whose figures and verdicts are `summary`, see
/// `gate::summarize`) into a new folder under `reports_root/<scenario>/`,
/// pointing `latest` at it; `baseline` adds the verdict against a baseline.
pub fn write_run_report(
    run: &RunRecord,
    mut summary: Summary,
    baseline: Option<&BaselineComparison>,
    reports_root: &Path,
) -> Result<RunReport> {
    let dir = output::create_run_dir(reports_root, &run.meta.scenario, run.meta.started_at)?;
    // A `latest` that cannot be moved is worth a note, not the report.
    if let Err(e) = output::point_latest(&dir) {
        summary
            .run
            .notes
            .push(format!("the `latest` link was not updated: {e:#}"));
    }
    write_report_files(run, &mut summary, baseline, &dir)?;
    Ok(RunReport {
        dir,
        verdict: summary.verdict,
        summary,
    })
}

/// Writes every file of the report into an existing folder; `summary` gains
/// a note for each part that could not be made.
pub fn write_report_files(
    run: &RunRecord,
    summary: &mut Summary,
    baseline: Option<&BaselineComparison>,
    dir: &Path,
) -> Result<()> {
    let hlogs = match hlog::write_hlogs(run, dir) {
        Ok(paths) => paths
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect(),
        Err(e) => {
            summary
                .run
                .notes
                .push(format!("the histogram logs could not be written: {e:#}"));
            Vec::new()
        }
    };
    let (mut charts, chart_notes) = charts::run_charts(summary);
    summary.run.notes.extend(chart_notes);
    let (server_charts, server_notes) = charts::run_server_charts(summary);
    charts.extend(server_charts);
    summary.run.notes.extend(server_notes);

    let mut pending = vec![
        ("junit.xml", render::junit(summary)),
        ("summary.md", render::markdown(summary)),
        (
            "index.html",
            render::html(summary, &charts, &hlogs, baseline),
        ),
    ];
    if let Some(cmp) = baseline {
        pending.extend([
            ("baseline.json", baseline::baseline_json(cmp)),
            ("baseline.md", baseline::baseline_markdown(cmp)),
            ("baseline-junit.xml", baseline::baseline_junit(cmp)),
        ]);
    }
    for (name, text) in pending {
        let written = text.and_then(|text| {
            std::fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))
        });
        if let Err(e) = written {
            summary
                .run
                .notes
                .push(format!("{name} could not be written: {e:#}"));
        }
    }
    summary::write(summary, dir)
}
