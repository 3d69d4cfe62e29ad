//! Scrapes → named series: each declared series picks its samples with its
//! selector, splits them by its `by` labels, and sums each group per scrape:
//! a gauge as it is, a counter as its increase per second between two
//! scrapes (a counter that went down was reset: its new value is the
//! increase, as Prometheus's `rate` takes it), a histogram or summary as the
//! mean of the observations made between two scrapes (`_sum` over `_count`).
//! A failed scrape, or a group missing from one, is a gap, never a zero.

use super::{Limit, SeriesDecl, SeriesKind, ServerSeries};
use std::collections::{BTreeMap, BTreeSet};

/// Label name → value.
pub(crate) type Labels = BTreeMap<String, String>;

/// One sample of a scrape, as the text format gives it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    pub(crate) metric: String,
    pub(crate) labels: Labels,
    pub(crate) value: f64,
}

/// How many dropped or vanished label sets a note lists before "and N more".
const LISTED: usize = 5;

/// The series of every declaration, folded scrape by scrape.
pub(crate) struct Folder {
    decls: Vec<SeriesDecl>,
    state: Vec<DeclState>,
}

#[derive(Default)]
struct DeclState {
    groups: BTreeMap<Labels, Group>,
    /// Label sets over the declaration's cap, in the order they came.
    dropped: Vec<Labels>,
    /// Per raw sample (full labels): the last (time, value) or (time, sum, count).
    last: BTreeMap<(String, Labels), (f64, f64)>,
    resets: u64,
    vanished: Vec<(Labels, f64)>,
}

#[derive(Default)]
struct Group {
    points: Vec<[f64; 2]>,
    limit: Option<f64>,
    /// Whether it was in the last successful scrape.
    present: bool,
}

/// One scrape's value of one series, as a listener sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TickPoint {
    pub(crate) name: String,
    pub(crate) labels: Labels,
    pub(crate) kind: SeriesKind,
    pub(crate) value: f64,
}

impl Folder {
    pub(crate) fn new(decls: Vec<SeriesDecl>) -> Folder {
        let state = decls.iter().map(|_| DeclState::default()).collect();
        Folder { decls, state }
    }

    /// Folds one successful scrape taken `t_s` seconds into the run; returns
    /// the points it added.
    pub(crate) fn add(&mut self, t_s: f64, samples: &[Sample]) -> Vec<TickPoint> {
        let mut added = Vec::new();
        for (decl, state) in self.decls.iter().zip(&mut self.state) {
            let values = match decl.kind {
                SeriesKind::Gauge => gauge(decl, samples),
                SeriesKind::Rate => rate(decl, state, t_s, samples),
                SeriesKind::Mean => mean(decl, state, t_s, samples),
            };
            let limits = limits(decl, samples);
            let seen: BTreeSet<Labels> = values.keys().cloned().collect();
            for (key, value) in values {
                let Some(group) = group_for(decl, state, &key) else {
                    continue;
                };
                group.present = true;
                if let Some(v) = value {
                    group.points.push([round_ms(t_s), v]);
                    added.push(TickPoint {
                        name: decl.name.clone(),
                        labels: key.clone(),
                        kind: decl.kind,
                        value: v,
                    });
                }
                if let Some(l) = limits.get(&key) {
                    group.limit = Some(*l);
                }
            }
            for (key, group) in &mut state.groups {
                if group.present && !seen.contains(key) {
                    group.present = false;
                    state.vanished.push((key.clone(), round_ms(t_s)));
                }
            }
        }
        added
    }

