//! What a shard of a sharded run (`--shard I/N`, `--start-at`) does
//! differently from a whole run: it refuses a common start long past, lets
//! shard 0 alone drive the faults (the others send through shard 0's proxy
//! and record the planned windows), records its clocks, leaves what merging
//! needs in its folder, and leaves the verdict to `harness merge`.

use super::{RunArgs, RunError};
use crate::backend::Target;
use crate::exit;
use crate::load::LoadResult;
use crate::record::{FaultWindow, RunRecord, ShardInfo};
use crate::scenario::Scenario;
use crate::shard::{self, Shard};
use crate::summary::Verdict;
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;

/// `--shard I/N` and `--start-at` (or their environment variables).
#[derive(Clone, Debug, Default)]
pub struct Sharding {
    pub(crate) shard: Option<Shard>,
    pub(crate) start_at: Option<OffsetDateTime>,
}

/// A common start more than [`shard::START_TOLERANCE`] ago runs nothing.
pub(super) fn check_start(args: &RunArgs) -> Result<(), RunError> {
    match args.sharding.start_at {
        Some(at) => Ok(shard::check_start_at(at, OffsetDateTime::now_utc())?),
        None => Ok(()),
    }
}

/// Shard 0 (or an unsharded run) adds and removes the toxics.
pub(super) fn drives_faults(args: &RunArgs) -> bool {
    args.sharding.shard.is_none_or(|s| s.drives_faults())
}

/// A shard that does not drive the faults loads the target through shard
/// 0's proxy, found on the same Toxiproxy (waiting for it until the start),
/// routed as a proxy of its own would be: a named host keeps its name (TLS
/// checks the certificate for it) and resolves to the proxy.
pub(super) async fn route_through_shard_zero(
    sc: &Scenario,
    args: &RunArgs,
    target: &mut Target,
) -> Result<(), RunError> {
    let (false, Some(api)) = (drives_faults(args), args.toxiproxy.as_deref()) else {
        return Ok(());
    };
    if sc.faults.is_empty() {
        return Ok(());
    }
    let wait = args
        .sharding
        .start_at
        .map_or(Duration::from_secs(30), |at| {
            // Until the common start, plus the lateness a shard is allowed:
            // shard 0 may still be putting its proxy up when the others look.
            Duration::try_from(at - OffsetDateTime::now_utc()).unwrap_or_default()
                + shard::START_TOLERANCE
        });
    let deadline = std::time::Instant::now() + wait;
    let proxy = shard::proxy_in_front(sc, &target.base_url, api, deadline)
        .await
        .map_err(RunError::Proxy)?;
    if let Some(proxy) = proxy {
        target.send_through(&proxy).await.map_err(RunError::Proxy)?;
    }
    Ok(())
}

/// The windows a shard that does not drive the faults records: the planned ones.
pub(super) fn windows_recorded_elsewhere(sc: &Scenario, args: &RunArgs) -> Vec<FaultWindow> {
    match drives_faults(args) {
        true => Vec::new(),
        false => {
            let mut w = shard::planned_windows(&sc.faults);
            w.extend(crate::chaos::kitchen::planned_windows(&sc.worker_stops));
            w.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
            w
        }
    }
}

/// The shard's identity and clocks, for its summary.json.
pub(super) fn shard_info(args: &RunArgs, loaded: &LoadResult) -> Option<ShardInfo> {
    let s = args.sharding.shard?;
    let start_at = args.sharding.start_at;
    Some(ShardInfo {
        index: s.index,
        count: s.count,
        start_at,
        clock_at_wait: loaded.clock_at_wait,
        started_at: loaded.started_at,
        start_skew_ms: start_at
            .map(|at| ((loaded.started_at - at).as_seconds_f64() * 1e6).round() / 1e3),
    })
}

/// recording.json beside the report, for `harness merge`.
pub(super) fn write_recording(
    record: &RunRecord,
    args: &RunArgs,
    dir: &Path,
) -> Result<(), RunError> {
    let Some(s) = args.sharding.shard else {
        return Ok(());
    };
    shard::recording::write(record, s, dir)
        .context("writing what merging the shards needs")
        .map_err(RunError::Internal)
}

/// A shard measures a part: the whole test's verdict is `harness merge`'s
/// (and a failing pod would make an Indexed Job retry it), so a shard whose
/// own figures fail exits 0 and says so.
pub(super) fn exit_code(args: &RunArgs, code: u8, verdict: Verdict, out: &mut dyn Write) -> u8 {
    let Some(s) = args.sharding.shard else {
        return code;
    };
    if code != exit::GATE_FAILED && code != exit::INVALID {
        return code;
    }
    let _ = writeln!(
        out,
        "shard {s}: {} on its own; the run's verdict is the merged one (harness merge)",
        verdict.label()
    );
    exit::PASS
}
