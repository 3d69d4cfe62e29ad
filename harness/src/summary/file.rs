//! summary.json on disk: the one writer, and the one reader, which refuses a
//! file of another schema version rather than misreading it. Only commands
//! whose input is a run folder read it back (`harness compare`, `--baseline`);
//! a run in progress hands its `Summary` on in memory.

use super::{Summary, SCHEMA_VERSION};
use anyhow::{Context, Result};
use std::path::Path;

/// The file's name inside a run folder.
pub(crate) const SUMMARY_FILE: &str = "summary.json";

/// Writes `summary` as `dir/summary.json`.
pub(crate) fn write(summary: &Summary, dir: &Path) -> Result<()> {
    let long = summary.run.duration_s > crate::scrape::FULL_RATE_S;
    let json = match summary.server_metrics.as_ref().filter(|_| long) {
        // Over ten minutes, each server series is averaged down (the rule is
        // in the schema); gates were judged on every point before.
        Some(m) => {
            let mut shorter = summary.clone();
            shorter.server_metrics = Some(m.for_summary(summary.run.duration_s));
            serde_json::to_vec(&shorter)
        }
        None => serde_json::to_vec(summary),
    }
    .context("serialising summary.json")?;
    let path = dir.join(SUMMARY_FILE);
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))
}

/// Reads a summary.json back, from the file itself or from a run folder.
pub fn read(path: &Path) -> Result<Summary> {
    let file = if path.is_dir() {
        path.join(SUMMARY_FILE)
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let json: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let version = json
        .get("schema_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(SCHEMA_VERSION)) {
        anyhow::bail!(
            "{} has summary schema version {}, this harness reads version {}: re-run the \
             scenario with this harness, or compare it with the harness that wrote it",
            file.display(),
            version.map_or("(none)".to_string(), |v| v.to_string()),
            SCHEMA_VERSION
        );
    }
    serde_json::from_value(json).with_context(|| {
        format!(
            "{} is not a summary.json this harness can read",
            file.display()
        )
    })
}