    /// The series (in declaration order, then by labels) and what the reader
    /// must know about them: resets, label sets dropped over a cap, series
    /// that disappeared.
    pub(crate) fn finish(self) -> (Vec<ServerSeries>, Vec<String>) {
        let mut series = Vec::new();
        let mut notes = Vec::new();
        for (decl, state) in self.decls.into_iter().zip(self.state) {
            if state.groups.is_empty() {
                notes.push(format!(
                    "server metrics: series `{}` ({}) matched no sample in any scrape",
                    decl.name, decl.selector
                ));
            }
            if state.resets > 0 {
                notes.push(format!(
                    "server metrics: series `{}`: {} counter reset(s) seen (the server restarted or a counter went down); each reset's new value was taken as the increase",
                    decl.name, state.resets
                ));
            }
            if !state.dropped.is_empty() {
                notes.push(format!(
                    "server metrics: series `{}` has more than {} label sets (max_series); dropped {}",
                    decl.name,
                    decl.max_series,
                    listed(state.dropped.iter().map(show_labels))
                ));
            }
            if !state.vanished.is_empty() {
                notes.push(format!(
                    "server metrics: series `{}` disappeared from the scrapes: {}",
                    decl.name,
                    listed(
                        state
                            .vanished
                            .iter()
                            .map(|(l, t)| format!("{} at {t:.0} s", show_labels(l)))
                    )
                ));
            }
            for (labels, group) in state.groups {
                series.push(ServerSeries {
                    name: decl.name.clone(),
                    labels,
                    kind: decl.kind,
                    source: decl.source,
                    limit: group.limit,
                    points: group.points,
                });
            }
        }
        (series, notes)
    }
}

/// The group of `key`, created unless the declaration is at its cap.
fn group_for<'a>(
    decl: &SeriesDecl,
    state: &'a mut DeclState,
    key: &Labels,
) -> Option<&'a mut Group> {
    if !state.groups.contains_key(key) {
        if state.groups.len() >= decl.max_series {
            if !state.dropped.contains(key) {
                state.dropped.push(key.clone());
            }
            return None;
        }
        state.groups.insert(key.clone(), Group::default());
    }
    state.groups.get_mut(key)
}

/// The `by` labels of a sample: the group it falls in.
fn key_of(decl: &SeriesDecl, labels: &Labels) -> Labels {
    decl.by
        .iter()
        .map(|l| (l.clone(), labels.get(l).cloned().unwrap_or_default()))
        .collect()
}

fn gauge(decl: &SeriesDecl, samples: &[Sample]) -> BTreeMap<Labels, Option<f64>> {
    let mut out: BTreeMap<Labels, Option<f64>> = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| decl.selector.matches(&s.metric, &s.labels))
    {
        let v = out.entry(key_of(decl, &s.labels)).or_insert(Some(0.0));
        *v = v.map(|acc| acc + s.value);
    }
    out
}

fn limits(decl: &SeriesDecl, samples: &[Sample]) -> BTreeMap<Labels, f64> {
    match &decl.limit {
        None => BTreeMap::new(),
        Some(Limit::Value(v)) => gauge(decl, samples).into_keys().map(|k| (k, *v)).collect(),
        Some(Limit::Metric(sel)) => {
            let mut out: BTreeMap<Labels, f64> = BTreeMap::new();
            for s in samples.iter().filter(|s| sel.matches(&s.metric, &s.labels)) {
                *out.entry(key_of(decl, &s.labels)).or_default() += s.value;
            }
            out
        }
    }
}

/// The increase of `value` since the sample's last one, per second; `None`
/// the first time it is seen.
fn increase(
    state: &mut DeclState,
    id: (String, Labels),
    t_s: f64,
    value: f64,
) -> Option<(f64, f64)> {
    let before = state.last.insert(id, (t_s, value));
    let (t0, v0) = before?;
    let dt = t_s - t0;
    if dt <= 0.0 {
        return None;
    }
    let delta = if value < v0 {
        state.resets += 1;
        value
    } else {
        value - v0
    };
    Some((delta, dt))
}

