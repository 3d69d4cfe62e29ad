//! Runs made of several runs, and what is concluded from them:
//!
//! - several targets: the same seeded scenario against each backend,
//!   interleaved A B A B (for `--repeat`), then one comparison report;
//! - `--baseline` / `--baseline-target`: candidate runs judged against the
//!   baseline's with the noise-aware regression check (PASS / FAIL /
//!   INCONCLUSIVE), base and candidate interleaved when both run here;
//! - `--repeat N` alone: N runs and the spread between them (the noise floor);
//! - `harness compare`: finished runs set side by side.
//!
//! goose keeps process-wide state, so runs here are strictly one after another.

mod compare;
mod target;
mod verdict;

pub use compare::compare_runs;
pub use target::{target_override, TargetOverride, BUNDLED_PROFILES};

use crate::gate::{parse_tolerances, Tolerance};
use crate::report::{self, Summary};
use crate::run::{self, RunArgs, RunError, EXIT_INTERRUPTED};
use std::io::Write;
use std::path::PathBuf;

/// Tolerances used with a baseline when `--max-regression` is not given.
pub const DEFAULT_TOLERANCES: &str = "p95=10%,error-rate=+1pt,shed-rate=+1pt,throughput=-5%";

/// Exit code of an inconclusive baseline verdict (run-to-run noise hides the answer).
pub const EXIT_INCONCLUSIVE: u8 = 5;

/// Everything `harness run` takes when it makes more than one run.
#[derive(Clone, Debug)]
pub struct SuiteArgs {
    /// The run itself; its `target` is used when `targets` is empty.
    pub run: RunArgs,
    /// `--target`, repeatable: loopback URLs or `bundled:<profile>`.
    pub targets: Vec<String>,
    /// `--repeat N`: runs per target (at least 1).
    pub repeat: usize,
    /// `--baseline`, repeatable: run folders or summary.json files of earlier
    /// runs; several give the baseline's own noise.
    pub baseline: Vec<PathBuf>,
    /// `--baseline-target`: a backend run as the baseline, interleaved with the candidate.
    pub baseline_target: Option<String>,
    /// `--max-regression`, e.g. `p95=10%,shed-rate=+1pt,throughput=-5%`.
    pub max_regression: Option<String>,
}

impl SuiteArgs {
    /// Whether this is one plain run (`run::run` alone is enough).
    pub fn is_single(&self) -> bool {
        self.targets.len() <= 1
            && self.repeat <= 1
            && self.baseline.is_empty()
            && self.baseline_target.is_none()
    }

    fn judging(&self) -> bool {
        !self.baseline.is_empty() || self.baseline_target.is_some()
    }
}

/// One backend the runs go to, and what it is called in reports.
struct Lane {
    label: String,
    target: Option<TargetOverride>,
    runs: Vec<Ran>,
}

/// A finished run: its folder, summary and exit code.
struct Ran {
    dir: PathBuf,
    summary: Summary,
    exit_code: u8,
}

