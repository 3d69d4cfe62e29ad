//! Reading the shards' run folders (summary.json through the one reader, and
//! recording.json with the `.hlog` files), and refusing a set of shards that
//! are not one run: other scenarios, seeds or shard counts, a missing or a
//! duplicated index.

use crate::shard::recording::{self, Recording};
use crate::summary::{self, Summary};
use std::path::{Path, PathBuf};

/// One shard's folder, read.
pub(crate) struct ShardRun {
    pub(crate) dir: PathBuf,
    pub(crate) summary: Summary,
    pub(crate) recording: Recording,
}

/// Why a set of folders cannot be merged; each is bad usage (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("{}: {source:#}", dir.display())]
    Read { dir: PathBuf, source: anyhow::Error },
    #[error("{}: not a shard of a sharded run (its summary.json has no `run.shard`): run it with --shard I/N", dir.display())]
    NotAShard { dir: PathBuf },
    #[error("the shards are not one run: {0}")]
    Mismatch(String),
    #[error("shard {index} of {count} is missing: give every shard's folder (indexes 0 to {})", count - 1)]
    Missing { index: u32, count: u32 },
    #[error("shard {index} is given twice: {} and {}", first.display(), second.display())]
    Duplicate {
        index: u32,
        first: PathBuf,
        second: PathBuf,
    },
}

/// Reads every folder, in order of shard index.
pub(crate) fn read_all(dirs: &[PathBuf]) -> Result<Vec<ShardRun>, SetError> {
    let mut runs = dirs
        .iter()
        .map(|d| read_one(d))
        .collect::<Result<Vec<_>, _>>()?;
    check(&runs)?;
    runs.sort_by_key(|r| r.recording.shard.index);
    Ok(runs)
}

fn read_one(dir: &Path) -> Result<ShardRun, SetError> {
    let failed = |source| SetError::Read {
        dir: dir.to_path_buf(),
        source,
    };
    let summary = summary::read(dir).map_err(failed)?;
    if summary.run.meta.shard.is_none() {
        return Err(SetError::NotAShard {
            dir: dir.to_path_buf(),
        });
    }
    let recording = recording::read(dir).map_err(failed)?;
    Ok(ShardRun {
        dir: dir.to_path_buf(),
        summary,
        recording,
    })
}

/// The shards must be one scenario, one seed, one shard count, each index once.
fn check(runs: &[ShardRun]) -> Result<(), SetError> {
    let Some(first) = runs.first() else {
        return Err(SetError::Mismatch("no shard folder was given".into()));
    };
    let identity = |r: &ShardRun| {
        let run = &r.summary.run.meta;
        (
            run.scenario.clone(),
            run.model,
            run.planned_duration_s.to_bits(),
            r.recording.recorder.names().to_vec(),
        )
    };
    for r in &runs[1..] {
        let (a, b) = (&first.summary.run.meta, &r.summary.run.meta);
        let differs = |what: &str, x: String, y: String| {
            SetError::Mismatch(format!(
                "{} has {what} {x}, {} has {y}",
                first.dir.display(),
                r.dir.display()
            ))
        };
        if identity(first) != identity(r) {
            return Err(differs(
                "scenario",
                format!(
                    "`{}` ({:?}, {} s planned)",
                    a.scenario, a.model, a.planned_duration_s
                ),
                format!(
                    "`{}` ({:?}, {} s planned)",
                    b.scenario, b.model, b.planned_duration_s
                ),
            ));
        }
        if a.seed != b.seed {
            return Err(differs("seed", a.seed.to_string(), b.seed.to_string()));
        }
        let (x, y) = (first.recording.shard.count, r.recording.shard.count);
        if x != y {
            return Err(differs("shard count", x.to_string(), y.to_string()));
        }
    }
    let count = first.recording.shard.count;
    let mut seen: Vec<Option<&Path>> = vec![None; count as usize];
    for r in runs {
        let index = r.recording.shard.index;
        match seen.get_mut(index as usize) {
            Some(Some(earlier)) => {
                return Err(SetError::Duplicate {
                    index,
                    first: earlier.to_path_buf(),
                    second: r.dir.clone(),
                })
            }
            Some(slot) => *slot = Some(&r.dir),
            None => {
                return Err(SetError::Mismatch(format!(
                    "{} is shard {index}, beyond its count {count}",
                    r.dir.display()
                )))
            }
        }
    }
    if let Some(index) = seen.iter().position(Option::is_none) {
        return Err(SetError::Missing {
            index: index as u32,
            count,
        });
    }
    Ok(())
}
