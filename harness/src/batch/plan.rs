//! What a batch will do, checked before its first run: the lanes (one per
//! backend), the tolerances and the `--baseline` runs read from disk; and the
//! scenario as each lane runs it.

use super::compare;
use super::target::{target_override, TargetOverride};
use super::{BatchArgs, Lane};
use crate::baseline::DEFAULT_TOLERANCES;
use crate::run::{self, RunArgs, RunError};
use crate::scenario::Scenario;
use crate::slo::{parse_tolerances, Gate, Tolerance};
use crate::summary::{self, Summary};

/// What a batch will do, checked before any run starts.
pub(super) struct Plan {
    pub(super) lanes: Vec<Lane>,
    pub(super) tolerances: Vec<Tolerance>,
    /// The `--baseline` runs, read from their folders.
    pub(super) baseline: Vec<Summary>,
}

impl Plan {
    pub(super) fn new(args: &BatchArgs) -> Result<Plan, RunError> {
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
                    .and_then(|()| summary::read(p).map_err(|e| format!("{e:#}")))
                    .map_err(|e| usage(format!("--baseline {}: {e}", p.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let lanes = lanes(args)?;
        // Reads the scenario and checks every override once, so a bad file
        // or flag stops the batch before its first run, not after several.
        for lane in &lanes {
            let (sc, _, _) = prepare(&args.run, lane.target.as_ref())?;
            // One backend (repeated, or against a baseline run): a fault it
            // cannot take is refused; several sides are compared instead.
            if lanes.len() == 1 {
                run::refuse_not_injected(&sc)?;
            }
        }
        Ok(Plan {
            lanes,
            tolerances,
            baseline,
        })
    }
}

/// One lane per backend, in the order runs go: the baseline target first,
/// then each `--target` (or the scenario's own target).
fn lanes(args: &BatchArgs) -> Result<Vec<Lane>, RunError> {
    let usage = |m: String| RunError::Usage(m);
    let parse =
        |flag: &str, spec: &str| target_override(spec).map_err(|e| usage(format!("{flag} {e}")));
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
    // The same target twice (an A/A comparison) is two sides, not one.
    for i in 1..lanes.len() {
        let same = lanes[..i]
            .iter()
            .filter(|l| l.label == lanes[i].label)
            .count();
        if same > 0 {
            lanes[i].label = format!("{} ({})", lanes[i].label, same + 1);
        }
    }
    Ok(lanes)
}

/// The scenario read and overridden for one lane; a URL goes through
/// `run::prepare`'s own checks, a bundled profile replaces the target after.
pub(super) fn prepare(
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

#[cfg(test)]
mod tests {
    use super::*;
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
}
