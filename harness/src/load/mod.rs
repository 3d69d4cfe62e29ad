//! The load engine: a validated scenario → goose users (closed model) or a
//! paced pool (open model) sending the scenario's flows to the target, every
//! request a sample for the one aggregator. This module owns the run's clock
//! (its epoch: when the load starts) and the engine every user shares;
//! `conduct` runs beside the attack: the timed flows, the planned end, and
//! turning a stop request (see `crate::stop`) into users that stop.

mod attack;
mod clock;
mod conduct;
mod flow;
mod pacer;
mod procstat;
mod progress;
mod sink;
mod sse;
mod watch;

pub(crate) use flow::UserState;
pub(crate) use pacer::Schedule;
pub(crate) use watch::{AbortSignal, Watch};

use crate::record::{Aborted, GeneratorHealth, LoadModel, Recorder, StageMark};
use crate::scenario::{Flow, Scenario};
use crate::shard::Shard;
use crate::stop;
use conduct::{conduct, Conducted, Signals};
use progress::Progress;
use rand::Rng;
use sink::{Aggregator, Sink};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// Shared by every user of a run.
pub(crate) struct Engine {
    scenario: Arc<Scenario>,
    base_url: String,
    /// The one HTTP client every user shares (its connection pool too),
    /// built with the run's TLS configuration.
    client: reqwest::Client,
    timeout: Duration,
    /// Makes idempotency keys unique across runs against the same backend.
    nonce: String,
    sink: Sink,
    epoch: Arc<OnceLock<Instant>>,
    epoch_tx: Mutex<Option<tokio::sync::oneshot::Sender<Instant>>>,
    /// No new steps (the planned end, or Ctrl-C).
    stop: CancellationToken,
    /// Drop requests in flight (Ctrl-C).
    abort: CancellationToken,
    /// Raised by a window gate that aborts.
    gate_abort: AbortSignal,
    schedule: Option<Schedule>,
    /// The target's contract, when a step checks its answers against it.
    contract: Option<crate::contract::Contract>,
    /// (cumulative weight, flow index) of the weighted flows.
    weights: Vec<(u64, usize)>,
    /// This process's share of a sharded run.
    shard: Option<Shard>,
    /// The common start of a sharded run, on this process's monotonic clock.
    start_at: Option<Instant>,
}

impl Engine {
    fn model(&self) -> LoadModel {
        self.scenario.load.model
    }

    fn set_epoch(&self, at: Instant) {
        if self.epoch.set(at).is_ok() {
            if let Some(tx) = self.epoch_tx.lock().expect("not poisoned").take() {
                let _ = tx.send(at);
            }
        }
    }

    /// A stop was requested (or the users were cut): no new request starts.
    fn interrupted(&self) -> bool {
        self.abort.is_cancelled() || stop::requested().is_some()
    }

    /// The number in the whole run of this process's `j`-th user (or arrival).
    fn global_index(&self, j: u64) -> u64 {
        self.shard.map_or(j, |s| s.nth(j))
    }

    fn epoch(&self) -> Instant {
        self.epoch.get().copied().unwrap_or_else(Instant::now)
    }

    fn pick_flow(&self, state: &mut UserState) -> &Flow {
        let total = self.weights.last().map_or(1, |w| w.0);
        let r = state.rng.random_range(0..total);
        let idx = self
            .weights
            .iter()
            .find(|(cum, _)| r < *cum)
            .map_or(0, |w| w.1);
        &self.scenario.flows[idx]
    }
}

/// Options for one run of the load.
pub(crate) struct LoadOptions {
    pub(crate) base_url: String,
    pub(crate) quiet: bool,
    /// The HTTP client for every request (see `Target::http_client`).
    pub(crate) client: reqwest::Client,
    /// Run only this shard's arrivals (open model) or users (closed model).
    pub(crate) shard: Option<Shard>,
    /// Wait for this wall-clock instant before the first stage.
    pub(crate) start_at: Option<OffsetDateTime>,
    /// Looks at the recorder once a second (window gates, dashboard); an
    /// abort it raises stops the run.
    pub(crate) watch: Option<Box<dyn Watch>>,
}

