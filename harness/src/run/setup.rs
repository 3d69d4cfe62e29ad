//! What a run stands on, and takes down again on every path: the fault
//! proxies (when a fault needs one), the target with its faulted links
//! behind them, the kitchen's admin access for worker stops, the run's first
//! lines, and the target's own `/metrics` read before it stops.

use super::{sharded, RunArgs, RunError};
use crate::backend::{remote, Target, TargetOptions, Tls};
use crate::chaos::kitchen::KitchenAdmin;
use crate::chaos::Chaos;
use crate::scenario::{self, Scenario};
use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

/// The fault proxies, when some fault needs one.
pub(super) async fn start_chaos(sc: &Scenario, args: &RunArgs) -> Result<Option<Chaos>, RunError> {
    if sc.faults.is_empty() || !sharded::drives_faults(args) {
        return Ok(None);
    }
    Chaos::start(args.toxiproxy.as_deref())
        .await
        .map(Some)
        .map_err(|e| RunError::Proxy(e.into()))
}

/// The target, its faulted links behind proxies; on failure the proxies are removed.
pub(super) async fn start_target(
    sc: &Scenario,
    args: &RunArgs,
    tls: &Tls,
    chaos: &mut Option<Chaos>,
) -> Result<Target, RunError> {
    let faulted: BTreeSet<String> = sc.faults.iter().map(|f| f.link.clone()).collect();
    let opts = TargetOptions {
        spec: &sc.target,
        exe: args.server_exe.clone(),
        faulted_links: faulted,
        links: &sc.links,
        seed: sc.seed,
        tls,
    };
    match Target::start(opts, chaos.as_mut()).await {
        Ok(t) => Ok(t),
        Err(e) => {
            cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
            // A proxy that could not be put on a link is the proxy's failure.
            let proxy = e
                .chain()
                .any(|c| c.downcast_ref::<crate::chaos::ChaosError>().is_some());
            Err(if proxy {
                RunError::Proxy(e)
            } else {
                RunError::Target(e)
            })
        }
    }
}

/// The run's first lines: what runs against what, and the scenario's notes.
pub(super) fn announce(sc: &Scenario, target: &Target, args: &RunArgs, out: &mut dyn Write) {
    if !args.quiet {
        let _ = writeln!(
            out,
            "running {} against {} ({} planned)",
            sc.name,
            target.description,
            scenario::show_duration(sc.load.total())
        );
    }
    if target.connection.remote {
        let _ = writeln!(out, "{}", remote::announcement(&target.connection));
    }
    for note in &sc.notes {
        let _ = writeln!(out, "note: {}", crate::redact::scrub(note));
    }
}

/// The kitchen admin access for the run's worker stops (shard 0 only, as
/// for every fault), after checking that the target has each worker.
pub(super) async fn kitchen_admin(
    sc: &Scenario,
    target: &Target,
    client: &reqwest::Client,
    args: &RunArgs,
) -> anyhow::Result<Option<KitchenAdmin>> {
    if !sharded::drives_faults(args) {
        return Ok(None);
    }
    let admin = KitchenAdmin::for_run(
        &sc.worker_stops,
        target.server_url.as_deref(),
        target.admin_token.clone(),
        client.clone(),
    );
    if let Some(admin) = &admin {
        crate::chaos::kitchen::preflight(admin, &sc.worker_stops).await?;
    }
    Ok(admin)
}

/// Removes the fault proxies; a failure to do so is a note of the run, not its error.
pub(super) async fn cleanup_chaos(chaos: Option<&mut Chaos>, notes: &mut Vec<String>) {
    if let Some(chaos) = chaos {
        if let Err(e) = chaos.cleanup().await {
            notes.push(format!("removing the fault proxies failed: {e}"));
        }
    }
}

/// The target's own `/metrics`, read before it stops, so its counts can be
/// set beside the harness's (a backend that does not serve it is no error:
/// the file is left out).
pub(super) async fn scrape_metrics(client: &reqwest::Client, server_url: &str) -> Option<String> {
    let resp = client
        .get(format!("{server_url}/metrics"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.text().await.ok()
}
