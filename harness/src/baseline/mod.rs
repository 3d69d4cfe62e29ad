//! A run (or several repeats) judged against a baseline's: has any figure got
//! worse by more than its tolerance? With repeats on both sides the verdict
//! accounts for run-to-run noise: PASS only when the 95 % bootstrap interval
//! of the change (over per-run medians) stays within the tolerance, FAIL only
//! when it lies wholly beyond it, INCONCLUSIVE otherwise. Also the noise
//! floor of repeats alone (an A/A measurement), and what makes a baseline and
//! a candidate not the same experiment. `report::baseline` renders the result.

pub(crate) mod bootstrap;

use crate::gate::whole_run_value;
use crate::slo::{Allowance, Metric, Tolerance};
use crate::summary::Summary;
use bootstrap::{median, median_ci};
use serde::{Deserialize, Serialize};

/// Tolerances used with a baseline when `--max-regression` is not given.
pub(crate) const DEFAULT_TOLERANCES: &str = "p95=10%,error-rate=+1pt,shed-rate=+1pt,throughput=-5%";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegressionVerdict {
    Pass,
    Fail,
    Inconclusive,
}

impl RegressionVerdict {
    pub(crate) fn label(self) -> &'static str {
        match self {
            RegressionVerdict::Pass => "PASS",
            RegressionVerdict::Fail => "FAIL",
            RegressionVerdict::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// One tolerance checked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegressionCheck {
    pub(crate) tolerance: Tolerance,
    /// The metric's value in each baseline run / candidate run (ms, fraction or /s).
    pub(crate) baseline_values: Vec<f64>,
    pub(crate) candidate_values: Vec<f64>,
    pub(crate) baseline_median: f64,
    pub(crate) candidate_median: f64,
    /// How much worse the candidate is, in the tolerance's unit (a share for
    /// `%`, points for `pt`, ms for a duration); negative means better.
    pub worsening: f64,
    /// 95 % interval of `worsening`, when a side has at least two runs.
    pub ci_low: Option<f64>,
    pub(crate) ci_high: Option<f64>,
    /// The tolerance in the same unit as `worsening`.
    pub(crate) allowed: f64,
    pub(crate) verdict: RegressionVerdict,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BaselineComparison {
    pub verdict: RegressionVerdict,
    pub(crate) baseline_runs: usize,
    pub(crate) candidate_runs: usize,
    pub checks: Vec<RegressionCheck>,
    /// What to do next when the verdict is INCONCLUSIVE (or noise was not measured).
    pub advice: Option<String>,
}

/// The exit code of a verdict against a baseline.
pub(crate) fn exit_code(verdict: RegressionVerdict) -> u8 {
    match verdict {
        RegressionVerdict::Pass => crate::exit::PASS,
        RegressionVerdict::Fail => crate::exit::GATE_FAILED,
        RegressionVerdict::Inconclusive => crate::exit::INCONCLUSIVE,
    }
}

/// Judges `candidate` runs against `baseline` runs (one or more each) on every tolerance.
pub fn compare_to_baseline(
    baseline: &[Summary],
    candidate: &[Summary],
    tolerances: &[Tolerance],
) -> BaselineComparison {
    let checks: Vec<RegressionCheck> = tolerances
        .iter()
        .map(|t| check(baseline, candidate, t))
        .collect();
    let verdict = if checks.iter().any(|c| c.verdict == RegressionVerdict::Fail) {
        RegressionVerdict::Fail
    } else if checks
        .iter()
        .any(|c| c.verdict == RegressionVerdict::Inconclusive)
    {
        RegressionVerdict::Inconclusive
    } else {
        RegressionVerdict::Pass
    };
    let n = baseline.len().min(candidate.len());
    let advice = if verdict == RegressionVerdict::Inconclusive {
        Some(format!(
            "the change is within the run-to-run noise of {n} run(s) a side: repeat more (e.g. --repeat {}), \
             lengthen the stages, or run on a quieter machine",
            (n * 2).max(5)
        ))
    } else if baseline.len().max(candidate.len()) < 2 {
        Some("one run a side cannot measure noise: use --repeat 5 (or more) for a verdict that noise cannot fool".into())
    } else if n < 2 {
        Some("one side has a single run, so only the other side's noise is measured: repeat both \
              (a baseline target with --repeat interleaves them) for a verdict that noise cannot fool"
            .into())
    } else {
        None
    };
    BaselineComparison {
        verdict,
        baseline_runs: baseline.len(),
        candidate_runs: candidate.len(),
        checks,
        advice,
    }
}

fn check(baseline: &[Summary], candidate: &[Summary], t: &Tolerance) -> RegressionCheck {
    let values = |runs: &[Summary]| -> Vec<f64> {
        runs.iter()
            .filter_map(|s| whole_run_value(s, t.metric, None))
            .collect()
    };
    let (base, cand) = (values(baseline), values(candidate));
    let (mb, mc) = (median(&base), median(&cand));
    let higher_is_better = t.metric.higher_is_better();
    // How much worse `c` is than `b`, in the tolerance's unit.
    let worsening = move |b: f64, c: f64| {
        let delta = if higher_is_better { b - c } else { c - b };
        match t.allowance {
            Allowance::Relative(_) => delta / b,
            Allowance::Points(_) => delta * 100.0,
            Allowance::Millis(_) => delta,
        }
    };
    let allowed = match t.allowance {
        Allowance::Relative(share) => share,
        Allowance::Points(pt) => pt,
        Allowance::Millis(ms) => ms,
    };
    let point = worsening(mb, mc);
    // With one run on a side, that side counts as exact: the interval then
    // holds only the other side's noise (the advice says so).
    let ci = (base.len() >= 2 || cand.len() >= 2).then(|| median_ci(&base, &cand, worsening));
    let comparable = !base.is_empty() && !cand.is_empty() && point.is_finite();
    let (verdict, judged) = decide(comparable, point, ci, allowed);
    let show = |v: f64| show_change(v, t.allowance);
    let message = format!(
        "{}: {} → {} ({} {}{}); allowed {}: {}",
        t.metric.label(),
        show_value(mb, t),
        show_value(mc, t),
        if point > 0.0 { "worse by" } else { "better by" },
        show(point.abs()).trim_start_matches('+'),
        ci.map_or(String::new(), |(lo, hi)| format!(
            ", 95% CI {} to {}",
            show(lo),
            show(hi)
        )),
        show(allowed),
        judged
    );
    RegressionCheck {
        tolerance: t.clone(),
        baseline_values: base,
        candidate_values: cand,
        baseline_median: mb,
        candidate_median: mc,
        worsening: point,
        ci_low: ci.map(|c| c.0),
        ci_high: ci.map(|c| c.1),
        allowed,
        verdict,
        message,
    }
}

/// The verdict on one tolerance and why: from the 95 % interval of the
/// worsening when there is one, else from the point estimate alone.
fn decide(
    comparable: bool,
    point: f64,
    ci: Option<(f64, f64)>,
    allowed: f64,
) -> (RegressionVerdict, String) {
    if !comparable {
        (
            RegressionVerdict::Inconclusive,
            "no comparable value on both sides".to_string(),
        )
    } else {
        match ci {
            Some((lo, _)) if lo > allowed => (
                RegressionVerdict::Fail,
                "worse beyond the tolerance with 95% confidence".into(),
            ),
            Some((_, hi)) if hi <= allowed => (
                RegressionVerdict::Pass,
                "within the tolerance with 95% confidence".into(),
            ),
            Some(_) => (
                RegressionVerdict::Inconclusive,
                "the interval straddles the tolerance".into(),
            ),
            None if point > allowed => (
                RegressionVerdict::Fail,
                "worse beyond the tolerance (one run a side, noise not measured)".into(),
            ),
            None => (
                RegressionVerdict::Pass,
                "within the tolerance (one run a side, noise not measured)".into(),
            ),
        }
    }
}

/// How much one metric varies between repeats of the same run (an A/A
/// measurement): the floor below which no change can be told from noise.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NoiseFloor {
    pub(crate) metric: String,
    pub runs: usize,
    pub(crate) median: f64,
    pub min: f64,
    pub max: f64,
    /// (max - min) / median.
    pub spread: f64,
    /// Half the width of the 95 % bootstrap interval of the median, relative to the median.
    pub ci_half_width: f64,
}

/// The noise floor of `metric` (whole run, all requests) over repeated runs;
/// `None` with fewer than two runs that have a value.
pub fn noise_floor(runs: &[Summary], metric: Metric) -> Option<NoiseFloor> {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|s| whole_run_value(s, metric, None))
        .collect();
    if values.len() < 2 {
        return None;
    }
    let m = median(&values);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // The interval of the median itself: resample the runs against a fixed zero.
    let (lo, hi) = median_ci(&[0.0], &values, |_, mv| mv);
    Some(NoiseFloor {
        metric: metric.label().to_string(),
        runs: values.len(),
        median: m,
        min,
        max,
        spread: if m != 0.0 { (max - min) / m } else { 0.0 },
        ci_half_width: if m != 0.0 { (hi - lo) / 2.0 / m } else { 0.0 },
    })
}

