//! The kitchen: admission control, a cooking queue and a pool of workers.
//!
//! Design: the backlog is every order admitted and not yet ready, including orders still waiting
//! for payment, because each of them is a promise of kitchen work. `POST /orders` takes a slot with
//! one atomic compare-and-swap BEFORE touching the database; when the backlog is full it answers 503
//! with a `Retry-After` of (backlog x prep time / workers), so the shed path costs microseconds and
//! no queue ever grows beyond what the kitchen can cook in that time. An unpaid order expires after
//! `--unpaid-expiry-ms`, giving back its slot and its stock. Paid orders (or every order with
//! `--cook-on received`) go to the cooking queue; `--kitchen-workers` workers move each one
//! `preparing` -> `ready` in `--prep-time-ms`, so capacity = workers / prep time.
//! The naive profile admits everything and queues without bound.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        atomic::{AtomicUsize, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use tokio::sync::mpsc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::{CookOn, ServerConfig},
    error::ApiError,
    metrics::Metrics,
    store::{self, kitchen::Expiry, Store},
};

/// Expiry checks written per round by the sweeper.
const EXPIRY_CHUNK: usize = 1024;

enum QueueTx {
    Bounded(mpsc::Sender<String>),
    Unbounded(mpsc::UnboundedSender<String>),
}
enum QueueRx {
    Bounded(mpsc::Receiver<String>),
    Unbounded(mpsc::UnboundedReceiver<String>),
}

impl QueueRx {
    async fn recv(&mut self) -> Option<String> {
        match self {
            Self::Bounded(rx) => rx.recv().await,
            Self::Unbounded(rx) => rx.recv().await,
        }
    }
}

pub(crate) struct Kitchen {
    /// `None` in the naive profile: no admission control.
    capacity: Option<usize>,
    backlog: AtomicUsize,
    queue: QueueTx,
    receiver: tokio::sync::Mutex<QueueRx>,
    unpaid: Mutex<Unpaid>,
    expiry: Duration,
    workers: usize,
    prep_time: Duration,
    cook_on: CookOn,
    metrics: Arc<Metrics>,
}

/// Unpaid orders by id (removed when paid) and their expiry deadlines in arrival order.
#[derive(Default)]
struct Unpaid {
    /// Ids are shared between both collections: one allocation per waiting order.
    waiting: HashMap<Arc<str>, Instant>,
    deadlines: VecDeque<(Instant, Arc<str>)>,
}

/// A backlog slot taken by admission; given back on drop unless the order was created.
pub(crate) struct Slot {
    kitchen: Arc<Kitchen>,
    armed: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.armed {
            self.kitchen.release();
        }
    }
}

impl Kitchen {
    pub(crate) fn new(config: &ServerConfig, metrics: Arc<Metrics>) -> Arc<Kitchen> {
        let capacity = (!config.naive()).then_some(config.kitchen_backlog);
        let (queue, receiver) = match capacity {
            Some(n) => {
                let (tx, rx) = mpsc::channel(n);
                (QueueTx::Bounded(tx), QueueRx::Bounded(rx))
            }
            None => {
                let (tx, rx) = mpsc::unbounded_channel();
                (QueueTx::Unbounded(tx), QueueRx::Unbounded(rx))
            }
        };
        metrics
            .kitchen_backlog_capacity
            .set(capacity.map_or(-1.0, |c| c as f64));
        Arc::new(Kitchen {
            capacity,
            backlog: AtomicUsize::new(0),
            queue,
            receiver: tokio::sync::Mutex::new(receiver),
            unpaid: Mutex::default(),
            expiry: Duration::from_millis(config.unpaid_expiry_ms),
            workers: config.kitchen_workers,
            prep_time: config.prep_time(),
            cook_on: config.cook_on,
            metrics,
        })
    }

