//! The bundled target's data folders (`<temp>/harness-target-*`) are removed
//! by the run that made them; a harness that was killed cannot. Each folder
//! holds the pid of the harness that owns it (`owner.pid`), and the next
//! bundled start removes every such folder whose owner is no longer running.

use std::path::{Path, PathBuf};

/// The name every data folder of the bundled target starts with.
pub(crate) const PREFIX: &str = "harness-target-";
/// The file in a data folder that names the harness process owning it.
const OWNER_FILE: &str = "owner.pid";

/// Marks `dir` as this process's.
pub(crate) fn claim(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join(OWNER_FILE), std::process::id().to_string())
}

/// Removes the data folders in `temp` whose owner is gone; returns a note
/// naming them when there were some. A folder without an owner file (or
/// with an owner still running, or one that cannot be read) is left alone.
pub(crate) fn sweep(temp: &Path) -> Option<String> {
    let entries = std::fs::read_dir(temp).ok()?;
    let mut removed: Vec<PathBuf> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let dir = entry.path();
        let owner = std::fs::read_to_string(dir.join(OWNER_FILE))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        let gone = owner.is_some_and(|pid| pid != std::process::id() && !running(pid));
        if gone && std::fs::remove_dir_all(&dir).is_ok() {
            removed.push(dir);
        }
    }
    (!removed.is_empty()).then(|| {
        format!(
            "removed {} data folder(s) of the bundled server left by a harness that was killed: {}",
            removed.len(),
            removed
                .iter()
                .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Whether a process with this pid exists (Linux's /proc; elsewhere every
/// owner counts as running, so nothing is removed).
fn running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_of_owners_that_are_gone_are_removed() {
        let temp = tempfile::tempdir().unwrap();
        let make = |name: &str, owner: Option<String>| {
            let dir = temp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("server.log"), "log").unwrap();
            if let Some(pid) = owner {
                std::fs::write(dir.join(OWNER_FILE), pid).unwrap();
            }
            dir
        };
        // A pid above the kernel's limit (4194304) never runs.
        let dead = make("harness-target-dead", Some("4194305".into()));
        let alive = make("harness-target-alive", Some(std::process::id().to_string()));
        let unowned = make("harness-target-unowned", None);
        let other = make("someone-else", Some("4194305".into()));
        let note = sweep(temp.path()).expect("a note");
        assert!(note.contains("harness-target-dead"), "{note}");
        assert!(!dead.exists());
        assert!(alive.exists() && unowned.exists() && other.exists());
        assert_eq!(sweep(temp.path()), None, "nothing more to remove");
    }
}
