//! The plan of `harness run`, built once by [`Plan::build`] from the command
//! line and the scenario file (read once), and trusted by everything after
//! it: `--dry-run` prints it, the run executes it. It holds typed values:
//! one lane per backend (its target, its scenario with the overrides
//! applied, its gates resolved against the scenario's names, its run
//! arguments), the tolerances and the `--baseline` runs read from disk.
//! Anything a run could refuse is refused here, before any process starts
//! or any byte is sent.

use super::target::{target_override, TargetOverride};
use super::{checks, compare, BatchArgs, Ran};
use crate::backend::Tls;
use crate::baseline::DEFAULT_TOLERANCES;
use crate::history;
use crate::run::{self, RunArgs, RunError};
use crate::scenario::{self, Scenario};
use crate::slo::{parse_tolerances, Gate, Tolerance};
use crate::summary::{self, Summary};
use std::path::PathBuf;

/// What `harness run` will do, checked before any run starts.
pub struct Plan {
    /// One lane per backend, in the order runs go (a baseline target first).
    pub lanes: Vec<Lane>,
    /// Runs per lane (`--repeat`).
    pub(crate) repeat: usize,
    /// Whether runs are judged against a baseline (`--baseline`, `--baseline-target`).
    pub(crate) judging: bool,
    /// A baseline target runs here, as the first lane.
    pub(crate) baseline_target: bool,
    pub(super) tolerances: Vec<Tolerance>,
    /// The `--baseline` runs, read from their folders.
    pub(super) baseline: Vec<Summary>,
    /// With `--baseline history`: which recorded runs the baseline is, for the output.
    pub(crate) from_history: Vec<String>,
    /// Where those were read from.
    pub(crate) baseline_paths: Vec<PathBuf>,
    pub(crate) reports_dir: PathBuf,
}

/// One backend the runs go to, and what it is called in reports.
pub struct Lane {
    pub label: String,
    /// The scenario as this lane runs it (overrides applied).
    pub(crate) scenario: Scenario,
    /// Its gates: the scenario's and `--gate`'s, every name resolved.
    pub(crate) gates: Vec<Gate>,
    /// The run arguments this lane's runs are made with.
    pub(crate) args: RunArgs,
    pub(super) runs: Vec<Ran>,
}