fn rate(
    decl: &SeriesDecl,
    state: &mut DeclState,
    t_s: f64,
    samples: &[Sample],
) -> BTreeMap<Labels, Option<f64>> {
    let mut out: BTreeMap<Labels, Option<f64>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for s in samples
        .iter()
        .filter(|s| decl.selector.matches(&s.metric, &s.labels))
    {
        let id = (s.metric.clone(), s.labels.clone());
        seen.insert(id.clone());
        let entry = out.entry(key_of(decl, &s.labels)).or_insert(None);
        if let Some((delta, dt)) = increase(state, id, t_s, s.value) {
            *entry = Some(entry.unwrap_or(0.0) + delta / dt);
        }
    }
    // A sample that vanished starts afresh when it comes back.
    state.last.retain(|id, _| seen.contains(id));
    out
}

fn mean(
    decl: &SeriesDecl,
    state: &mut DeclState,
    t_s: f64,
    samples: &[Sample],
) -> BTreeMap<Labels, Option<f64>> {
    let (sum_name, count_name) = (
        format!("{}_sum", decl.selector.metric),
        format!("{}_count", decl.selector.metric),
    );
    let picks = |name: &str, s: &Sample| {
        s.metric == name && decl.selector.matches(&decl.selector.metric, &s.labels)
    };
    let mut totals: BTreeMap<Labels, (f64, f64)> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for s in samples {
        let is_sum = picks(&sum_name, s);
        if !is_sum && !picks(&count_name, s) {
            continue;
        }
        let id = (s.metric.clone(), s.labels.clone());
        seen.insert(id.clone());
        let entry = totals.entry(key_of(decl, &s.labels)).or_default();
        if let Some((delta, _)) = increase(state, id, t_s, s.value) {
            if is_sum {
                entry.0 += delta;
            } else {
                entry.1 += delta;
            }
        }
    }
    state.last.retain(|id, _| seen.contains(id));
    totals
        .into_iter()
        .map(|(k, (sum, count))| (k, (count > 0.0).then(|| sum / count)))
        .collect()
}

/// `{station="grill"}`, or `{}` for a series without `by` labels.
pub(crate) fn show_labels(labels: &Labels) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", parts.join(","))
}