/// What the load engine measured.
pub(crate) struct LoadResult {
    pub(crate) recorder: Recorder,
    pub(crate) generator: GeneratorHealth,
    pub(crate) stages: Vec<StageMark>,
    /// Stopped early because a window gate that aborts failed a window.
    pub(crate) aborted: Option<Aborted>,
    pub(crate) started_at: OffsetDateTime,
    pub(crate) ended_at: OffsetDateTime,
    /// Seconds from the epoch to the end of the load.
    pub(crate) elapsed_s: f64,
    /// This machine's wall clock when the load began waiting for its start.
    pub(crate) clock_at_wait: OffsetDateTime,
    /// What went wrong in the engine itself, for the report's notes.
    pub(crate) notes: Vec<String>,
}

/// goose's test plan counts whole seconds: round the closed model's stages
/// so that the plan, the report's stage marks and the run's end agree.
pub(crate) fn align_stages(scenario: &mut Scenario) {
    if scenario.load.model == LoadModel::Closed {
        for stage in &mut scenario.load.stages {
            stage.duration =
                Duration::from_secs(stage.duration.as_secs_f64().round().max(1.0) as u64);
        }
    }
}

/// Runs the scenario's load against `opts.base_url`. `on_start` is called
/// with the epoch when the load starts (the fault timeline hangs on it).
pub(crate) async fn run(
    scenario: Arc<Scenario>,
    mut opts: LoadOptions,
    on_start: impl FnOnce(Instant),
) -> anyhow::Result<LoadResult> {
    let epoch = Arc::new(OnceLock::new());
    let progress = Progress::new(scenario.load.total(), opts.quiet);
    let gate_abort = AbortSignal::default();
    let watch = opts.watch.take().map(|w| (w, gate_abort.clone()));
    let (sink, aggregator) = Aggregator::start(
        scenario.request_names.clone(),
        progress,
        Arc::clone(&epoch),
        watch,
    );
    let (epoch_tx, epoch_rx) = tokio::sync::oneshot::channel();
    let clock_at_wait = OffsetDateTime::now_utc();
    let start_at = opts.start_at.map(|at| {
        let ahead = (at - clock_at_wait).as_seconds_f64().max(0.0);
        Instant::now() + Duration::from_secs_f64(ahead)
    });
    let (contract, contract_note) =
        crate::contract::Contract::fetch(&opts.base_url, &scenario, &opts.client).await;
    let channels = Channels {
        sink,
        epoch,
        epoch_tx,
        gate_abort,
    };
    let engine = engine(&scenario, &opts, start_at, channels, contract);
    if let Some(at) = start_at {
        wait_for_start(&engine, at).await;
    }
    let goose_done = CancellationToken::new();
    let cut = CancellationToken::new();
    let attack = {
        let engine = Arc::clone(&engine);
        let (done, cut) = (goose_done.clone(), cut.clone());
        async move {
            if stop::requested().is_some() {
                // Stopped before the load began: no attack at all.
                done.cancel();
                return Ok(());
            }
            let r = tokio::select! {
                r = attack::execute(engine) => r,
                // goose did not stop its users: stop waiting for it (see `conduct`).
                _ = cut.cancelled() => Ok(()),
            };
            done.cancel();
            r
        }
    };
    let signals = Signals {
        goose_done: goose_done.clone(),
        cut,
    };
    let (attacked, conducted) = tokio::join!(attack, conduct(&engine, epoch_rx, signals, on_start));
    engine.stop.cancel();
    let Conducted {
        aborted,
        timed,
        mut notes,
    } = conducted;
    notes.extend(contract_note);
    for task in timed {
        let _ = task.await;
    }
    let ended = Instant::now();
    let epoch_at = engine.epoch();
    let (recorder, mut generator) = aggregator.finish().await;
    attacked?;
    let elapsed_s = ended.saturating_duration_since(epoch_at).as_secs_f64();
    if let Some(schedule) = &engine.schedule {
        // Arrivals due while the load ran that no user started were missed.
        let due = schedule.due_before(elapsed_s.min(schedule.end_s()));
        generator.missed_starts = due.saturating_sub(generator.scheduled_starts);
        generator.scheduled_starts = generator.scheduled_starts.max(due);
    }
    let now_utc = OffsetDateTime::now_utc();
    Ok(LoadResult {
        recorder,
        generator,
        stages: stage_marks(&scenario, elapsed_s),
        aborted,
        started_at: now_utc - Duration::from_secs_f64(elapsed_s),
        ended_at: now_utc,
        elapsed_s,
        clock_at_wait,
        notes,
    })
}

