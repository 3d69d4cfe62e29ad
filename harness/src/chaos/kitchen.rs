//! Worker-stop faults: a window of the timeline in which one named kitchen
//! worker of the target is taken away (`POST /admin/workers/{name}/stop`)
//! and brought back at its end (`.../start`), with the admin bearer token.
//! The station's re-queued count (`GET /workers`) is read as the window opens
//! and after it closes, so the report says how many orders the server put
//! back on the queue. The worker is always started again: at the window's
//! end, when the run stops first (Ctrl-C, an error), and on drop (a panic)
//! by a blocking request from a helper thread.
//!
//! The contract a target must serve (the bundled reference server does):
//! `GET /workers` → `{"workers": [{"name", "station", ...}], "stations":
//! [{"name", "requeued", ...}]}`, and the two admin routes answering 2xx.

use crate::record::FaultWindow;
use crate::redact::Secret;
use anyhow::Context;
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

/// The fault kind in `[[faults]]` (`type = "worker_stop"`).
pub(crate) const KIND: &str = "worker_stop";
/// The `link` a worker stop names: it acts on the server's kitchen, not on a network path.
pub(crate) const LINK: &str = "kitchen";
/// Each admin or `/workers` request may take this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// One worker taken away for a window of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerStop {
    pub name: String,
    /// When the window opens, from the run's start.
    pub at: Duration,
    pub duration: Duration,
    pub worker: String,
    /// The admin token for a URL target (`attributes.admin_token`); the
    /// bundled server's is the one the harness gave it.
    pub admin_token: Option<Secret>,
}

/// How to reach a target's kitchen admin routes.
#[derive(Clone)]
pub struct KitchenAdmin {
    pub client: reqwest::Client,
    /// The server itself (bypassing any fault proxy).
    pub server_url: String,
    pub token: Secret,
}

#[derive(Deserialize)]
struct Workers {
    workers: Vec<WorkerInfo>,
    stations: Vec<StationInfo>,
}

#[derive(Deserialize)]
struct WorkerInfo {
    name: String,
    station: String,
}

#[derive(Deserialize)]
struct StationInfo {
    name: String,
    requeued: u64,
}

impl KitchenAdmin {
    /// The admin access a run's worker stops use: the server's own URL, and
    /// the bundled server's token (a URL target's stops carry their own).
    /// `None` when there is no stop or no URL to send them to.
    pub(crate) fn for_run(
        stops: &[WorkerStop],
        server_url: Option<&str>,
        bundled_token: Option<Secret>,
        client: reqwest::Client,
    ) -> Option<KitchenAdmin> {
        let token = bundled_token.or_else(|| stops.iter().find_map(|s| s.admin_token.clone()))?;
        Some(KitchenAdmin {
            client,
            server_url: server_url?.trim_end_matches('/').to_string(),
            token,
        })
        .filter(|_| !stops.is_empty())
    }

