//! The run folder: `<root>/<scenario>/<UTC timestamp>/`, and the `latest`
//! link beside it, replaced atomically so a reader never sees it missing.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use time::{macros::format_description, OffsetDateTime, UtcOffset};

/// Creates a fresh folder for a run that started at `started_at`, named like
/// `20261122T013000Z` (with `-2`, `-3`, ... when that second is taken).
pub(crate) fn create_run_dir(
    root: &Path,
    scenario: &str,
    started_at: OffsetDateTime,
) -> Result<PathBuf> {
    let scenario_dir = root.join(safe_name(scenario));
    std::fs::create_dir_all(&scenario_dir)
        .with_context(|| format!("creating the report folder {}", scenario_dir.display()))?;
    let stamp = started_at
        .to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .context("formatting the run's start time")?;
    for n in 1.. {
        let name = if n == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = scenario_dir.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("creating the run folder {}", dir.display()))
            }
        }
    }
    unreachable!("an unbounded range always yields")
}

/// Points `<run_dir>/../latest` at `run_dir` (a relative symlink, so the
/// reports folder can be moved or uploaded as a whole).
pub(crate) fn point_latest(run_dir: &Path) -> Result<()> {
    let parent = run_dir
        .parent()
        .context("the run folder has no parent folder")?;
    let name = run_dir.file_name().context("the run folder has no name")?;
    let latest = parent.join("latest");
    let tmp = parent.join(format!(".latest.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    link(Path::new(name), &tmp).with_context(|| format!("creating the link {}", tmp.display()))?;
    if let Err(e) = std::fs::rename(&tmp, &latest) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("replacing the link {}", latest.display()));
    }
    Ok(())
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

#[cfg(windows)]
fn link(target: &Path, at: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(target, at)
}

/// A scenario name made safe as one path component.
pub(crate) fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    match cleaned.trim_matches('.') {
        "" => "scenario".to_string(),
        s => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn run_folders_are_named_by_utc_start_and_never_reused() {
        let root = tempfile::tempdir().unwrap();
        let at = datetime!(2026-11-22 02:30:00 +01:00);
        let a = create_run_dir(root.path(), "rush-hour", at).unwrap();
        let b = create_run_dir(root.path(), "rush-hour", at).unwrap();
        assert!(a.ends_with("rush-hour/20261122T013000Z"), "{}", a.display());
        assert!(
            b.ends_with("rush-hour/20261122T013000Z-2"),
            "{}",
            b.display()
        );
    }

    #[test]
    fn latest_follows_the_newest_run() {
        let root = tempfile::tempdir().unwrap();
        let a = create_run_dir(root.path(), "smoke", datetime!(2026-01-01 00:00:00 UTC)).unwrap();
        point_latest(&a).unwrap();
        let b = create_run_dir(root.path(), "smoke", datetime!(2026-01-01 00:00:01 UTC)).unwrap();
        point_latest(&b).unwrap();
        let latest = root.path().join("smoke/latest");
        assert_eq!(
            std::fs::canonicalize(latest).unwrap(),
            std::fs::canonicalize(b).unwrap()
        );
    }

    #[test]
    fn scenario_names_cannot_escape_the_reports_folder() {
        assert_eq!(safe_name("../etc/passwd"), "-etc-passwd");
        assert_eq!(safe_name(".."), "scenario");
        assert_eq!(safe_name("rush-hour"), "rush-hour");
    }
}
