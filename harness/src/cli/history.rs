//! `harness history` (trends and change points of the recorded runs),
//! `harness history import` (runs made before the history existed), and the
//! `--history`, `--no-history` and `--meta` flags of the commands that
//! record runs.

use crate::exit;
use crate::history::changepoint::Settings;
use crate::history::trend::{self, Run};
use crate::history::{self, parse_meta, Filter, HistoryOptions, Store};
use crate::report::history::{write_history_report, HistoryView};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a run is recorded (see "History and trends" in the README).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct HistoryFlags {
    /// Record the run in this history file (SQLite) instead of <reports-dir>/history.db.
    #[arg(long, value_name = "PATH")]
    pub(crate) history: Option<PathBuf>,
    /// Do not record the run in the history.
    #[arg(long, conflicts_with = "history")]
    pub(crate) no_history: bool,
    /// Recorded with the run, e.g. commit=3f2a1c9, branch=main, ci_job=812 (repeatable).
    /// commit, branch and ci_job override what the CI's environment says (GITHUB_SHA,
    /// GITHUB_REF_NAME, GITHUB_RUN_ID, CI_COMMIT_SHA, CI_COMMIT_REF_NAME, CI_JOB_ID, ...).
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta)]
    pub(crate) meta: Vec<(String, String)>,
}

impl HistoryFlags {
    pub(crate) fn options(&self) -> HistoryOptions {
        HistoryOptions {
            path: self.history.clone(),
            off: self.no_history,
            meta: self.meta.clone(),
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct HistoryCmd {
    #[command(subcommand)]
    pub(crate) action: Option<HistoryAction>,
    /// The history file (default: <reports-dir>/history.db).
    #[arg(long, value_name = "PATH")]
    pub(crate) history: Option<PathBuf>,
    /// Only the runs of this scenario (its `name`).
    #[arg(long, value_name = "NAME")]
    pub(crate) scenario: Option<String>,
    /// Only the runs against this target, as reports name it
    /// (e.g. "http://127.0.0.1:8080" or "bundled reference-server (default profile)").
    #[arg(long, value_name = "LABEL")]
    pub(crate) target: Option<String>,
    /// Only the newest N runs.
    #[arg(long, value_name = "N")]
    pub(crate) last: Option<usize>,
    /// Where history.html, history.md and history.json go (default: <reports-dir>/history).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// The reports folder the history lives in.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) reports_dir: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum HistoryAction {
    /// Record runs made before the history existed, from their folders
    /// (a reports folder, a scenario's folder or one run folder).
    Import {
        /// The folder of runs, e.g. reports.
        folder: PathBuf,
        /// The history file (default: <folder>/history.db).
        #[arg(long, value_name = "PATH")]
        history: Option<PathBuf>,
        /// Recorded with every imported run (see `harness run --meta`).
        #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta)]
        meta: Vec<(String, String)>,
    },
}

/// Runs `harness history ...`; returns the exit code.
pub(crate) fn history(cmd: HistoryCmd, out: &mut dyn Write) -> u8 {
    let result = match cmd.action {
        Some(HistoryAction::Import {
            folder,
            history,
            meta,
        }) => {
            let file = history.unwrap_or_else(|| folder.join(history::FILE_NAME));
            import(&folder, &file, &meta, out)
        }
        None => trends(&cmd, out),
    };
    result.unwrap_or_else(|(code, e)| {
        eprintln!("error: {e}");
        code
    })
}

type Failed = (u8, String);

fn import(
    folder: &Path,
    file: &Path,
    meta: &[(String, String)],
    out: &mut dyn Write,
) -> Result<u8, Failed> {
    let done =
        history::import::import(folder, file, meta).map_err(|e| (exit::USAGE, format!("{e:#}")))?;
    for (dir, why) in &done.failed {
        let _ = writeln!(out, "not imported: {}: {why}", dir.display());
    }
    let _ = writeln!(
        out,
        "imported {} run(s) into {} ({} already there, {} unreadable)",
        done.recorded.len(),
        file.display(),
        done.skipped.len(),
        done.failed.len()
    );
    Ok(exit::PASS)
}

fn trends(cmd: &HistoryCmd, out: &mut dyn Write) -> Result<u8, Failed> {
    let usage = |m: String| (exit::USAGE, m);
    if cmd.last == Some(0) {
        return Err(usage("--last 0: expected at least 1 run".into()));
    }
    let file = cmd
        .history
        .clone()
        .unwrap_or_else(|| cmd.reports_dir.join(history::FILE_NAME));
    if !file.is_file() {
        return Err(usage(format!(
            "there is no history at {}: runs are recorded there as they end (or pass --history PATH; \
             `harness history import {}` records earlier runs)",
            file.display(),
            cmd.reports_dir.display()
        )));
    }
    let store = Store::open(&file).map_err(|e| usage(format!("{e:#}")))?;
    let filter = Filter {
        scenario: cmd.scenario.clone(),
        target: cmd.target.clone(),
        last: cmd.last,
    };
    let runs: Vec<Run> = store
        .runs(&filter)
        .map_err(|e| (exit::INTERNAL, format!("reading {}: {e:#}", file.display())))?
        .into_iter()
        .map(Run::new)
        .collect();
    let found = trend::change_points(&runs, true, &Settings::default());
    let dir = cmd
        .out
        .clone()
        .unwrap_or_else(|| cmd.reports_dir.join("history"));
    let view = HistoryView {
        file: &file,
        runs: &runs,
        change_points: &found,
    };
    write_history_report(&view, &dir)
        .map_err(|e| (exit::INTERNAL, format!("writing the history report: {e:#}")))?;
    let _ = writeln!(
        out,
        "{} run(s), {} change point(s)",
        runs.len(),
        found.len()
    );
    for f in &found {
        let _ = writeln!(
            out,
            "  change point at run {}: {} of {} {:.3} → {:.3} (confidence {:.1}%)",
            f.run_index,
            f.metric.name(),
            f.request.as_deref().unwrap_or("all requests"),
            f.before,
            f.after,
            f.confidence * 100.0
        );
    }
    let _ = writeln!(out, "report: {}", dir.join("history.html").display());
    Ok(exit::PASS)
}