    async fn workers(&self) -> anyhow::Result<Workers> {
        let url = format!("{}/workers", self.server_url);
        let resp = self
            .client
            .get(&url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?
            .error_for_status()
            .with_context(|| format!("GET {url}"))?;
        resp.json()
            .await
            .with_context(|| format!("GET {url}: not the kitchen's worker list"))
    }

    /// The station of `worker` and its re-queued count now.
    async fn requeued(&self, worker: &str) -> anyhow::Result<(String, u64)> {
        let w = self.workers().await?;
        let station = w
            .workers
            .iter()
            .find(|x| x.name == worker)
            .map(|x| x.station.clone())
            .with_context(|| format!("the target has no worker {worker:?}"))?;
        let count = w
            .stations
            .iter()
            .find(|s| s.name == station)
            .map_or(0, |s| s.requeued);
        Ok((station, count))
    }

    async fn admin(&self, worker: &str, action: &str, token: &Secret) -> anyhow::Result<()> {
        let url = format!("{}/admin/workers/{worker}/{action}", self.server_url);
        self.client
            .post(&url)
            .bearer_auth(token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .with_context(|| format!("POST {url}"))?
            .error_for_status()
            .with_context(|| format!("POST {url}"))?;
        Ok(())
    }
}

/// Before the load: every stopped worker must exist on the target (which
/// also proves it serves `GET /workers`), so a wrong name runs nothing.
pub(crate) async fn preflight(admin: &KitchenAdmin, stops: &[WorkerStop]) -> anyhow::Result<()> {
    let w = admin.workers().await.context(
        "a worker_stop fault needs the target's kitchen routes (GET /workers and \
         POST /admin/workers/{name}/stop|start), as the bundled reference server serves them",
    )?;
    for stop in stops {
        if !w.workers.iter().any(|x| x.name == stop.worker) {
            let names: Vec<&str> = w.workers.iter().map(|x| x.name.as_str()).collect();
            anyhow::bail!(
                "fault `{}`: the target has no worker {:?}; its workers are {}",
                stop.name,
                stop.worker,
                names.join(", ")
            );
        }
    }
    Ok(())
}

/// The windows as planned, for a shard that does not drive the faults (shard 0 does).
pub(crate) fn planned_windows(stops: &[WorkerStop]) -> Vec<FaultWindow> {
    stops
        .iter()
        .map(|s| FaultWindow {
            name: s.name.clone(),
            link: LINK.to_string(),
            toxic: format!("worker_stop {}", s.worker),
            planned_start_s: s.at.as_secs_f64(),
            start_s: s.at.as_secs_f64(),
            end_s: (s.at + s.duration).as_secs_f64(),
            http_requests: None,
            traffic: None,
        })
        .collect()
}

#[derive(Default)]
struct Outcome {
    windows: Vec<FaultWindow>,
    notes: Vec<String>,
    /// Workers stopped and not yet started again, with their token: what a drop must undo.
    stopped: Vec<(String, Secret)>,
}

/// The running worker-stop windows; [`KitchenTimeline::finish`] stops them.
pub struct KitchenTimeline {
    stop: CancellationToken,
    tasks: JoinSet<()>,
    outcome: Arc<Mutex<Outcome>>,
    server_url: String,
}

impl KitchenTimeline {
    /// One task per window, each opening at `run_start + at`.
    pub fn start(admin: KitchenAdmin, stops: Vec<WorkerStop>, run_start: Instant) -> Self {
        let stop = CancellationToken::new();
        let outcome = Arc::new(Mutex::new(Outcome::default()));
        let mut tasks = JoinSet::new();
        let server_url = admin.server_url.clone();
        for s in stops {
            tasks.spawn(run_window(
                admin.clone(),
                s,
                run_start,
                stop.clone(),
                outcome.clone(),
            ));
        }
        KitchenTimeline {
            stop,
            tasks,
            outcome,
            server_url,
        }
    }

    /// Ends every window (starting its worker again) and returns the windows
    /// as they really ran, with notes.
    pub async fn finish(mut self) -> (Vec<FaultWindow>, Vec<String>) {
        self.stop.cancel();
        while let Some(joined) = self.tasks.join_next().await {
            if let Err(e) = joined {
                lock(&self.outcome)
                    .notes
                    .push(format!("a worker_stop task failed: {e}"));
            }
        }
        let mut o = std::mem::take(&mut *lock(&self.outcome));
        // A task that failed mid-window leaves its worker here: start it now.
        for (worker, token) in std::mem::take(&mut o.stopped) {
            if let Err(e) = start_blocking(&self.server_url, &worker, &token) {
                o.notes
                    .push(format!("worker {worker} could not be started again: {e}"));
            }
        }
        (o.windows, o.notes)
    }
}

impl Drop for KitchenTimeline {
    /// The panic path: any worker still stopped is started again with a plain
    /// blocking request, so the target is not left a worker short.
    fn drop(&mut self) {
        self.stop.cancel();
        let stopped = std::mem::take(&mut lock(&self.outcome).stopped);
        for (worker, token) in stopped {
            if let Err(e) = start_blocking(&self.server_url, &worker, &token) {
                eprintln!("warning: worker {worker} may be left stopped: {e}");
            }
        }
    }
}

fn lock(outcome: &Mutex<Outcome>) -> std::sync::MutexGuard<'_, Outcome> {
    outcome.lock().unwrap_or_else(|p| p.into_inner())
}

async fn run_window(
    admin: KitchenAdmin,
    fault: WorkerStop,
    run_start: Instant,
    stop: CancellationToken,
    outcome: Arc<Mutex<Outcome>>,
) {
    let since_start = |at: Instant| at.saturating_duration_since(run_start).as_secs_f64();
    let note = |text: String| lock(&outcome).notes.push(text);
    tokio::select! {
        _ = stop.cancelled() => {
            note(format!(
                "fault `{}` (planned at {:.1} s) never started: the run ended first",
                fault.name,
                fault.at.as_secs_f64()
            ));
            return;
        }
        _ = sleep_until(run_start + fault.at) => {}
    }
    let token = fault
        .admin_token
        .clone()
        .unwrap_or_else(|| admin.token.clone());
    let before = admin.requeued(&fault.worker).await;
    lock(&outcome)
        .stopped
        .push((fault.worker.clone(), token.clone()));
    if let Err(e) = admin.admin(&fault.worker, "stop", &token).await {
        lock(&outcome).stopped.retain(|(w, _)| *w != fault.worker);
        note(format!(
            "fault `{}` could not stop worker {}: {e:#}",
            fault.name, fault.worker
        ));
        return;
    }
    let start_s = since_start(Instant::now());
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = sleep_until(run_start + fault.at + fault.duration) => {}
    }
    let started = admin.admin(&fault.worker, "start", &token).await;
    let end_s = since_start(Instant::now());
    match started {
        Ok(()) => lock(&outcome).stopped.retain(|(w, _)| *w != fault.worker),
        Err(e) => note(format!(
            "fault `{}`: worker {} could not be started again at {end_s:.1} s ({e:#}); retried at cleanup",
            fault.name, fault.worker
        )),
    }
    let after = admin.requeued(&fault.worker).await;
    let description = match (&before, &after) {
        (Ok((station, b)), Ok((_, a))) => {
            let requeued = a.saturating_sub(*b);
            note(format!(
                "fault `{}`: worker {} stopped {start_s:.1}–{end_s:.1} s; station {station} re-queued {requeued} orders in that window",
                fault.name, fault.worker
            ));
            format!(
                "worker_stop {} (station {station}): {requeued} orders re-queued",
                fault.worker
            )
        }
        (Err(e), _) | (_, Err(e)) => {
            note(format!(
                "fault `{}`: the re-queued count could not be read ({e:#})",
                fault.name
            ));
            format!("worker_stop {}", fault.worker)
        }
    };
    lock(&outcome).windows.push(FaultWindow {
        name: fault.name.clone(),
        link: LINK.to_string(),
        toxic: description,
        planned_start_s: fault.at.as_secs_f64(),
        start_s,
        end_s,
        // Not a proxied link: no request share, no byte counters.
        http_requests: None,
        traffic: None,
    });
}

/// `POST {server}/admin/workers/{worker}/start` over plain blocking HTTP/1.1
/// from a helper thread (an https target cannot be reached this way; its
/// worker is reported).
fn start_blocking(server_url: &str, worker: &str, token: &Secret) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    let authority = server_url
        .strip_prefix("http://")
        .ok_or("not a plain http:// target")?
        .trim_end_matches('/')
        .to_string();
    let request = format!(
        "POST /admin/workers/{worker}/start HTTP/1.1\r\nHost: {authority}\r\n\
         Authorization: Bearer {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        token.expose()
    );
    let thread = std::thread::spawn(move || -> std::io::Result<String> {
        let addr = authority
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("does not resolve"))?;
        let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)?;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        stream.write_all(request.as_bytes())?;
        let mut head = [0u8; 16];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    });
    let head = thread
        .join()
        .map_err(|_| "the restart thread panicked".to_string())?
        .map_err(|e| e.to_string())?;
    if head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2") {
        Ok(())
    } else {
        Err(format!(
            "answer {:?}",
            head.lines().next().unwrap_or_default()
        ))
    }
}
