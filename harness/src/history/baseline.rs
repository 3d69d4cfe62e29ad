//! `--baseline history` (or `history:last=N`): the baseline of a new run is
//! the recorded runs of the same scenario against the same target since the
//! last change point of their whole-run figures (the newest N of them with
//! `last=N`), so a run is judged against the history's own noise on its
//! current level, not against one chosen folder.

use super::changepoint::Settings;
use super::store::{Filter, Store};
use super::trend::{self, Run};
use crate::summary::Summary;
use std::path::{Path, PathBuf};

/// `--baseline history` or `--baseline history:last=N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub last: Option<usize>,
}

/// `Some` when `text` names the history (then `Err` when it is malformed).
pub(crate) fn parse_spec(text: &str) -> Option<Result<Spec, String>> {
    let rest = text.strip_prefix("history")?;
    if rest.is_empty() {
        return Some(Ok(Spec { last: None }));
    }
    let rest = rest.strip_prefix(':')?;
    Some(match rest.strip_prefix("last=").map(str::parse::<usize>) {
        Some(Ok(n)) if n >= 1 => Ok(Spec { last: Some(n) }),
        _ => Err(format!(
            "--baseline {text}: expected `history` or `history:last=N` with N ≥ 1"
        )),
    })
}

/// A recorded run the new one is compared with.
#[derive(Clone, Debug)]
pub(crate) struct Compared {
    pub(crate) run_id: String,
    pub(crate) started_at: String,
    pub(crate) commit: Option<String>,
    pub(crate) report_dir: Option<String>,
}

/// The baseline taken from the history.
#[derive(Clone, Debug)]
pub struct HistoryBaseline {
    pub(crate) file: PathBuf,
    pub summaries: Vec<Summary>,
    pub(crate) runs: Vec<Compared>,
    /// How many runs of this scenario and target the history holds.
    pub recorded: usize,
    /// Where the stable stretch starts among them (0: no change point).
    pub since: usize,
}

impl HistoryBaseline {
    /// What the verdict was judged against, for the output.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "baseline: {} run(s) from {} ({}; {} recorded for this scenario and target)",
            self.runs.len(),
            self.file.display(),
            match self.since {
                0 => "no change point in the history".to_string(),
                i => format!("since the change point at run index {i}"),
            },
            self.recorded
        )];
        for r in &self.runs {
            lines.push(format!(
                "  {} {}{}{}",
                r.started_at,
                r.run_id,
                r.commit.as_deref().map_or(String::new(), |c| format!(
                    " commit {}",
                    &c[..c.len().min(12)]
                )),
                r.report_dir
                    .as_deref()
                    .map_or(String::new(), |d| format!(" {d}"))
            ));
        }
        lines
    }
}

/// The runs of `scenario` against `target` recorded in `file` since their
/// last change point; an error says why there is no baseline.
pub fn from_history(
    file: &Path,
    scenario: &str,
    target: &str,
    spec: Spec,
) -> Result<HistoryBaseline, String> {
    if !file.is_file() {
        return Err(format!(
            "--baseline history: there is no history at {} yet: record runs first \
             (every run is recorded there unless --no-history; --history PATH names another file)",
            file.display()
        ));
    }
    let store = Store::open(file).map_err(|e| format!("--baseline history: {e:#}"))?;
    let filter = Filter {
        scenario: Some(scenario.to_string()),
        target: Some(target.to_string()),
        last: None,
    };
    let stored = store
        .runs(&filter)
        .map_err(|e| format!("--baseline history: reading {}: {e:#}", file.display()))?;
    let runs: Vec<Run> = stored
        .into_iter()
        .map(Run::new)
        .filter(Run::valid)
        .collect();
    if runs.is_empty() {
        return Err(format!(
            "--baseline history: {} holds no valid run of scenario {scenario:?} against {target}: \
             record some first (run without --baseline)",
            file.display()
        ));
    }
    let found = trend::change_points(&runs, false, &Settings::default());
    let since = trend::stable_from(&found, runs.len());
    let mut segment = &runs[since..];
    if let Some(n) = spec.last {
        segment = &segment[segment.len().saturating_sub(n)..];
    }
    let mut baseline = HistoryBaseline {
        file: file.to_path_buf(),
        summaries: Vec::new(),
        runs: Vec::new(),
        recorded: runs.len(),
        since,
    };
    for run in segment {
        // Runs written by another summary schema are left out.
        if let Ok(summary) = serde_json::from_value::<Summary>(run.summary.clone()) {
            baseline.summaries.push(summary);
            let id = &run.stored.identity;
            baseline.runs.push(Compared {
                run_id: run.stored.run_id.clone(),
                started_at: id.started_at.clone(),
                commit: id.commit.clone(),
                report_dir: run.stored.report_dir.clone(),
            });
        }
    }
    if baseline.summaries.is_empty() {
        return Err(format!(
            "--baseline history: no run of {scenario:?} in {} has a summary this harness reads",
            file.display()
        ));
    }
    Ok(baseline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_specs_parse_and_others_are_left_alone() {
        assert_eq!(parse_spec("history"), Some(Ok(Spec { last: None })));
        assert_eq!(
            parse_spec("history:last=5"),
            Some(Ok(Spec { last: Some(5) }))
        );
        assert!(parse_spec("history:last=0").unwrap().is_err());
        assert!(parse_spec("history:first=2").unwrap().is_err());
        assert_eq!(parse_spec("reports/smoke/latest"), None);
        assert_eq!(parse_spec("historyx"), None);
    }
}
