//! The run report: summary.json, index.html, junit.xml, summary.md and HDR
//! histogram logs in `<reports root>/<scenario>/<UTC timestamp>/`, the
//! `latest` link beside it, and the table printed on the terminal.
//!
//! A part that fails (a chart, the HTML) becomes a note in the report rather
//! than losing the report: summary.json is always written, last, so it lists
//! every such note.

pub mod baseline;
pub mod charts;
pub mod compare;
pub mod hlog;
pub mod output;
pub mod render;
pub mod summary;
mod table;
mod templates;

pub use baseline::write_baseline_files;
pub use summary::{summarize, Summary, Verdict};
pub use table::print_summary_table;

use crate::gate::Gate;
use crate::record::RunRecord;
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

/// Summarises `run`, judges `gates`, and writes the whole report into a new
/// folder under `reports_root/<scenario>/`, pointing `latest` at it.
pub fn write_run_report(run: &RunRecord, gates: &[Gate], reports_root: &Path) -> Result<RunReport> {
    let mut summary = summarize(run, gates);
    let dir = output::create_run_dir(reports_root, &run.meta.scenario, run.meta.started_at)?;
    // A `latest` that cannot be moved is worth a note, not the report.
    if let Err(e) = output::point_latest(&dir) {
        summary
            .run
            .notes
            .push(format!("the `latest` link was not updated: {e:#}"));
    }
    write_report_files(run, &mut summary, &dir)?;
    Ok(RunReport {
        dir,
        verdict: summary.verdict,
        summary,
    })
}

/// Writes every file of the report into an existing folder; `summary` gains
/// a note for each part that could not be made.
pub fn write_report_files(run: &RunRecord, summary: &mut Summary, dir: &Path) -> Result<()> {
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
    let (charts, chart_notes) = charts::run_charts(summary);
    summary.run.notes.extend(chart_notes);

    let pending = [
        ("junit.xml", render::junit(summary)),
        ("summary.md", render::markdown(summary)),
        ("index.html", render::html(summary, &charts, &hlogs, None)),
    ];
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
    let json = serde_json::to_vec(summary).context("serialising summary.json")?;
    let path = dir.join("summary.json");
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads a summary.json back, from the file itself or from a run folder.
pub fn read_summary(path: &Path) -> Result<Summary> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let json: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let version = json
        .get("schema_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(summary::SCHEMA_VERSION)) {
        anyhow::bail!(
            "{} has summary schema version {}, this harness reads version {}: re-run the \
             scenario with this harness, or compare it with the harness that wrote it",
            file.display(),
            version.map_or("(none)".to_string(), |v| v.to_string()),
            summary::SCHEMA_VERSION
        );
    }
    serde_json::from_value(json).with_context(|| {
        format!(
            "{} is not a summary.json this harness can read",
            file.display()
        )
    })
}
