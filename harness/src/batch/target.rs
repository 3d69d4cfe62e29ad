//! What a `--target` / `--baseline-target` value names: a backend already
//! running at an http(s) URL, or the bundled reference server in one of its
//! profiles (`bundled:default`, `bundled:naive`), started by the harness.

use crate::scenario::profile::{self, Profile};
use crate::scenario::{TargetEntry, TargetSpec};

/// A target given on the command line, replacing the scenario's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TargetOverride {
    /// A running backend at an http(s) URL.
    Url(String),
    /// The bundled reference server started with this `--profile`.
    Bundled { profile: Profile },
}

impl From<&TargetEntry> for TargetOverride {
    /// A `[[targets]]` entry as the target of a lane, as it is (no text in between).
    fn from(entry: &TargetEntry) -> Self {
        match &entry.spec {
            TargetSpec::Url(url) => TargetOverride::Url(url.clone()),
            TargetSpec::Bundled { profile, .. } => TargetOverride::Bundled { profile: *profile },
        }
    }
}

impl TargetOverride {
    /// The value as given (a password in a URL shown as `***`), for labels and progress lines.
    pub(crate) fn label(&self) -> String {
        match self {
            TargetOverride::Url(url) => crate::redact::url(url),
            TargetOverride::Bundled { profile } => format!("bundled:{}", profile::name(*profile)),
        }
    }

    /// The scenario's target with this override applied. A bundled override
    /// keeps the scenario's extra server and gateway flags when it already
    /// names the bundled server, so only the profile changes.
    pub(crate) fn apply(&self, spec: &TargetSpec) -> TargetSpec {
        match self {
            TargetOverride::Url(url) => TargetSpec::Url(url.clone()),
            TargetOverride::Bundled { profile } => match spec {
                TargetSpec::Bundled {
                    server_args,
                    gateway_args,
                    ..
                } => TargetSpec::Bundled {
                    profile: *profile,
                    server_args: server_args.clone(),
                    gateway_args: gateway_args.clone(),
                },
                TargetSpec::Url(_) => TargetSpec::Bundled {
                    profile: *profile,
                    server_args: Vec::new(),
                    gateway_args: Vec::new(),
                },
            },
        }
    }
}

/// Parses a target value: `bundled:<profile>` or an http(s) URL (not resolved).
pub(crate) fn target_override(spec: &str) -> Result<TargetOverride, String> {
    let spec = spec.trim();
    if let Some(name) = spec.strip_prefix("bundled:") {
        return match profile::parse(name) {
            Some(profile) => Ok(TargetOverride::Bundled { profile }),
            None => Err(format!(
                "`{spec}`: the bundled server has no profile `{name}` (known: {})",
                profile::ALL
                    .map(|p| format!("bundled:{}", profile::name(p)))
                    .join(", ")
            )),
        };
    }
    crate::backend::check_url(spec).map_err(|e| {
        format!("{e}; expected an http(s) URL such as https://staging.example.com, or bundled:default / bundled:naive")
    })?;
    Ok(TargetOverride::Url(spec.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_profiles_and_urls_are_targets() {
        assert_eq!(
            target_override("bundled:naive").unwrap(),
            TargetOverride::Bundled {
                profile: Profile::Naive
            }
        );
        assert_eq!(
            target_override("http://127.0.0.1:8080").unwrap(),
            TargetOverride::Url("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            target_override("bundled:default").unwrap().label(),
            "bundled:default"
        );
    }

    #[test]
    fn unknown_profiles_and_other_schemes_are_refused_with_the_reason() {
        let e = target_override("bundled:fast").unwrap_err();
        assert!(
            e.contains("no profile `fast`") && e.contains("bundled:naive"),
            "{e}"
        );
        assert_eq!(
            target_override("https://staging.example.invalid").unwrap(),
            TargetOverride::Url("https://staging.example.invalid".into())
        );
        let e = target_override("ftp://files.example.invalid").unwrap_err();
        assert!(e.contains("ftp://") && e.contains("bundled:default"), "{e}");
        assert!(target_override("not a url").is_err());
    }

    #[test]
    fn a_bundled_override_keeps_the_scenarios_server_flags() {
        let spec = TargetSpec::Bundled {
            profile: Profile::Default,
            server_args: vec!["--kitchen-workers".into(), "2".into()],
            gateway_args: vec![],
        };
        let naive = TargetOverride::Bundled {
            profile: Profile::Naive,
        };
        match naive.apply(&spec) {
            TargetSpec::Bundled {
                profile,
                server_args,
                ..
            } => {
                assert_eq!(profile, Profile::Naive);
                assert_eq!(server_args, ["--kitchen-workers", "2"]);
            }
            other => panic!("not bundled: {other:?}"),
        }
        let url = TargetOverride::Url("http://127.0.0.1:1".into());
        assert!(matches!(url.apply(&spec), TargetSpec::Url(u) if u == "http://127.0.0.1:1"));
    }
}
