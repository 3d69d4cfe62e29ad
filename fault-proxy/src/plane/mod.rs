//! The data plane: a listener per enabled proxy, and per accepted connection
//! two pumps (client → upstream, upstream → client) that apply the proxy's
//! toxics for their direction (an HTTP proxy puts its per-request toxics in
//! front, see `http`). All of a server's connections run on one thread of
//! their own (see [`Plane`]).

mod clock;
mod http;
pub(crate) mod listen;
mod listener;
mod pump;
mod stage;

pub(crate) use listener::Listener;

use crate::{Stream, Toxic, ToxicKind};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A toxic as the data plane sees it: `id` changes on every add or update so
/// each connection redraws its toxicity then.
#[derive(Debug, Clone)]
pub(crate) struct ActiveToxic {
    pub id: u64,
    pub toxic: Toxic,
    /// HTTP toxics: the requests they saw and acted on (kept across updates).
    pub counters: Arc<HttpCounters>,
}

/// A proxy's toxics, per direction, in the order they were added.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToxicSet {
    pub upstream: Vec<ActiveToxic>,
    pub downstream: Vec<ActiveToxic>,
    /// Timeout toxics removed so far, upstream and downstream. Removing one
    /// closes every connection open while it was there (Toxiproxy's cleanup).
    /// A connection learns of changes through a watch channel, which keeps
    /// only the newest set: a toxic added and removed between two of its
    /// looks is never seen in a list, but this count, which only grows, is.
    timeouts_removed: [u64; 2],
}

impl ToxicSet {
    pub fn direction(&self, stream: Stream) -> &[ActiveToxic] {
        match stream {
            Stream::Upstream => &self.upstream,
            Stream::Downstream => &self.downstream,
        }
    }

    pub fn direction_mut(&mut self, stream: Stream) -> &mut Vec<ActiveToxic> {
        match stream {
            Stream::Upstream => &mut self.upstream,
            Stream::Downstream => &mut self.downstream,
        }
    }

    /// How many timeout toxics have been removed from `stream` so far.
    pub fn timeouts_removed(&self, stream: Stream) -> u64 {
        self.timeouts_removed[stream as usize]
    }

    /// Removes the toxic called `name` from `stream`, counting a timeout.
    pub fn remove(&mut self, stream: Stream, name: &str) {
        let list = self.direction_mut(stream);
        let (gone, kept) = std::mem::take(list)
            .into_iter()
            .partition(|t| t.toxic.name == name);
        *list = kept;
        self.timeouts_removed[stream as usize] += timeouts(&gone);
    }

    /// Removes every toxic (`POST /reset`), counting the timeouts.
    pub fn clear(&mut self) {
        for stream in [Stream::Upstream, Stream::Downstream] {
            let gone = std::mem::take(self.direction_mut(stream));
            self.timeouts_removed[stream as usize] += timeouts(&gone);
        }
    }
}

fn timeouts(list: &[ActiveToxic]) -> u64 {
    list.iter()
        .filter(|t| matches!(t.toxic.kind, ToxicKind::Timeout { .. }))
        .count() as u64
}

/// The thread that carries all of a server's proxied connections: a
/// single-threaded runtime, so forwarding a chunk never hands work between
/// threads (on two cores a shared multi-thread runtime costs the proxy about
/// 15 % more CPU at the same throughput), and forwarding takes at most one
/// core from the load generator and the server it sits between. Dropping the
/// plane tells the thread to end; its connections close as its runtime goes
/// (the server stops its listeners first, and waits for them).
pub(crate) struct Plane {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl Plane {
    pub fn start() -> std::io::Result<Plane> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (started, handle) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("fault-proxy-plane".into())
            .spawn(move || {
                // Built and dropped on this thread, never inside the caller's runtime.
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                let _ = started.send(Ok(runtime.handle().clone()));
                // Ends when the sender is dropped; open connections go with the runtime.
                let _ = runtime.block_on(stopped);
            })?;
        let handle = handle
            .recv()
            .map_err(|_| std::io::Error::other("the data plane thread did not start"))??;
        Ok(Plane {
            handle,
            _stop: stop,
        })
    }
}

/// Bytes one direction of a proxy's links read from their source and wrote
/// to their destination (Toxiproxy's `received_bytes` / `sent_bytes`).
#[derive(Debug, Default)]
pub(crate) struct ByteCounters {
    pub received: AtomicU64,
    pub sent: AtomicU64,
}

/// A proxy's byte counters, one per direction.
#[derive(Debug, Default, Clone)]
pub(crate) struct LinkBytes {
    pub upstream: Arc<ByteCounters>,
    pub downstream: Arc<ByteCounters>,
}

/// Requests an HTTP toxic has seen and acted on.
#[derive(Debug, Default)]
pub(crate) struct HttpCounters {
    pub requests: AtomicU64,
    pub affected: AtomicU64,
}