/// Runs every run asked for, strictly one after another, then writes the
/// comparison, the baseline verdict or the spread; returns the exit code.
pub async fn run_suite(args: &SuiteArgs, out: &mut dyn Write) -> Result<u8, RunError> {
    let plan = Plan::new(args)?;
    let mut lanes = plan.lanes;
    // A single run prints exactly what `run::run` prints.
    let single = lanes.len() == 1 && args.repeat == 1 && !args.judging();
    let mut worst = 0u8;
    'rounds: for round in 1..=args.repeat {
        for lane in lanes.iter_mut() {
            if !single {
                let _ = writeln!(out, "run {round} of {}: {}", args.repeat, lane.label);
            }
            let outcome = run_one(&args.run, lane.target.as_ref(), out).await?;
            worst = worse(worst, outcome.exit_code);
            let summary = report::read_summary(&outcome.report_dir).map_err(RunError::Failed)?;
            lane.runs.push(Ran {
                dir: outcome.report_dir,
                summary,
                exit_code: outcome.exit_code,
            });
            if outcome.interrupted {
                break 'rounds;
            }
        }
    }
    if worst == EXIT_INTERRUPTED {
        let _ = writeln!(
            out,
            "interrupted: no verdict or comparison from an incomplete set of runs"
        );
        return Ok(worst);
    }
    if args.judging() {
        if args.baseline_target.is_some() {
            // Base and candidate side by side; the verdict (and the report
            // it is written into) comes last.
            compare::compare_lanes(
                &lanes,
                &args.run.reports_dir,
                args.repeat,
                "comparison",
                out,
            )?;
        }
        let (base_runs, candidate) = match args.baseline_target {
            Some(_) => (lanes[0].runs.as_slice(), &lanes[1]),
            None => (&[][..], &lanes[0]),
        };
        let mut baseline = plan.baseline;
        baseline.extend(base_runs.iter().map(|r| r.summary.clone()));
        let code = verdict::judge(&baseline, &candidate.runs, &plan.tolerances, out)?;
        // The candidate's own gates count; the baseline's do not (it is
        // only the yardstick), unless its runs were invalid measurements.
        let runs = candidate.runs.iter().map(|r| r.exit_code);
        let base_invalid = base_runs.iter().any(|r| r.exit_code == 4);
        let own = runs.fold(if base_invalid { 4 } else { 0 }, worse);
        return Ok(worse(own, code));
    }
    if lanes.len() > 1 {
        compare::compare_lanes(&lanes, &args.run.reports_dir, args.repeat, "report", out)?;
        // Comparing backends is the point, so one failing its gates is a
        // finding in the report, not a failed command.
        return Ok(if worst == 4 {
            let _ = writeln!(
                out,
                "warning: the load generator could not keep its schedule in at least one run: \
                 those figures measure the generator, not the backend"
            );
            4
        } else {
            0
        });
    }
    if args.repeat > 1 {
        verdict::print_spread(&lanes[0].runs, out);
    }
    Ok(worst)
}

/// What a suite will do, checked before any run starts.
struct Plan {
    lanes: Vec<Lane>,
    tolerances: Vec<Tolerance>,
    baseline: Vec<Summary>,
}

