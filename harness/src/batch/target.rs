//! What a `--target` / `--baseline-target` value names: a backend already
//! running on loopback, or the bundled reference server in one of its
//! profiles (`bundled:default`, `bundled:naive`), started by the harness.

use crate::scenario::TargetSpec;

/// The profiles the bundled reference server knows (its `--profile` values).
pub const BUNDLED_PROFILES: [&str; 2] = ["default", "naive"];

/// A target given on the command line, replacing the scenario's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetOverride {
    /// A running backend (checked to be on loopback).
    Url(String),
    /// The bundled reference server started with this `--profile`.
    Bundled { profile: String },
}

impl TargetOverride {
    /// The value as given, for labels and progress lines.
    pub fn label(&self) -> String {
        match self {
            TargetOverride::Url(url) => url.clone(),
            TargetOverride::Bundled { profile } => format!("bundled:{profile}"),
        }
    }

    /// The scenario's target with this override applied. A bundled override
    /// keeps the scenario's extra server and gateway flags when it already
    /// names the bundled server, so only the profile changes.
    pub fn apply(&self, spec: &TargetSpec) -> TargetSpec {
        match self {
            TargetOverride::Url(url) => TargetSpec::Url(url.clone()),
            TargetOverride::Bundled { profile } => match spec {
                TargetSpec::Bundled {
                    server_args,
                    gateway_args,
                    ..
                } => TargetSpec::Bundled {
                    profile: profile.clone(),
                    server_args: server_args.clone(),
                    gateway_args: gateway_args.clone(),
                },
                TargetSpec::Url(_) => TargetSpec::Bundled {
                    profile: profile.clone(),
                    server_args: Vec::new(),
                    gateway_args: Vec::new(),
                },
            },
        }
    }
}

/// Parses a target value: `bundled:<profile>` or a loopback URL.
pub fn target_override(spec: &str) -> Result<TargetOverride, String> {
    let spec = spec.trim();
    if let Some(profile) = spec.strip_prefix("bundled:") {
        return match BUNDLED_PROFILES.contains(&profile) {
            true => Ok(TargetOverride::Bundled {
                profile: profile.to_string(),
            }),
            false => Err(format!(
                "`{spec}`: the bundled server has no profile `{profile}` (known: {})",
                BUNDLED_PROFILES.map(|p| format!("bundled:{p}")).join(", ")
            )),
        };
    }
    crate::target::check_loopback(spec).map_err(|e| {
        format!("`{spec}`: {e}; expected a loopback URL such as http://127.0.0.1:8080, or bundled:default / bundled:naive")
    })?;
    Ok(TargetOverride::Url(spec.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_profiles_and_loopback_urls_are_targets() {
        assert_eq!(
            target_override("bundled:naive").unwrap(),
            TargetOverride::Bundled {
                profile: "naive".into()
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
    fn unknown_profiles_and_remote_urls_are_refused_with_the_reason() {
        let e = target_override("bundled:fast").unwrap_err();
        assert!(
            e.contains("no profile `fast`") && e.contains("bundled:naive"),
            "{e}"
        );
        let e = target_override("http://example.com").unwrap_err();
        assert!(
            e.contains("`http://example.com`") && e.contains("loopback"),
            "{e}"
        );
        assert!(target_override("not a url").is_err());
    }

    #[test]
    fn a_bundled_override_keeps_the_scenarios_server_flags() {
        let spec = TargetSpec::Bundled {
            profile: "default".into(),
            server_args: vec!["--kitchen-workers".into(), "2".into()],
            gateway_args: vec![],
        };
        let naive = TargetOverride::Bundled {
            profile: "naive".into(),
        };
        match naive.apply(&spec) {
            TargetSpec::Bundled {
                profile,
                server_args,
                ..
            } => {
                assert_eq!(profile, "naive");
                assert_eq!(server_args, ["--kitchen-workers", "2"]);
            }
            other => panic!("not bundled: {other:?}"),
        }
        let url = TargetOverride::Url("http://127.0.0.1:1".into());
        assert!(matches!(url.apply(&spec), TargetSpec::Url(u) if u == "http://127.0.0.1:1"));
    }
}
