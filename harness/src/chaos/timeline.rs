//! The fault timeline: one task per fault that adds its toxic when its window
//! opens and removes it when the window closes (or when the run stops first),
//! recording the window's real start and end.

use super::{traffic, Fault};
use crate::record::{FaultWindow, HttpShare};
use fault_proxy::Client;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

/// What the fault tasks report.
#[derive(Default)]
struct Outcome {
    windows: Vec<FaultWindow>,
    notes: Vec<String>,
}

/// A running fault timeline; [`Timeline::finish`] stops it and returns what happened.
pub struct Timeline {
    stop: CancellationToken,
    tasks: JoinSet<()>,
    outcome: Arc<Mutex<Outcome>>,
}

impl Timeline {
    pub(super) fn start(
        client: Client,
        links: BTreeMap<String, String>,
        faults: Vec<Fault>,
        run_start: Instant,
        live_counters: bool,
    ) -> Timeline {
        let stop = CancellationToken::new();
        let outcome = Arc::new(Mutex::new(Outcome::default()));
        let mut tasks = JoinSet::new();
        for fault in faults {
            let Some(proxy) = links.get(&fault.link).cloned() else {
                note(
                    &outcome,
                    format!(
                        "fault `{}` skipped: link `{}` has no fault proxy",
                        fault.name, fault.link
                    ),
                );
                continue;
            };
            tasks.spawn(run_fault(
                client.clone(),
                proxy,
                fault,
                Clock {
                    run_start,
                    stop: stop.clone(),
                },
                live_counters,
                outcome.clone(),
            ));
        }
        Timeline {
            stop,
            tasks,
            outcome,
        }
    }

    /// Stops the timeline, removes any toxic still active, and returns each
    /// window's real start and end (seconds since the run started, in order of
    /// start) with notes of anything that went wrong.
    pub async fn finish(mut self) -> (Vec<FaultWindow>, Vec<String>) {
        self.stop.cancel();
        while let Some(joined) = self.tasks.join_next().await {
            if let Err(e) = joined {
                note(&self.outcome, format!("a fault task failed: {e}"));
            }
        }
        let mut outcome = std::mem::take(&mut *self.outcome.lock().expect("fault outcome lock"));
        outcome
            .windows
            .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        (outcome.windows, outcome.notes)
    }
}

impl Drop for Timeline {
    /// Dropped without `finish` (a panic): the fault tasks see the stop and
    /// remove their toxics if the runtime still runs; the proxies themselves
    /// are removed by `Chaos`'s own drop.
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn note(outcome: &Mutex<Outcome>, text: String) {
    outcome.lock().expect("fault outcome lock").notes.push(text);
}

/// The run's start and its stop signal, as each fault task sees them.
struct Clock {
    run_start: Instant,
    stop: CancellationToken,
}

/// One fault: add the toxic, wait out the window, then read what it did
/// (the link's bytes, an HTTP toxic's counts) before removing it.
async fn run_fault(
    client: Client,
    proxy: String,
    fault: Fault,
    clock: Clock,
    live_counters: bool,
    outcome: Arc<Mutex<Outcome>>,
) {
    let Clock { run_start, stop } = clock;
    let since_start = |at: Instant| at.saturating_duration_since(run_start).as_secs_f64();
    tokio::select! {
        _ = stop.cancelled() => {
            note(&outcome, format!(
                "fault `{}` (planned at {:.1} s) never started: the run ended first",
                fault.name,
                fault.at.as_secs_f64()
            ));
            return;
        }
        _ = sleep_until(run_start + fault.at) => {}
    }
    if let Err(e) = client.add_toxic(&proxy, &fault.toxic).await {
        note(
            &outcome,
            format!(
                "fault `{}` could not be injected on link `{}`: {e}",
                fault.name, fault.link
            ),
        );
        return;
    }
    let start_s = since_start(Instant::now());
    let bytes_at_start = traffic::read(&client, &proxy).await;
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = sleep_until(run_start + fault.at + fault.duration) => {}
    }
    // Read while the toxic is still there: its counts go with it.
    let http_requests = if fault.toxic.kind.is_http() {
        match client.http_requests(&proxy, &fault.toxic.name).await {
            Ok(n) => Some(HttpShare::new(n.requests, n.affected)),
            Err(e) => {
                note(
                    &outcome,
                    format!(
                        "fault `{}`: the share of requests it affected could not be read ({e})",
                        fault.name
                    ),
                );
                None
            }
        }
    } else {
        None
    };
    let bytes_at_end = traffic::read(&client, &proxy).await;
    let removed = match client.remove_toxic(&proxy, &fault.toxic.name).await {
        Err(e) if !e.is_not_found() => {
            // One retry: a busy API (Toxiproxy #412) often answers the second time.
            client.remove_toxic(&proxy, &fault.toxic.name).await
        }
        other => other,
    };
    let end_s = since_start(Instant::now());
    if let Err(e) = removed {
        if !e.is_not_found() {
            note(&outcome, format!(
                "fault `{}` could not be removed at {end_s:.1} s ({e}); its proxy is deleted at cleanup",
                fault.name
            ));
        }
    }
    outcome
        .lock()
        .expect("fault outcome lock")
        .windows
        .push(FaultWindow {
            name: fault.name.clone(),
            link: fault.link.clone(),
            toxic: fault.toxic.describe(),
            planned_start_s: fault.at.as_secs_f64(),
            start_s,
            end_s,
            http_requests,
            traffic: Some(traffic::judge(bytes_at_start, bytes_at_end, live_counters)),
        });
}
