//! The kitchen: stations that specialise by order type, named workers with heartbeats, retries with
//! a dead-letter table, and live status events.
//!
//! Data flows one way: `POST /orders` takes a slot on a station that prepares the order's kind
//! (`stations`; a full station answers 503 + `Retry-After` naming itself, before any database work);
//! an admitted order waits for payment (`expiry` gives back the slot of one never paid) or goes to its
//! station's queue; a named worker (`workers`) takes it, holds it while preparing, and either marks it
//! `ready` or, when the preparation fails, hands it to `retries` (exponential backoff, then the
//! dead-letter table). Each worker beats a heartbeat; `heartbeats` marks a silent one offline and
//! puts the orders it held back at the front of its station's queue. A held order carries a lease,
//! so a worker that comes back after its orders were re-queued cannot finish them a second time.
//! Every status change reaches `events` after its commit, for the Server-Sent Event streams.
//!
//! The naive profile keeps the contrasts: one shared unbounded queue for every station, no
//! admission control, no heartbeats (a stopped worker's orders are stuck) and no retry limit.

mod expiry;
mod heartbeats;
mod report;
mod retries;
mod stations;
mod workers;

pub mod events;

use std::{
    sync::{atomic::Ordering::Relaxed, Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    http::HeaderValue,
    response::{IntoResponse, Response},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

pub use events::EventBus;
pub use report::WorkerView;
pub use retries::RetryPolicy;

use crate::{
    config::{CookOn, ServerConfig},
    domain::OrderType,
    error::ApiError,
    layout::Kind,
    metrics::Metrics,
    store::{self, dead_letters::DeadLetter, Store},
};
use stations::{Queue, Station, Ticket};
use workers::Worker;

pub struct Kitchen {
    stations: Vec<Station>,
    workers: Vec<Worker>,
    unpaid: Mutex<expiry::Unpaid>,
    expiry: Duration,
    prep_time: Duration,
    cook_on: CookOn,
    naive: bool,
    retry: RetryPolicy,
    heartbeat: Duration,
    heartbeat_timeout: Duration,
    events: Arc<EventBus>,
    metrics: Arc<Metrics>,
    /// The per-station and per-worker series `/metrics` shows.
    series: report::KitchenSeries,
    /// What workers need to run; set by `spawn`, so an operator can start a worker later.
    runtime: OnceLock<Runtime>,
    /// Heartbeats are stored as milliseconds since this instant.
    epoch: Instant,
}

struct Runtime {
    store: Store,
    tracker: TaskTracker,
    token: CancellationToken,
}

/// A station slot taken by admission; given back on drop unless the order was created.
pub struct Slot {
    kitchen: Arc<Kitchen>,
    station: usize,
    position: usize,
    armed: bool,
}

impl Slot {
    /// When the order should be ready: its place in the station's backlog times the preparation time.
    pub fn estimated_ready_at(&self) -> String {
        let station = &self.kitchen.stations[self.station];
        rfc3339_in(station.wait_for(self.position, self.kitchen.prep_time))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.armed {
            self.kitchen.release(self.station);
        }
    }
}

/// A refusal by a full station: 503 + `Retry-After`, with the station in `X-Kitchen-Station`.
#[derive(Debug)]
pub struct Shed {
    pub station: String,
    pub error: ApiError,
}

impl IntoResponse for Shed {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if let Ok(name) = HeaderValue::from_str(&self.station) {
            response.headers_mut().insert("x-kitchen-station", name);
        }
        response
    }
}

impl Kitchen {
    pub fn new(config: &ServerConfig, metrics: Arc<Metrics>) -> anyhow::Result<Arc<Kitchen>> {
        let specs = config.station_specs().map_err(anyhow::Error::msg)?;
        let naive = config.naive();
        let shared = Arc::new(Queue::default());
        let stations: Vec<Station> = specs
            .iter()
            .map(|spec| {
                let queue = if naive {
                    shared.clone()
                } else {
                    Arc::default()
                };
                Station::new(spec, naive, queue)
            })
            .collect();
        let workers: Vec<Worker> = specs
            .iter()
            .enumerate()
            .flat_map(|(i, spec)| (1..=spec.workers).map(move |n| (i, n)))
            .map(|(i, n)| Worker::new(format!("{}-{n}", specs[i].name), i))
            .collect();
        let series = report::KitchenSeries::register(
            &metrics,
            &stations.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            &workers
                .iter()
                .map(|w| (w.name.clone(), stations[w.station].name.clone()))
                .collect::<Vec<_>>(),
        );
        let capacity = stations
            .iter()
            .map(|s| s.capacity.map_or(-1, |c| c as i64))
            .try_fold(0i64, |sum, c| (c >= 0).then_some(sum + c))
            .unwrap_or(-1);
        metrics.kitchen_backlog_capacity.set(capacity as f64);
        Ok(Arc::new(Kitchen {
            stations,
            workers,
            unpaid: Mutex::default(),
            expiry: Duration::from_millis(config.unpaid_expiry_ms),
            prep_time: config.prep_time(),
            cook_on: config.cook_on,
            naive,
            retry: RetryPolicy::new(config),
            heartbeat: Duration::from_millis(config.heartbeat_ms),
            heartbeat_timeout: Duration::from_millis(config.heartbeat_timeout_ms),
            events: Arc::new(EventBus::default()),
            metrics,
            series,
            runtime: OnceLock::new(),
            epoch: Instant::now(),
        }))
    }

    /// The live status streams.
    pub fn events(&self) -> &Arc<EventBus> {
        &self.events
    }

    /// The share of failing preparations, changeable at run time.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The station for `kind` with the most room (the first one, on a tie).
    fn station_for(&self, kind: Kind) -> usize {
        self.stations
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kinds.contains(&kind))
            .min_by_key(|(_, s)| s.backlog())
            .map(|(i, _)| i)
            .expect("the configuration has a station for every kind")
    }

    /// Takes a slot on a station that prepares this kind of order, or sheds: 503 with the time the
    /// station needs to work off its backlog.
    pub fn try_admit(self: &Arc<Self>, order_type: &OrderType) -> Result<Slot, Shed> {
        self.admit_to(self.station_for(Kind::of(order_type)))
    }

    fn admit_to(self: &Arc<Self>, index: usize) -> Result<Slot, Shed> {
        let station = &self.stations[index];
        match station.try_take() {
            Ok(position) => {
                self.metrics.kitchen_backlog.increment((1) as f64);
                Ok(Slot {
                    kitchen: self.clone(),
                    station: index,
                    position,
                    armed: true,
                })
            }
            Err(backlog) => {
                station.shed_total.fetch_add(1, Relaxed);
                self.metrics.kitchen_shed_total.increment(1);
                let drain = station.wait_for(backlog, self.prep_time);
                Err(Shed {
                    station: station.name.clone(),
                    error: ApiError::Unavailable {
                        code: "kitchen_full",
                        message: format!(
                            "the {} station has {backlog} orders to prepare; try again shortly",
                            station.name
                        ),
                        retry_after: drain.clamp(Duration::from_secs(1), Duration::from_secs(60)),
                    },
                })
            }
        }
    }

    fn release(&self, station: usize) {
        self.stations[station].release();
        self.metrics.kitchen_backlog.decrement((1) as f64);
    }

    /// A new order holds its slot: it waits for payment (and may expire) or goes straight to cooking.
    pub fn admitted(&self, mut slot: Slot, order_id: String) {
        slot.armed = false;
        match self.cook_on {
            CookOn::Paid => self.await_payment(order_id.into(), slot.station),
            CookOn::Received => self.enqueue(Ticket {
                order_id: order_id.into(),
                station: slot.station,
                attempt: 1,
            }),
        }
    }

    /// A payment was approved: the order leaves the expiry watch and, when paying first, is cooked.
    pub fn paid(&self, order_id: &str) {
        let station = self.stop_watching(order_id);
        if let (CookOn::Paid, Some(station)) = (self.cook_on, station) {
            self.enqueue(Ticket {
                order_id: order_id.into(),
                station,
                attempt: 1,
            });
        }
    }

    fn enqueue(&self, ticket: Ticket) {
        self.metrics.kitchen_queue_depth.increment((1) as f64);
        self.stations[ticket.station].queue.push_back(ticket);
    }

    /// Re-admits the work a previous run left unfinished (beyond capacity if need be: it was promised).
    pub fn recover(&self, recovered: store::kitchen::Recovered) {
        let station_of = |kind: &str| {
            let index = self.station_for(Kind::parse(kind).unwrap_or(Kind::Takeout));
            self.stations[index].take_unchecked(1);
            self.metrics.kitchen_backlog.increment((1) as f64);
            index
        };
        for (id, kind) in recovered.unpaid {
            let station = station_of(&kind);
            self.await_payment(id.into(), station);
        }
        for (id, kind) in recovered.to_cook {
            let station = station_of(&kind);
            self.enqueue(Ticket {
                order_id: id.into(),
                station,
                attempt: 1,
            });
        }
    }

    /// Starts the workers, the heartbeat monitor (not in the naive profile) and the expiry sweeper;
    /// they stop when `token` is cancelled (an interrupted order stays `preparing` and is cooked
    /// again after a restart).
    pub fn spawn(
        self: &Arc<Self>,
        store: &Store,
        tracker: &TaskTracker,
        token: &CancellationToken,
    ) {
        let runtime = Runtime {
            store: store.clone(),
            tracker: tracker.clone(),
            token: token.clone(),
        };
        if self.runtime.set(runtime).is_err() {
            return;
        }
        for index in 0..self.workers.len() {
            self.start_worker(index);
        }
        if !self.naive {
            tracker.spawn(heartbeats::monitor(self.clone()));
        }
        tracker.spawn(self.clone().sweep(store.clone(), token.clone()));
    }

    fn runtime(&self) -> &Runtime {
        self.runtime.get().expect("the kitchen was spawned")
    }

    fn worker_index(&self, name: &str) -> Result<usize, ApiError> {
        self.workers
            .iter()
            .position(|w| w.name == name)
            .ok_or(ApiError::NotFound("worker"))
    }

    /// Takes a worker away as a crash would: it stops where it is, with the orders it holds, and
    /// sends no more heartbeats.
    pub fn stop_worker(&self, name: &str) -> Result<WorkerView, ApiError> {
        let index = self.worker_index(name)?;
        self.workers[index].kill();
        Ok(self.worker_view(index))
    }

    /// Brings a stopped worker back; it starts with the next order in its station's queue.
    pub fn start_worker_named(self: &Arc<Self>, name: &str) -> Result<WorkerView, ApiError> {
        let index = self.worker_index(name)?;
        self.start_worker(index);
        Ok(self.worker_view(index))
    }

    fn start_worker(self: &Arc<Self>, index: usize) {
        let runtime = self.runtime();
        if let Some(kill) = self.workers[index].revive(self.now_ms()) {
            runtime
                .tracker
                .spawn(workers::run(self.clone(), index, kill));
        }
    }

    /// Sends a dead letter back to its station (503 if that station is full).
    pub async fn retry_dead_letter(self: &Arc<Self>, id: i64) -> Result<DeadLetter, Response> {
        let store = &self.runtime().store;
        let letter = store
            .read(move |c| store::dead_letters::get_open(c, id))
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        let index = self
            .stations
            .iter()
            .position(|s| s.name == letter.station)
            .unwrap_or(0);
        let slot = self.admit_to(index).map_err(IntoResponse::into_response)?;
        let letter = store
            .write(move |c| store::dead_letters::retry(c, id))
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        let mut slot = slot;
        slot.armed = false;
        self.enqueue(Ticket {
            order_id: letter.order_id.as_str().into(),
            station: index,
            attempt: 1,
        });
        Ok(letter)
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// RFC 3339 (UTC) of now + `wait`, the format of every timestamp in the API.
fn rfc3339_in(wait: Duration) -> String {
    (time::OffsetDateTime::now_utc() + wait)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatting a time")
}