/// Sleeps until the common start, less the time the model needs to launch
/// its users (the open model's pool starts [`attack::POOL_LAUNCH`] early and
/// its epoch is the common start itself). Ctrl-C or SIGTERM ends the wait.
async fn wait_for_start(engine: &Engine, at: Instant) {
    let lead = match engine.model() {
        LoadModel::Open => attack::POOL_LAUNCH,
        LoadModel::Closed => Duration::ZERO,
    };
    let wake = at.checked_sub(lead).unwrap_or(at);
    tokio::select! {
        _ = tokio::time::sleep_until(wake.into()) => {}
        _ = stop::wait() => {}
    }
}

/// What the engine shares with the aggregator and the conductor.
struct Channels {
    sink: Sink,
    epoch: Arc<OnceLock<Instant>>,
    epoch_tx: tokio::sync::oneshot::Sender<Instant>,
    gate_abort: AbortSignal,
}

/// The engine every user shares: the plan, where to send, the flows' weights,
/// the open model's schedule, and the signals that stop the users.
fn engine(
    scenario: &Arc<Scenario>,
    opts: &LoadOptions,
    start_at: Option<Instant>,
    channels: Channels,
    contract: Option<crate::contract::Contract>,
) -> Arc<Engine> {
    let Channels {
        sink,
        epoch,
        epoch_tx,
        gate_abort,
    } = channels;
    let mut cum = 0;
    let weights = scenario
        .weighted_flows()
        .map(|(i, f)| {
            cum += u64::from(f.weight);
            (cum, i)
        })
        .collect();
    let schedule = (scenario.load.model == LoadModel::Open)
        .then(|| Schedule::new(&scenario.load.stages, opts.shard));
    Arc::new(Engine {
        scenario: Arc::clone(scenario),
        base_url: opts.base_url.trim_end_matches('/').to_string(),
        client: opts.client.clone(),
        timeout: scenario.load.timeout,
        nonce: format!("{:08x}", rand::rng().random::<u32>()),
        sink,
        epoch,
        epoch_tx: Mutex::new(Some(epoch_tx)),
        stop: CancellationToken::new(),
        abort: CancellationToken::new(),
        gate_abort,
        schedule,
        contract,
        weights,
        shard: opts.shard,
        start_at,
    })
}

fn stage_marks(scenario: &Scenario, elapsed_s: f64) -> Vec<StageMark> {
    let unit = |v: f64| match scenario.load.model {
        LoadModel::Closed => format!("{v:.0} users"),
        LoadModel::Open => format!("{v:.1}/s"),
    };
    let mut prev = 0.0;
    scenario
        .load
        .stages
        .iter()
        .zip(scenario.stage_bounds())
        .filter(|(_, (start, _))| *start < elapsed_s)
        .map(|(stage, (start_s, end_s))| {
            let description = if (stage.target - prev).abs() < f64::EPSILON {
                format!("hold {}", unit(stage.target))
            } else {
                format!("ramp {} → {}", unit(prev), unit(stage.target))
            };
            prev = stage.target;
            StageMark {
                name: stage.name.clone(),
                description,
                start_s,
                end_s: end_s.min(elapsed_s),
            }
        })
        .collect()
}