impl Plan {
    /// The only reader of the scenario file and the checker of every option.
    pub fn build(args: &BatchArgs) -> Result<Plan, RunError> {
        let usage = RunError::Usage;
        checks::repeat(args.repeat)?;
        let judging = !args.baseline.is_empty() || args.baseline_target.is_some();
        if judging && args.targets.len() > 1 {
            return Err(usage(
                "--baseline and --baseline-target judge one candidate: give at most one --target with them \
                 (to set several backends side by side, drop the baseline)"
                    .into(),
            ));
        }
        if !judging && args.max_regression.is_some() {
            return Err(usage(
                "--max-regression needs a baseline: add --baseline <run folder> or --baseline-target <URL|bundled:profile>"
                    .into(),
            ));
        }
        let tolerances = match judging {
            true => {
                let text = args.max_regression.as_deref().unwrap_or(DEFAULT_TOLERANCES);
                parse_tolerances(text).map_err(|e| usage(format!("--max-regression: {e}")))?
            }
            false => Vec::new(),
        };
        let mut baseline = args
            .baseline
            .iter()
            .filter(|p| history_spec(p).is_none())
            .map(|p| {
                compare::check_run_path(p)
                    .and_then(|()| summary::read(p).map_err(|e| format!("{e:#}")))
                    .map_err(|e| usage(format!("--baseline {}: {e}", p.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        checks::toxiproxy(args.run.toxiproxy.as_deref())?;
        checks::start_at(&args.run)?;
        let sc = scenario::load(&args.run.scenario)?;
        let lanes = lanes(args, &sc)?;
        // The TLS files are read now (nothing connects), so a wrong path stops the plan.
        let mut connect = args.run.connect.clone();
        connect.http2 |= lanes.iter().any(|l| l.scenario.http2);
        Tls::new(&connect).map_err(|e| usage(e.to_string()))?;
        // One backend (repeated, or against a baseline run): a fault it
        // cannot take is refused; several sides are compared instead.
        if let [lane] = lanes.as_slice() {
            run::refuse_not_injected(&lane.scenario, &lane.gates)?;
        }
        checks::reports_dir(&args.run.reports_dir)?;
        let mut from_history = Vec::new();
        if let Some(recorded) = history_baseline(args, &lanes)? {
            from_history = recorded.describe();
            baseline.extend(recorded.summaries);
        }
        Ok(Plan {
            lanes,
            repeat: args.repeat,
            judging,
            baseline_target: args.baseline_target.is_some(),
            tolerances,
            baseline,
            from_history,
            baseline_paths: args
                .baseline
                .iter()
                .filter(|p| history_spec(p).is_none())
                .cloned()
                .collect(),
            reports_dir: args.run.reports_dir.clone(),
        })
    }

    /// Whether this is one plain run (its output is exactly a run's).
    pub(crate) fn is_single(&self) -> bool {
        self.lanes.len() == 1 && self.repeat == 1 && !self.judging
    }
}

/// `--baseline history` or `history:last=N`, when that is what `p` says.
fn history_spec(p: &std::path::Path) -> Option<Result<history::baseline::Spec, String>> {
    p.to_str().and_then(history::baseline::parse_spec)
}

/// The recorded runs of the candidate's scenario and target since their
/// last change point, when a `--baseline` names the history.
fn history_baseline(
    args: &BatchArgs,
    lanes: &[Lane],
) -> Result<Option<history::baseline::HistoryBaseline>, RunError> {
    let Some(spec) = args.baseline.iter().find_map(|p| history_spec(p)) else {
        return Ok(None);
    };
    let spec = spec.map_err(RunError::Usage)?;
    let candidate = lanes.last().expect("a plan has a lane");
    let file = candidate
        .args
        .history
        .path
        .clone()
        .unwrap_or_else(|| candidate.args.reports_dir.join(history::FILE_NAME));
    let target = run::target_description(&candidate.scenario.target);
    history::baseline::from_history(&file, &candidate.scenario.name, &target, spec)
        .map(Some)
        .map_err(RunError::Usage)
}

/// The lanes' targets: the baseline target first, then each `--target`, or
/// the scenario's `[[targets]]` (two or more) when none is given, or the
/// scenario's own target.
fn lanes(args: &BatchArgs, sc: &Scenario) -> Result<Vec<Lane>, RunError> {
    let parse = |flag: &str, spec: &str| {
        target_override(spec).map_err(|e| RunError::Usage(format!("{flag} {e}")))
    };
    let mut chosen: Vec<(String, Option<TargetOverride>)> = Vec::new();
    if let Some(spec) = &args.baseline_target {
        let t = parse("--baseline-target", spec)?;
        chosen.push((format!("baseline {}", t.label()), Some(t)));
    }
    let given: Vec<&String> = match args.targets.as_slice() {
        [] => args.run.target.iter().collect(),
        t => t.iter().collect(),
    };
    for spec in given {
        let t = parse("--target", spec)?;
        chosen.push((t.label(), Some(t)));
    }
    let from_scenario = chosen.is_empty() && sc.targets.len() > 1;
    if from_scenario {
        for entry in &sc.targets {
            let t = TargetOverride::from(entry);
            chosen.push((t.label(), Some(t)));
        }
    }
    if chosen.is_empty() || (args.baseline_target.is_some() && chosen.len() == 1) {
        let label = match &args.run.profile {
            Some(p) => format!("bundled:{p}"),
            None => "the scenario's target".into(),
        };
        chosen.push((label, None));
    }
    if args.baseline_target.is_some() {
        chosen[1].0 = format!("candidate {}", chosen[1].0);
    }
    // The same target twice (an A/A comparison) is two sides, not one.
    for i in 1..chosen.len() {
        let same = chosen[..i].iter().filter(|c| c.0 == chosen[i].0).count();
        if same > 0 {
            chosen[i].0 = format!("{} ({})", chosen[i].0, same + 1);
        }
    }
    chosen
        .into_iter()
        .map(|(label, target)| {
            let (scenario, gates, args) = prepare(sc, &args.run, target.as_ref())?;
            Ok(Lane {
                label,
                scenario,
                gates,
                args,
                runs: Vec::new(),
            })
        })
        .collect()
}

/// The scenario with the overrides for one lane; a URL goes through
/// `run::apply`'s own checks, a bundled profile replaces the target after.
pub(super) fn prepare(
    sc: &Scenario,
    base: &RunArgs,
    target: Option<&TargetOverride>,
) -> Result<(Scenario, Vec<Gate>, RunArgs), RunError> {
    let mut args = base.clone();
    match target {
        // `--profile` is for the scenario's bundled server, not a URL lane.
        Some(TargetOverride::Url(url)) => {
            args.target = Some(url.clone());
            args.profile = None;
        }
        // The lane's profile replaces any `--profile` after `run::apply`.
        Some(TargetOverride::Bundled { .. }) => {
            args.target = None;
            args.profile = None;
        }
        None => {}
    }
    let (mut sc, gates) = run::apply(sc.clone(), &args)?;
    if let Some(t @ TargetOverride::Bundled { .. }) = target {
        sc.target = t.apply(&sc.target);
    }
    Ok((sc, gates, args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::profile::Profile;
    use crate::scenario::TargetSpec;
    use std::path::PathBuf;

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
            sharding: Default::default(),
            live: Default::default(),
            history: Default::default(),
        }
    }

    fn profile_of(spec: &TargetSpec) -> Option<Profile> {
        match spec {
            TargetSpec::Bundled { profile, .. } => Some(*profile),
            TargetSpec::Url(_) => None,
        }
    }

    #[test]
    fn each_lane_gets_its_own_target_and_the_profile_flag_only_the_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        let base = args(dir.path(), Some("naive"));
        let read = scenario::load(&base.scenario).unwrap();
        let (sc, _, _) = prepare(&read, &base, None).unwrap();
        assert_eq!(profile_of(&sc.target), Some(Profile::Naive));
        let url = TargetOverride::Url("http://127.0.0.1:9".into());
        let (sc, _, one) = prepare(&read, &base, Some(&url)).unwrap();
        assert_eq!(sc.target, TargetSpec::Url("http://127.0.0.1:9".into()));
        assert_eq!(one.profile, None);
        let default = target_override("bundled:default").unwrap();
        let (sc, _, _) = prepare(&read, &base, Some(&default)).unwrap();
        assert_eq!(profile_of(&sc.target), Some(Profile::Default));
    }
}