impl RegressionCheck {
    /// A change in this check's unit, signed: "+12.3%", "-0.40 pt", "+20.0 ms".
    pub(crate) fn show_change(&self, v: f64) -> String {
        show_change(v, self.tolerance.allowance)
    }

    /// A value of this check's metric in its natural unit: "12.30 ms", "1.20%", "812.0/s".
    pub(crate) fn show_value(&self, v: f64) -> String {
        show_value(v, &self.tolerance)
    }
}

fn show_change(v: f64, allowance: Allowance) -> String {
    match allowance {
        Allowance::Relative(_) => format!("{:+.1}%", v * 100.0),
        Allowance::Points(_) => format!("{v:+.2} pt"),
        Allowance::Millis(_) => format!("{v:+.1} ms"),
    }
}

/// A metric's value in its natural unit.
fn show_value(v: f64, t: &Tolerance) -> String {
    if t.metric.is_latency() {
        format!("{v:.2} ms")
    } else if t.metric.higher_is_better() {
        format!("{v:.1}/s")
    } else {
        format!("{:.2}%", v * 100.0)
    }
}

/// What makes baseline and candidate not the same experiment, as warnings.
pub(crate) fn mismatches(baseline: &[Summary], candidate: &[Summary]) -> Vec<String> {
    let (Some(b), Some(c)) = (baseline.first(), candidate.first()) else {
        return Vec::new();
    };
    let (b, c) = (&b.run.meta, &c.run.meta);
    let mut found = Vec::new();
    if b.scenario != c.scenario {
        found.push(format!(
            "the baseline ran scenario {:?}, the candidate {:?}: the figures may not be comparable",
            b.scenario, c.scenario
        ));
    }
    if b.seed != c.seed {
        found.push(format!(
            "the baseline ran with seed {}, the candidate with seed {}: they sent different requests",
            b.seed, c.seed
        ));
    }
    if (b.planned_duration_s - c.planned_duration_s).abs() > 0.5 {
        found.push(format!(
            "the baseline was planned for {:.0} s, the candidate for {:.0} s",
            b.planned_duration_s, c.planned_duration_s
        ));
    }
    found
}