    /// Takes a backlog slot, or sheds: 503 with the time the kitchen needs to work off its backlog.
    pub(crate) fn try_admit(self: &Arc<Self>) -> Result<Slot, ApiError> {
        let Some(capacity) = self.capacity else {
            self.backlog.fetch_add(1, Relaxed);
            self.metrics.kitchen_backlog.increment(1.0);
            return Ok(Slot {
                kitchen: self.clone(),
                armed: true,
            });
        };
        match self
            .backlog
            .fetch_update(Relaxed, Relaxed, |n| (n < capacity).then_some(n + 1))
        {
            Ok(_) => {
                self.metrics.kitchen_backlog.increment(1.0);
                Ok(Slot {
                    kitchen: self.clone(),
                    armed: true,
                })
            }
            Err(backlog) => {
                self.metrics.kitchen_shed_total.increment(1);
                let drain = self.prep_time.mul_f64(backlog as f64 / self.workers as f64);
                Err(ApiError::Unavailable {
                    code: "kitchen_full",
                    message: format!(
                        "the kitchen has {backlog} orders to prepare; try again shortly"
                    ),
                    retry_after: drain.clamp(Duration::from_secs(1), Duration::from_secs(60)),
                })
            }
        }
    }

    fn release(&self) {
        self.backlog.fetch_sub(1, Relaxed);
        self.metrics.kitchen_backlog.decrement(1.0);
    }

    /// A new order holds its slot: it waits for payment (and may expire) or goes straight to cooking.
    pub(crate) fn admitted(&self, mut slot: Slot, order_id: String) {
        slot.armed = false;
        match self.cook_on {
            CookOn::Paid => self.await_payment(order_id),
            CookOn::Received => self.enqueue(order_id),
        }
    }

    fn await_payment(&self, order_id: String) {
        let deadline = Instant::now() + self.expiry;
        let mut unpaid = self.unpaid.lock().expect("unpaid lock");
        let id: Arc<str> = order_id.into();
        unpaid.waiting.insert(id.clone(), deadline);
        unpaid.deadlines.push_back((deadline, id));
    }

    /// A payment was approved: the order leaves the expiry watch and, when paying first, is cooked.
    pub(crate) fn paid(&self, order_id: &str) {
        let was_waiting = self
            .unpaid
            .lock()
            .expect("unpaid lock")
            .waiting
            .remove(order_id)
            .is_some();
        if self.cook_on == CookOn::Paid && was_waiting {
            self.enqueue(order_id.to_owned());
        }
    }

    fn enqueue(&self, order_id: String) {
        self.metrics.kitchen_queue_depth.increment(1.0);
        let sent = match &self.queue {
            // Cannot be full: admission never lets more orders in than the channel holds.
            QueueTx::Bounded(tx) => tx.try_send(order_id).is_ok(),
            QueueTx::Unbounded(tx) => tx.send(order_id).is_ok(),
        };
        if !sent {
            self.metrics.kitchen_queue_depth.decrement(1.0);
            tracing::warn!("kitchen queue refused an order; it will be cooked after a restart");
        }
    }

    /// Re-admits the work a previous run left unfinished (beyond capacity if need be: it was promised).
    pub(crate) fn recover(&self, recovered: store::kitchen::Recovered) {
        let n = recovered.to_cook.len() + recovered.unpaid.len();
        self.backlog.fetch_add(n, Relaxed);
        self.metrics.kitchen_backlog.increment(n as f64);
        for id in recovered.unpaid {
            self.await_payment(id);
        }
        for id in recovered.to_cook {
            self.enqueue(id);
        }
    }

    /// Starts the workers and the expiry sweeper; they stop when `token` is cancelled (an
    /// interrupted order stays `preparing` and is cooked again after a restart).
    pub(crate) fn spawn(
        self: &Arc<Self>,
        store: &Store,
        tracker: &TaskTracker,
        token: &CancellationToken,
    ) {
        for _ in 0..self.workers {
            let worker = self
                .clone()
                .work(store.clone(), tracker.clone(), token.clone());
            tracker.spawn(worker);
        }
        tracker.spawn(self.clone().sweep(store.clone(), token.clone()));
    }

