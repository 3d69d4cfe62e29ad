//! What makes two backends' figures measure different things: a fault that
//! reached one side only (its link did not exist there, or no traffic could
//! cross it), another scenario or seed. Each finding is one sentence for the
//! top of the comparison ("not comparable on: ...").

use super::{Column, CompareRun};
use std::collections::BTreeSet;

/// The differences between the columns' runs that make their figures not
/// comparable; empty when every backend got the same.
pub(super) fn not_comparable(runs: &[CompareRun], columns: &[Column]) -> Vec<String> {
    let mut found = Vec::new();
    if columns.len() < 2 {
        return found;
    }
    let distinct =
        |f: &dyn Fn(&CompareRun) -> String| -> BTreeSet<String> { runs.iter().map(f).collect() };
    let scenarios = distinct(&|r| r.summary.run.meta.scenario.clone());
    if scenarios.len() > 1 {
        found.push(format!(
            "different scenarios ({})",
            scenarios.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let seeds = distinct(&|r| r.summary.run.meta.seed.to_string());
    if seeds.len() > 1 {
        found.push(format!(
            "different seeds ({}): the backends got different requests",
            seeds.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let settings_of = |c: &Column| -> BTreeSet<String> {
        c.runs
            .iter()
            .map(|&i| runs[i].summary.run.meta.settings.join(", "))
            .collect()
    };
    let settings: Vec<BTreeSet<String>> = columns.iter().map(settings_of).collect();
    if settings.iter().any(|s| *s != settings[0]) {
        let described: Vec<String> = columns
            .iter()
            .zip(&settings)
            .map(|(c, s)| {
                let s: Vec<&str> = s
                    .iter()
                    .map(String::as_str)
                    .filter(|s| !s.is_empty())
                    .collect();
                match s.is_empty() {
                    true => format!("{} as it is", c.label),
                    false => format!("{} with {}", c.label, s.join(" / ")),
                }
            })
            .collect();
        found.push(format!(
            "settings differ ({}): check that they mean the same before reading the differences",
            described.join("; ")
        ));
    }
    let faults_of = |c: &Column| -> BTreeSet<&str> {
        c.runs
            .iter()
            .flat_map(|&i| runs[i].summary.faults.iter().map(|f| f.name.as_str()))
            .collect()
    };
    let per_column: Vec<BTreeSet<&str>> = columns.iter().map(faults_of).collect();
    let all: BTreeSet<&str> = per_column.iter().flatten().copied().collect();
    for fault in all {
        let side = |applied: bool| -> Vec<&Column> {
            columns
                .iter()
                .zip(&per_column)
                .filter(|(_, faults)| faults.contains(fault) == applied)
                .map(|(c, _)| c)
                .collect()
        };
        let (with, without) = (side(true), side(false));
        if !without.is_empty() {
            found.push(format!(
                "{fault} applied to {} only (not to {}): its link did not exist there; \
                 declare the link for that target in [[targets]]",
                names(&with),
                names(&without)
            ));
        }
    }
    found
}

fn names(columns: &[&Column]) -> String {
    columns
        .iter()
        .map(|c| c.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
