//! Who a recorded run is: its scenario (and a hash of the scenario as it
//! ran), its target, the harness version, its start, and where it came from
//! (commit, branch, CI job) as the CI's environment or `--meta key=value`
//! tell. Read from the run's summary, so a live run, a merged run and an
//! imported one get the same identity.

use crate::summary::Summary;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The commit under test, first set wins: GitHub Actions, GitLab CI,
/// Buildkite, CircleCI, Jenkins (git plugin), Bitbucket, Drone.
const COMMIT_VARS: &[&str] = &[
    "GITHUB_SHA",
    "CI_COMMIT_SHA",
    "BUILDKITE_COMMIT",
    "CIRCLE_SHA1",
    "GIT_COMMIT",
    "BITBUCKET_COMMIT",
    "DRONE_COMMIT_SHA",
];
/// The branch: a pull request's own branch (GITHUB_HEAD_REF) before the
/// ref GitHub tests it on (`123/merge`).
const BRANCH_VARS: &[&str] = &[
    "GITHUB_HEAD_REF",
    "GITHUB_REF_NAME",
    "CI_COMMIT_REF_NAME",
    "BUILDKITE_BRANCH",
    "CIRCLE_BRANCH",
    "GIT_BRANCH",
    "BITBUCKET_BRANCH",
    "DRONE_BRANCH",
];
/// The CI job or pipeline run.
const JOB_VARS: &[&str] = &[
    "GITHUB_RUN_ID",
    "CI_JOB_ID",
    "BUILDKITE_JOB_ID",
    "CIRCLE_BUILD_NUM",
    "BUILD_NUMBER",
    "BITBUCKET_BUILD_NUMBER",
    "DRONE_BUILD_NUMBER",
];

/// A recorded run's identity.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    pub scenario: String,
    /// SHA-256 (hex) of what the run ran: see [`scenario_hash`].
    pub scenario_hash: String,
    /// What was load-tested, as the report names it.
    pub target: String,
    pub harness_version: String,
    /// RFC 3339, UTC.
    pub(crate) started_at: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub ci_job: Option<String>,
    /// Every other `--meta key=value`.
    pub meta: BTreeMap<String, String>,
}

impl Identity {
    /// The identity of the run `summary` describes; `var` reads the
    /// environment; `meta` (`--meta`) overrides it (`commit`, `branch` and
    /// `ci_job` keys fill those fields, others are kept as they are).
    pub(crate) fn of(
        summary: &Summary,
        var: impl Fn(&str) -> Option<String>,
        meta: &[(String, String)],
    ) -> Identity {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
        };
        let m = &summary.run.meta;
        let mut id = Identity {
            scenario: m.scenario.clone(),
            scenario_hash: scenario_hash(summary),
            target: m.target.clone(),
            harness_version: m.harness_version.clone(),
            started_at: m
                .started_at
                .to_offset(time::UtcOffset::UTC)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            commit: first(COMMIT_VARS).or_else(|| m.git_commit.clone()),
            branch: first(BRANCH_VARS),
            ci_job: first(JOB_VARS),
            meta: BTreeMap::new(),
        };
        for (k, v) in meta {
            match k.as_str() {
                "commit" => id.commit = Some(v.clone()),
                "branch" => id.branch = Some(v.clone()),
                "ci_job" => id.ci_job = Some(v.clone()),
                _ => {
                    id.meta.insert(k.clone(), v.clone());
                }
            }
        }
        id
    }
}

/// `--meta key=value`: a non-empty key of letters, digits, `_`, `-` or `.`.
pub(crate) fn parse_meta(text: &str) -> Result<(String, String), String> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected key=value, e.g. commit=3f2a1c9"))?;
    let k = k.trim();
    if k.is_empty()
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "{text:?}: the key must be letters, digits, '_', '-' or '.'"
        ));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

