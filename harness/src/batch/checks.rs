//! Checks of command-line values that the run would otherwise meet only
//! once started (or after its load): the fault proxy's URL, the shards'
//! common start, the reports folder, `--repeat`, and the capacity search's
//! numbers. Each names its option and says why.

use crate::run::{RunArgs, RunError};
use crate::scenario::bounds;
use std::path::Path;

fn usage(m: String) -> RunError {
    RunError::Usage(m)
}

/// `--toxiproxy`: the http:// URL of a Toxiproxy API (not contacted here).
pub(crate) fn toxiproxy(url: Option<&str>) -> Result<(), RunError> {
    let Some(url) = url else {
        return Ok(());
    };
    let why = match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "http" && u.host_str().is_some_and(|h| !h.is_empty()) => {
            return Ok(())
        }
        Ok(u) => format!("the Toxiproxy API speaks plain HTTP, not {}://", u.scheme()),
        Err(e) => format!("not a URL ({e})"),
    };
    Err(usage(format!(
        "--toxiproxy {}: {why}; expected e.g. http://127.0.0.1:8474 (a Toxiproxy or `harness proxy`)",
        crate::redact::url(url)
    )))
}

/// `--start-at` (or HARNESS_START_AT): not already past.
pub(crate) fn start_at(args: &RunArgs) -> Result<(), RunError> {
    match args.sharding.start_at {
        Some(at) => Ok(crate::shard::check_start_at(
            at,
            time::OffsetDateTime::now_utc(),
        )?),
        None => Ok(()),
    }
}

/// `--reports-dir`: a folder this process can make (when missing) and write
/// in, so a run's results are never lost after its load for want of a
/// place. What the check made is removed again: a run that does not happen
/// leaves no trace, and the run makes the folder when it writes its report.
pub(crate) fn reports_dir(dir: &Path) -> Result<(), RunError> {
    let refuse = |why: String| {
        usage(format!(
            "--reports-dir {}: {why}; give a folder this user can write in",
            dir.display()
        ))
    };
    if dir.exists() && !dir.is_dir() {
        return Err(refuse("it is a file, not a folder".into()));
    }
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .collect();
    let made = std::fs::create_dir_all(dir).map_err(|e| refuse(format!("cannot create it ({e})")));
    let probe = dir.join(format!(".harness-write-check-{}", std::process::id()));
    let written = made.and_then(|()| {
        std::fs::write(&probe, b"").map_err(|e| refuse(format!("cannot write in it ({e})")))
    });
    let _ = std::fs::remove_file(&probe);
    // Deepest first: each is empty once the one below it is gone.
    for m in missing {
        let _ = std::fs::remove_dir(m);
    }
    written
}

/// `--repeat`: at least one run, at most [`bounds::MAX_REPEAT`].
pub(crate) fn repeat(n: usize) -> Result<(), RunError> {
    match (1..=bounds::MAX_REPEAT).contains(&n) {
        true => Ok(()),
        false if n == 0 => Err(usage(
            "--repeat 0: expected at least 1 run (1 is a single run)".into(),
        )),
        false => Err(usage(format!(
            "--repeat {n}: at most {} runs (each is a full run of the scenario)",
            bounds::MAX_REPEAT
        ))),
    }
}

/// `harness capacity`'s search settings, each within its bounds.
pub(crate) fn search(
    step: std::time::Duration,
    precision: f64,
    max_steps: usize,
    max_rate: f64,
) -> Result<(), RunError> {
    if step < std::time::Duration::from_secs(1) {
        return Err(usage(format!(
            "--step {}: a step holds its rate at least 1s (after its warm-up), or it measures nothing",
            crate::scenario::show_duration(step)
        )));
    }
    if !(precision.is_finite() && precision > 0.0 && precision < 1.0) {
        return Err(usage(format!(
            "--precision {precision}: expected a share of the rate above 0 and below 1, e.g. 0.05 (5 %): \
             the search stops when the bracket is that narrow"
        )));
    }
    if !(1..=bounds::MAX_STEPS).contains(&max_steps) {
        return Err(usage(format!(
            "--max-steps {max_steps}: expected 1 to {} steps (each step is a run)",
            bounds::MAX_STEPS
        )));
    }
    bounds::rate(max_rate).map_err(|why| usage(format!("--max-rate {max_rate}: {why}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toxiproxy_url_must_be_http() {
        assert!(toxiproxy(Some("http://127.0.0.1:8474")).is_ok());
        let e = toxiproxy(Some("ftp://x")).unwrap_err().to_string();
        assert!(
            e.starts_with("--toxiproxy ftp://x") && e.contains("not ftp://"),
            "{e}"
        );
        assert!(toxiproxy(Some("nonsense")).is_err());
    }

    #[test]
    fn capacity_settings_have_bounds() {
        let s = std::time::Duration::from_secs(20);
        assert!(search(s, 0.05, 12, 5000.0).is_ok());
        assert!(search(s, 0.0, 12, 5000.0).is_err());
        assert!(search(s, 2.0, 12, 5000.0).is_err());
        assert!(search(s, 0.05, 0, 5000.0).is_err());
        assert!(search(std::time::Duration::ZERO, 0.05, 12, 5000.0).is_err());
        assert!(search(s, 0.05, 12, 1e300).is_err());
    }
}
