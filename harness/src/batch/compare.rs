//! Comparisons of runs: `harness compare <run> <run> ...` over finished run
//! folders (read through `summary::read`), and the comparison a several-target
//! batch writes at its end from the summaries it holds. Both write
//! compare.html / .json / .md through `report::compare` and print the
//! whole-run figures side by side, the best of each marked.

use super::Lane;
use crate::exit;
use crate::report::compare::{self, CompareRun};
use crate::run::RunError;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `harness compare`: reads each run (a run folder or its summary.json),
/// writes `reports_root/compare/<UTC timestamp>/compare.{html,json,md}`,
/// prints the figures side by side and the report's path last; returns the
/// exit code: the worst of the sides' verdicts and 7 when they are not
/// comparable (see `crate::exit`). A path that is not a run is a usage error naming it.
pub async fn compare_runs(
    runs: &[PathBuf],
    reports_root: &Path,
    out: &mut dyn Write,
) -> Result<u8, RunError> {
    if runs.len() < 2 {
        return Err(RunError::Usage(format!(
            "compare needs at least two runs (run folders or summary.json files), got {}",
            runs.len()
        )));
    }
    for path in runs {
        check_run_path(path).map_err(|e| RunError::Usage(format!("compare: {e}")))?;
    }
    let loaded =
        compare::load_runs(runs).map_err(|e| RunError::Usage(format!("compare: {e:#}")))?;
    let cmp = write(&loaded, reports_root, "report", out)?;
    let sides: Vec<u8> = loaded
        .iter()
        .map(|r| {
            let code = exit::of_verdict(r.summary.verdict);
            if code != exit::PASS {
                let _ = writeln!(out, "{}: {}", r.label, r.summary.verdict_reason);
            }
            code
        })
        .collect();
    Ok(conclude(sides, &cmp))
}

/// The comparison's exit code in the one order of `crate::exit`: a side's
/// verdict, or 7 when the sides are not comparable (the table printed
/// before says on what).
fn conclude(sides: Vec<u8>, cmp: &compare::Comparison) -> u8 {
    exit::of_comparison(sides, !cmp.not_comparable.is_empty())
}

/// Compares every run of every lane, labelled by its target (and its round
/// when repeated), in the order they ran; the path is printed after `what: `.
/// Returns the comparison, for the exit code.
pub(super) fn compare_lanes(
    lanes: &[Lane],
    reports_root: &Path,
    repeat: usize,
    what: &str,
    out: &mut dyn Write,
) -> Result<compare::Comparison, RunError> {
    let mut runs = Vec::new();
    for round in 0..repeat {
        for lane in lanes {
            let Some(ran) = lane.runs.get(round) else {
                continue;
            };
            runs.push(CompareRun {
                label: match repeat {
                    1 => lane.label.clone(),
                    _ => format!("{} #{}", lane.label, round + 1),
                },
                backend: lane.label.clone(),
                source: ran.dir.display().to_string(),
                summary: ran.summary.clone(),
            });
        }
    }
    if repeat > 1 {
        for lane in lanes {
            let _ = writeln!(out, "{}:", lane.label);
            super::print_spread(&lane.runs, out);
        }
    }
    write(&runs, reports_root, what, out)
}

fn write(
    runs: &[CompareRun],
    reports_root: &Path,
    what: &str,
    out: &mut dyn Write,
) -> Result<compare::Comparison, RunError> {
    let written = compare::write_comparison_report(runs, reports_root)
        .context("writing the comparison")
        .map_err(RunError::Internal)?;
    let _ = compare::print_comparison_table(&written.comparison, out);
    let _ = writeln!(
        out,
        "{what}: {}",
        written.dir.join("compare.html").display()
    );
    Ok(written.comparison)
}

/// The exit code of a comparison of several backends, as for `harness
/// compare`: each side's runs' codes (a side failing its gates is named on
/// the output), then 7 when the sides did not get the same scenario.
pub(super) fn comparison_exit(
    lanes: &[Lane],
    cmp: &compare::Comparison,
    out: &mut dyn Write,
) -> u8 {
    let mut sides = Vec::new();
    for lane in lanes {
        let failed = lane
            .runs
            .iter()
            .filter(|r| r.exit_code == exit::GATE_FAILED)
            .count();
        if failed > 0 {
            let _ = writeln!(
                out,
                "{} failed its gates in {failed} of {} run(s)",
                lane.label,
                lane.runs.len()
            );
        }
        sides.extend(lane.runs.iter().map(|r| r.exit_code));
    }
    if sides.contains(&exit::INVALID) {
        let _ = writeln!(
            out,
            "warning: the load generator could not keep its schedule in at least one run: \
             those figures measure the generator, not the backend"
        );
    }
    conclude(sides, cmp)
}

/// Says what is wrong with a path given as a run, naming it: missing, or a
/// folder without summary.json.
pub(super) fn check_run_path(path: &Path) -> Result<(), String> {
    let hint = "expected a run folder (reports/<scenario>/<timestamp>) or its summary.json";
    if !path.exists() {
        return Err(format!("{} does not exist; {hint}", path.display()));
    }
    if path.is_dir() && !path.join(crate::summary::SUMMARY_FILE).is_file() {
        return Err(format!(
            "{} has no summary.json, so it is not a run folder; {hint}",
            path.display()
        ));
    }
    Ok(())
}