    /// One worker: `preparing`, prep time, `ready`. The status writes are queued, not awaited, so
    /// a commit's latency does not stretch the cycle (capacity stays workers / prep time); the
    /// slot is given back only once `ready` is committed.
    async fn work(self: Arc<Self>, store: Store, tracker: TaskTracker, token: CancellationToken) {
        loop {
            let next = tokio::select! {
                _ = token.cancelled() => None,
                id = async { self.receiver.lock().await.recv().await } => id,
            };
            let Some(id) = next else { return };
            self.metrics.kitchen_queue_depth.decrement(1.0);
            let id2 = id.clone();
            if let Err(e) = store.enqueue(move |c| store::kitchen::start(c, &id2)).await {
                tracing::warn!(order_id = %id, error = %e, "could not start an order");
            }
            // Shutdown interrupts the cooking: the order stays `preparing` in the store and the next
            // start cooks it again, so a long prep time cannot hold the shutdown past its grace period.
            tokio::select! {
                _ = token.cancelled() => return,
                _ = tokio::time::sleep(self.prep_time) => {}
            }
            let id2 = id.clone();
            match store
                .enqueue(move |c| store::kitchen::finish(c, &id2))
                .await
            {
                Ok(committed) => {
                    let kitchen = self.clone();
                    tracker.spawn(async move {
                        match committed.await {
                            Ok(_) => {
                                kitchen.metrics.kitchen_ready_total.increment(1);
                                kitchen.release();
                            }
                            Err(e) => tracing::warn!(order_id = %id, error = %e, "could not finish an order"),
                        }
                    });
                }
                Err(e) => tracing::warn!(order_id = %id, error = %e, "could not finish an order"),
            }
        }
    }

    async fn sweep(self: Arc<Self>, store: Store, token: CancellationToken) {
        let period = (self.expiry / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut tick = tokio::time::interval(period);
        while !token.is_cancelled() {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = tick.tick() => {}
            }
            // In chunks, so that a wave of expiries never holds more than a chunk of writes in memory.
            loop {
                let due = self.take_due(EXPIRY_CHUNK);
                if due.is_empty() || token.is_cancelled() {
                    break;
                }
                self.expire(&store, due).await;
            }
        }
    }

    async fn expire(&self, store: &Store, due: Vec<String>) {
        let checks = due.into_iter().map(|id| {
            let store = store.clone();
            async move {
                let id2 = id.clone();
                let outcome = store.write(move |c| store::kitchen::expire(c, &id2)).await;
                (id, outcome)
            }
        });
        for (id, outcome) in futures::future::join_all(checks).await {
            match outcome {
                Ok(Expiry::Expired) => {
                    self.unpaid
                        .lock()
                        .expect("unpaid lock")
                        .waiting
                        .remove(id.as_str());
                    self.metrics.kitchen_expired_total.increment(1);
                    self.release();
                }
                Ok(Expiry::NotYet) | Err(_) => self.retry_later(id),
                Ok(Expiry::Settled) => {}
            }
        }
    }

    /// Unpaid orders whose deadline has passed and that were not paid meanwhile.
    fn take_due(&self, limit: usize) -> Vec<String> {
        let now = Instant::now();
        let mut unpaid = self.unpaid.lock().expect("unpaid lock");
        let Unpaid { waiting, deadlines } = &mut *unpaid;
        let mut due = Vec::new();
        while due.len() < limit && deadlines.front().is_some_and(|(at, _)| *at <= now) {
            let (_, id) = deadlines.pop_front().expect("front exists");
            if waiting.contains_key(&id) {
                due.push(id.to_string());
            }
        }
        due
    }

    fn retry_later(&self, id: String) {
        let deadline = Instant::now() + Duration::from_secs(1);
        self.unpaid
            .lock()
            .expect("unpaid lock")
            .deadlines
            .push_back((deadline, id.into()));
    }
}