fn listed(items: impl Iterator<Item = String>) -> String {
    let all: Vec<String> = items.collect();
    let shown = all
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match all.len().saturating_sub(LISTED) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

/// The points of a run longer than [`super::FULL_RATE_S`] averaged into
/// buckets of `ceil(run / 600 s)` seconds, each at its bucket's start, so a
/// summary holds at most about 600 points per series.
pub(crate) fn downsample(points: &[[f64; 2]], run_s: f64) -> Vec<[f64; 2]> {
    if run_s <= super::FULL_RATE_S {
        return points.to_vec();
    }
    let step = (run_s / super::FULL_RATE_S).ceil();
    let mut out: Vec<[f64; 2]> = Vec::new();
    let mut bucket: Option<(f64, f64, u32)> = None;
    for [t, v] in points {
        let start = (t / step).floor() * step;
        match &mut bucket {
            Some((b, sum, n)) if *b == start => {
                *sum += v;
                *n += 1;
            }
            _ => {
                if let Some((b, sum, n)) = bucket.take() {
                    out.push([b, sum / f64::from(n)]);
                }
                bucket = Some((start, *v, 1));
            }
        }
    }
    if let Some((b, sum, n)) = bucket {
        out.push([b, sum / f64::from(n)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::{Selector, Source};

    fn decl(name: &str, metric: &str, by: &[&str], kind: SeriesKind) -> SeriesDecl {
        SeriesDecl {
            name: name.into(),
            selector: Selector::parse(metric).unwrap(),
            by: by.iter().map(|s| s.to_string()).collect(),
            kind,
            source: Source::Target,
            limit: None,
            max_series: 3,
        }
    }

    fn sample(metric: &str, labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            metric: metric.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    #[test]
    fn a_gauge_is_summed_per_group_of_its_by_labels() {
        let mut f = Folder::new(vec![decl(
            "online",
            "up{zone!=\"x\"}",
            &["station"],
            SeriesKind::Gauge,
        )]);
        f.add(
            0.0,
            &[
                sample("up", &[("station", "grill"), ("worker", "1")], 1.0),
                sample("up", &[("station", "grill"), ("worker", "2")], 1.0),
                sample("up", &[("station", "bar"), ("worker", "3")], 0.0),
                sample("up", &[("station", "bar"), ("zone", "x")], 9.0),
            ],
        );
        let (series, notes) = f.finish();
        assert!(notes.is_empty(), "{notes:?}");
        let grill = series
            .iter()
            .find(|s| s.labels["station"] == "grill")
            .unwrap();
        assert_eq!(grill.points, vec![[0.0, 2.0]]);
        let bar = series
            .iter()
            .find(|s| s.labels["station"] == "bar")
            .unwrap();
        assert_eq!(bar.points, vec![[0.0, 0.0]]);
    }

    #[test]
    fn a_counter_becomes_a_rate_and_a_reset_is_not_a_negative_rate() {
        let mut f = Folder::new(vec![decl("made", "made_total", &[], SeriesKind::Rate)]);
        f.add(0.0, &[sample("made_total", &[], 100.0)]);
        f.add(1.0, &[sample("made_total", &[], 110.0)]);
        // A failed scrape at 2 s: the next rate spans two seconds.
        f.add(3.0, &[sample("made_total", &[], 130.0)]);
        // The server restarted: the counter starts again from 0.
        f.add(4.0, &[sample("made_total", &[], 5.0)]);
        let (series, notes) = f.finish();
        assert_eq!(series[0].points, vec![[1.0, 10.0], [3.0, 10.0], [4.0, 5.0]]);
        assert!(
            notes.iter().any(|n| n.contains("1 counter reset")),
            "{notes:?}"
        );
    }

    #[test]
    fn a_histogram_mean_is_its_sum_increase_over_its_count_increase() {
        let mut f = Folder::new(vec![decl("lat", "rpc_seconds", &[], SeriesKind::Mean)]);
        let at = |sum: f64, count: f64| {
            vec![
                sample("rpc_seconds_sum", &[], sum),
                sample("rpc_seconds_count", &[], count),
            ]
        };
        f.add(0.0, &at(1.0, 10.0));
        f.add(1.0, &at(3.0, 20.0));
        // No observation in this second: no mean, a gap.
        f.add(2.0, &at(3.0, 20.0));
        let (series, _) = f.finish();
        assert_eq!(series[0].points, vec![[1.0, 0.2]]);
    }

    #[test]
    fn label_sets_over_the_cap_are_dropped_and_named_and_a_vanished_one_is_noted() {
        let mut f = Folder::new(vec![decl(
            "per_order",
            "orders",
            &["order"],
            SeriesKind::Gauge,
        )]);
        let many: Vec<Sample> = (0..6)
            .map(|i| sample("orders", &[("order", &i.to_string())], 1.0))
            .collect();
        f.add(0.0, &many);
        f.add(1.0, &many[1..]);
        let (series, notes) = f.finish();
        assert_eq!(series.len(), 3);
        let all = notes.join("\n");
        assert!(
            all.contains("more than 3 label sets") && all.contains("dropped {order=\"3\"}"),
            "{all}"
        );
        assert!(
            all.contains("disappeared") && all.contains("{order=\"0\"} at 1 s"),
            "{all}"
        );
    }

    #[test]
    fn long_runs_are_averaged_into_buckets_of_whole_seconds() {
        let points: Vec<[f64; 2]> = (0..1200)
            .map(|t| [f64::from(t), f64::from(t % 2)])
            .collect();
        assert_eq!(downsample(&points, 600.0).len(), 1200);
        let short = downsample(&points, 1200.0);
        assert_eq!(short.len(), 600);
        assert_eq!(short[0], [0.0, 0.5]);
        assert_eq!(short[1][0], 2.0);
    }
}