/// SHA-256 of the scenario as the run ran it, from its summary: name, seed,
/// load model, planned length, stages, request names, gates and faults. Two
/// runs with the same hash sent the same load shape (after `--duration`,
/// `--scale`, `--seed` and `--gate`), so their figures are comparable.
pub(crate) fn scenario_hash(summary: &Summary) -> String {
    let json = serde_json::to_value(summary).unwrap_or(Value::Null);
    let pick = |list: &str, keys: &[&str]| -> Vec<Value> {
        json.get(list)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|item| keys.iter().map(|k| item.get(*k).cloned()).collect())
                    .collect()
            })
            .unwrap_or_default()
    };
    let run = &summary.run.meta;
    let canonical = serde_json::json!({
        "scenario": run.scenario,
        "seed": run.seed,
        "model": run.model,
        "planned_duration_s": run.planned_duration_s,
        "stages": pick("stages", &["name", "description"]),
        "requests": pick("requests", &["name"]),
        "gates": pick("gates", &["gate"]),
        "faults": pick("faults", &["name", "link", "toxic", "planned_start_s"]),
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        use crate::record::*;
        let mut recorder = Recorder::new(vec!["GET /".into()]);
        recorder.record(&Sample {
            request: 0,
            status: 200,
            outcome: Outcome::Ok,
            intended_us: 0,
            latency_us: 5_000,
            service_us: 5_000,
        });
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let record = RunRecord {
            meta: RunMeta {
                scenario: "s".into(),
                description: String::new(),
                scenario_file: "s.toml".into(),
                seed: 1,
                target: "http://127.0.0.1:9".into(),
                settings: Vec::new(),
                model: LoadModel::Closed,
                started_at: at,
                ended_at: at + time::Duration::seconds(1),
                planned_duration_s: 1.0,
                harness_version: "0".into(),
                git_commit: None,
                machine: MachineInfo::current(),
                connection: None,
                shard: None,
            },
            recorder,
            stages: Vec::new(),
            faults: Vec::new(),
            generator: GeneratorHealth::default(),
            stop: None,
            missed: Vec::new(),
            aborted: None,
            notes: Vec::new(),
        };
        crate::gate::summarize(&record, &[])
    }

    #[test]
    fn the_ci_environment_names_the_commit_branch_and_job_and_meta_overrides_it() {
        let env = |k: &str| {
            match k {
                "GITHUB_SHA" => Some("f00d"),
                "GITHUB_HEAD_REF" => Some(""),
                "GITHUB_REF_NAME" => Some("main"),
                "GITHUB_RUN_ID" => Some("812"),
                _ => None,
            }
            .map(str::to_string)
        };
        let s = summary();
        let id = Identity::of(&s, env, &[]);
        assert_eq!(id.commit.as_deref(), Some("f00d"));
        assert_eq!(
            id.branch.as_deref(),
            Some("main"),
            "an empty GITHUB_HEAD_REF is skipped"
        );
        assert_eq!(id.ci_job.as_deref(), Some("812"));
        let meta = [
            ("commit".to_string(), "beef".to_string()),
            ("pr".to_string(), "7".to_string()),
        ];
        let id = Identity::of(&s, |_| None, &meta);
        assert_eq!(id.commit.as_deref(), Some("beef"));
        assert_eq!(id.meta.get("pr").map(String::as_str), Some("7"));
        assert_eq!(id.scenario_hash, scenario_hash(&s));
        let mut other = s.clone();
        other.run.meta.seed += 1;
        assert_ne!(
            scenario_hash(&other),
            id.scenario_hash,
            "another seed, another load"
        );
    }

    #[test]
    fn meta_takes_key_value_and_names_what_is_wrong() {
        assert_eq!(
            parse_meta("commit=abc").unwrap(),
            ("commit".into(), "abc".into())
        );
        assert_eq!(parse_meta("pr=12=x").unwrap(), ("pr".into(), "12=x".into()));
        assert!(parse_meta("commit").unwrap_err().contains("key=value"));
        assert!(parse_meta("a b=1").unwrap_err().contains("key must be"));
        assert!(parse_meta("=1").is_err());
    }
}