impl Plan {
    fn new(args: &SuiteArgs) -> Result<Plan, RunError> {
        let usage = |m: String| RunError::Usage(m);
        if args.repeat == 0 {
            return Err(usage("--repeat 0: expected at least 1 run".into()));
        }
        if args.judging() && args.targets.len() > 1 {
            return Err(usage(
                "--baseline and --baseline-target judge one candidate: give at most one --target with them \
                 (to set several backends side by side, drop the baseline)"
                    .into(),
            ));
        }
        if !args.judging() && args.max_regression.is_some() {
            return Err(usage(
                "--max-regression needs a baseline: add --baseline <run folder> or --baseline-target <URL|bundled:profile>"
                    .into(),
            ));
        }
        let tolerances = match args.judging() {
            true => {
                let text = args.max_regression.as_deref().unwrap_or(DEFAULT_TOLERANCES);
                parse_tolerances(text).map_err(|e| usage(e.to_string()))?
            }
            false => Vec::new(),
        };
        let baseline = args
            .baseline
            .iter()
            .map(|p| {
                compare::check_run_path(p)
                    .and_then(|()| report::read_summary(p).map_err(|e| format!("{e:#}")))
                    .map_err(|e| usage(format!("--baseline {}: {e}", p.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let parse = |flag: &str, spec: &str| {
            target_override(spec).map_err(|e| usage(format!("{flag} {e}")))
        };
        let mut lanes = Vec::new();
        if let Some(spec) = &args.baseline_target {
            let target = parse("--baseline-target", spec)?;
            lanes.push(Lane {
                label: format!("baseline {}", target.label()),
                target: Some(target),
                runs: Vec::new(),
            });
        }
        let targets: Vec<&String> = match args.targets.as_slice() {
            [] => args.run.target.iter().collect(),
            t => t.iter().collect(),
        };
        if targets.is_empty() {
            lanes.push(Lane {
                label: match &args.run.profile {
                    Some(p) => format!("bundled:{p}"),
                    None => "the scenario's target".into(),
                },
                target: None,
                runs: Vec::new(),
            });
        }
        for spec in targets {
            let target = parse("--target", spec)?;
            lanes.push(Lane {
                label: target.label(),
                target: Some(target),
                runs: Vec::new(),
            });
        }
        if args.baseline_target.is_some() {
            lanes[1].label = format!("candidate {}", lanes[1].label);
        }
        // Reads the scenario and checks every override once, so a bad file
        // or flag stops the suite before its first run, not after several.
        for lane in &lanes {
            prepare(&args.run, lane.target.as_ref())?;
        }
        Ok(Plan {
            lanes,
            tolerances,
            baseline,
        })
    }
}

/// One run against `target` (or the run's own target), through `run::run_scenario`.
async fn run_one(
    base: &RunArgs,
    target: Option<&TargetOverride>,
    out: &mut dyn Write,
) -> Result<run::RunOutcome, RunError> {
    let (sc, gates, args) = prepare(base, target)?;
    run::run_scenario(sc, gates, &args, out).await
}

/// The scenario read and overridden for one lane; a URL goes through
/// `run::prepare`'s own checks, a bundled profile replaces the target after.
fn prepare(
    base: &RunArgs,
    target: Option<&TargetOverride>,
) -> Result<(crate::scenario::Scenario, Vec<crate::gate::Gate>, RunArgs), RunError> {
    let mut args = base.clone();
    match target {
        // `--profile` is for the scenario's bundled server, not a URL lane.
        Some(TargetOverride::Url(url)) => {
            args.target = Some(url.clone());
            args.profile = None;
        }
        // The lane's profile replaces any `--profile` after `run::prepare`.
        Some(TargetOverride::Bundled { .. }) => {
            args.target = None;
            args.profile = None;
        }
        None => {}
    }
    let (mut sc, gates) = run::prepare(&args)?;
    if let Some(t @ TargetOverride::Bundled { .. }) = target {
        sc.target = t.apply(&sc.target);
    }
    Ok((sc, gates, args))
}

/// The more serious of two exit codes: interrupted, then invalid (4), gate
/// failed (1), inconclusive (5), pass (0).
pub fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        EXIT_INTERRUPTED => 6,
        3 => 5,
        4 => 4,
        1 => 3,
        EXIT_INCONCLUSIVE => 2,
        0 => 0,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::TargetSpec;

    const BUNDLED: &str = r#"name = "lanes"
[load]
model = "closed"
[[load.stages]]
duration = "1s"
users = 1
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
"#;

    fn args(dir: &std::path::Path, profile: Option<&str>) -> RunArgs {
        let scenario = dir.join("lanes.toml");
        std::fs::write(&scenario, BUNDLED).unwrap();
        RunArgs {
            scenario,
            target: None,
            duration: None,
            scale: None,
            gates: Vec::new(),
            seed: None,
            quiet: true,
            reports_dir: dir.join("reports"),
            toxiproxy: None,
            profile: profile.map(str::to_string),
            server_exe: PathBuf::from("harness"),
            connect: Default::default(),
        }
    }

    fn profile_of(spec: &TargetSpec) -> Option<&str> {
        match spec {
            TargetSpec::Bundled { profile, .. } => Some(profile),
            TargetSpec::Url(_) => None,
        }
    }

    #[test]
    fn each_lane_gets_its_own_target_and_the_profile_flag_only_the_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let base = args(dir.path(), Some("naive"));
        let (sc, _, _) = prepare(&base, None).unwrap();
        assert_eq!(profile_of(&sc.target), Some("naive"));
        let url = TargetOverride::Url("http://127.0.0.1:9".into());
        let (sc, _, one) = prepare(&base, Some(&url)).unwrap();
        assert_eq!(sc.target, TargetSpec::Url("http://127.0.0.1:9".into()));
        assert_eq!(one.profile, None);
        let default = target_override("bundled:default").unwrap();
        let (sc, _, _) = prepare(&base, Some(&default)).unwrap();
        assert_eq!(profile_of(&sc.target), Some("default"));
    }

    #[test]
    fn the_most_serious_exit_code_wins() {
        assert_eq!(worse(0, 1), 1);
        assert_eq!(worse(1, 4), 4);
        assert_eq!(worse(4, 1), 4);
        assert_eq!(worse(EXIT_INCONCLUSIVE, 1), 1);
        assert_eq!(worse(1, EXIT_INCONCLUSIVE), 1);
        assert_eq!(worse(0, EXIT_INCONCLUSIVE), EXIT_INCONCLUSIVE);
        assert_eq!(worse(4, EXIT_INTERRUPTED), EXIT_INTERRUPTED);
    }
}
