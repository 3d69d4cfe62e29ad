//! The load with the fault timeline started on its epoch: the fault
//! proxy's and the kitchen's injectors, the observers fed from the load (the
//! window gates, the dashboard, the scraper), and the fault windows as they
//! really ran.

use super::{sharded, RunArgs};
use crate::backend::Target;
use crate::chaos::kitchen::{KitchenAdmin, KitchenTimeline};
use crate::chaos::Chaos;
use crate::load::{self, LoadOptions, LoadResult};
use crate::record::FaultWindow;
use crate::scenario::Scenario;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// What injects the scenario's faults on the load's timeline: the fault
/// proxy's and the kitchen's (worker stops).
pub(super) struct Injectors<'a> {
    pub(super) chaos: Option<&'a Chaos>,
    pub(super) kitchen: Option<KitchenAdmin>,
}

/// What looks at the run as it goes, off the load's threads: the window
/// gates and the dashboard (once a second, from the aggregator), and the
/// scraper of the target's own metrics.
pub(super) struct Observers<'a> {
    pub(super) watch: Option<crate::live::Watcher>,
    pub(super) scraper: Option<&'a mut crate::scrape::Scraper>,
}

/// The load, with the fault timeline started on its epoch; returns what the
/// engine measured, the fault windows as they really ran, and the notes so far.
pub(super) async fn drive_load(
    sc: &Arc<Scenario>,
    target: &Target,
    client: reqwest::Client,
    injectors: Injectors<'_>,
    observers: Observers<'_>,
    args: &RunArgs,
    out: &mut dyn Write,
) -> (anyhow::Result<LoadResult>, Vec<FaultWindow>, Vec<String>) {
    let Injectors { chaos, kitchen } = injectors;
    let timeline = Mutex::new(None);
    let kitchen_timeline = Mutex::new(None);
    let loaded = load::run(
        Arc::clone(sc),
        LoadOptions {
            base_url: target.base_url.clone(),
            quiet: args.quiet,
            client,
            shard: args.sharding.shard,
            start_at: args.sharding.start_at,
            watch: observers.watch.map(|w| Box::new(w) as Box<dyn load::Watch>),
        },
        |epoch| {
            if !args.quiet {
                // A line scripts (and the tests) can wait for: the load is on.
                let _ = writeln!(out, "load started");
                let _ = out.flush();
            }
            if let Some(scraper) = observers.scraper {
                scraper.begin(epoch);
            }
            if let Some(chaos) = chaos {
                *timeline.lock().expect("not poisoned") =
                    Some(chaos.start_timeline(sc.faults.clone(), epoch.into()));
            }
            if let Some(admin) = kitchen.clone() {
                *kitchen_timeline.lock().expect("not poisoned") = Some(KitchenTimeline::start(
                    admin,
                    sc.worker_stops.clone(),
                    epoch.into(),
                ));
            }
        },
    )
    .await;
    let mut notes = sc.notes.clone();
    let mut windows = sharded::windows_recorded_elsewhere(sc, args);
    if let Some(t) = timeline.into_inner().expect("not poisoned") {
        let (w, n) = t.finish().await;
        windows = w;
        notes.extend(n);
    }
    if let Some(t) = kitchen_timeline.into_inner().expect("not poisoned") {
        let (w, n) = t.finish().await;
        windows.extend(w);
        windows.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        notes.extend(n);
    }
    (loaded, windows, notes)
}
