//! One direction of one proxied connection: reads chunks from one socket,
//! passes them through the direction's toxics, and writes them to the other
//! socket when they are due. Toxics added, updated or removed while the
//! connection is open take effect at once; data a toxic still holds when the
//! source closes is delivered before the close.

mod changes;

use super::clock;
use super::stage::{ms, Stage};
use super::{ByteCounters, ToxicSet};
use crate::{Stream, ToxicKind};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

/// Largest read, as Toxiproxy's 32 KiB copy buffer.
const CHUNK: usize = 32 * 1024;
/// Reading stops while this much data waits inside toxics (backpressure).
const MAX_BUFFERED: usize = 4 * 1024 * 1024;

/// How a direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The source closed and everything (then the close) was delivered.
    Closed,
    /// The connection is to be closed now (a toxic, a write error, the proxy going away).
    Killed,
    /// The connection is to be reset (reset_peer).
    Reset,
}

#[derive(Debug)]
enum Piece {
    Data {
        due: Instant,
        arrival: Instant,
        bytes: Bytes,
    },
    Eof {
        due: Instant,
        arrival: Instant,
    },
    Kill {
        due: Instant,
    },
    Reset {
        due: Instant,
    },
}

impl Piece {
    fn due(&self) -> Instant {
        match self {
            Piece::Data { due, .. }
            | Piece::Eof { due, .. }
            | Piece::Kill { due }
            | Piece::Reset { due } => *due,
        }
    }
}

pub(crate) struct Pump {
    src: Arc<TcpStream>,
    dst: Arc<TcpStream>,
    stream: Stream,
    toxics: watch::Receiver<Arc<ToxicSet>>,
    /// This direction's bytes read and written, for `/metrics`.
    bytes: Arc<ByteCounters>,
    chain: Vec<Stage>,
    queue: VecDeque<Piece>,
    queued_bytes: usize,
    /// No more reading: EOF seen, or a toxic ended the stream.
    read_done: bool,
    /// The deadline registered with the timer thread for this pump.
    armed: Option<std::time::Instant>,
    /// The proxy's count of removed timeout toxics when this pump last
    /// looked (none before its first look).
    timeouts_seen: Option<u64>,
}

impl Pump {
    pub fn new(
        src: Arc<TcpStream>,
        dst: Arc<TcpStream>,
        stream: Stream,
        toxics: watch::Receiver<Arc<ToxicSet>>,
        bytes: Arc<ByteCounters>,
    ) -> Pump {
        Pump {
            src,
            dst,
            stream,
            toxics,
            bytes,
            chain: Vec::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            read_done: false,
            armed: None,
            timeouts_seen: None,
        }
    }

    /// Pumps until the direction ends. The connection drops the other
    /// direction when this one ends with anything but [`End::Closed`].
    pub async fn run(mut self) -> End {
        if self.apply_toxics() {
            return End::Killed;
        }
        self.pump().await
    }

    async fn pump(&mut self) -> End {
        loop {
            if let Some(end) = self.flush_due().await {
                return end;
            }
            let timer = self.next_timer();
            let can_read = !self.read_done && self.queued_bytes < MAX_BUFFERED;
            tokio::select! {
                biased;
                changed = self.toxics.changed() => {
                    // A removed timeout closes the connection at once, even
                    // ahead of data other toxics still hold (as Toxiproxy's
                    // cleanup closes its stream).
                    if changed.is_err() || self.apply_toxics() {
                        return End::Killed;
                    }
                }
                _ = clock::sleep_until(timer.map_or_else(std::time::Instant::now, Instant::into_std), &mut self.armed), if timer.is_some() => {
                    self.expire_timeouts();
                }
                ready = self.src.readable(), if can_read => {
                    if ready.is_err() {
                        self.on_eof(Instant::now());
                        continue;
                    }
                    if let Some(end) = self.read_chunk().await {
                        return end;
                    }
                }
            }
        }
    }

    /// Reads what the socket has; writes it straight through when no toxic
    /// touches data and nothing is queued (the fast path).
    async fn read_chunk(&mut self) -> Option<End> {
        let mut buf = BytesMut::with_capacity(CHUNK);
        match read_some(&self.src, &mut buf) {
            Ok(0) => self.on_eof(Instant::now()),
            Ok(n) => {
                self.bytes.received.fetch_add(n as u64, Ordering::Relaxed);
                if self.queue.is_empty() && !self.touches_data() {
                    if write_all(&self.dst, &buf).await.is_err() {
                        return Some(End::Killed);
                    }
                    self.bytes.sent.fetch_add(n as u64, Ordering::Relaxed);
                } else {
                    let bytes = if n < CHUNK / 4 {
                        Bytes::copy_from_slice(&buf)
                    } else {
                        buf.freeze()
                    };
                    self.ingest(Instant::now(), bytes);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // A reset or failed source ends its input, as Toxiproxy treats it.
            Err(_) => self.on_eof(Instant::now()),
        }
        None
    }

    fn touches_data(&self) -> bool {
        self.chain.iter().any(|s| {
            s.active && !matches!(s.kind, ToxicKind::SlowClose { .. } | ToxicKind::Noop {})
        })
    }

    /// Runs one chunk through the chain and queues what comes out.
    fn ingest(&mut self, arrival: Instant, bytes: Bytes) {
        let now = Instant::now();
        // Nothing passes a timeout toxic, wherever it sits in the chain: as in
        // Toxiproxy the data is dropped (removing the toxic closes the
        // connection, so nothing after it could be delivered intact anyway).
        let timeout = self
            .chain
            .iter_mut()
            .find(|s| s.active && matches!(s.kind, ToxicKind::Timeout { .. }));
        if let Some(stage) = timeout {
            if let ToxicKind::Timeout { timeout } = stage.kind {
                // Data restarts the timer, as in Toxiproxy.
                if timeout > 0 {
                    stage.deadline = Some(now + ms(timeout));
                }
            }
            return;
        }
        let mut pieces = vec![(arrival, bytes)];
        let mut end_after: Option<Piece> = None;
        for stage in self.chain.iter_mut().filter(|s| s.active) {
            match stage.kind {
                ToxicKind::ResetPeer { timeout } => {
                    // The data that triggers the reset is lost, as with a real RST.
                    end_after = Some(Piece::Reset {
                        due: now + ms(timeout),
                    });
                    pieces.clear();
                    break;
                }
                ToxicKind::LimitData { bytes: limit } => {
                    let mut remaining = limit.saturating_sub(stage.sent);
                    let mut kept = Vec::with_capacity(pieces.len());
                    for (ready, mut bytes) in pieces {
                        if remaining == 0 {
                            break;
                        }
                        let take = usize::try_from(remaining)
                            .unwrap_or(usize::MAX)
                            .min(bytes.len());
                        bytes.truncate(take);
                        remaining -= take as u64;
                        stage.sent += take as u64;
                        kept.push((ready, bytes));
                    }
                    pieces = kept;
                    if stage.sent >= limit {
                        end_after = Some(Piece::Kill { due: now });
                    }
                }
                _ if stage.is_timing() => pieces = stage.time(pieces),
                _ => {}
            }
        }
        for (due, bytes) in pieces {
            self.queued_bytes += bytes.len();
            self.push(Piece::Data {
                due,
                arrival,
                bytes,
            });
        }
        if let Some(end) = end_after {
            self.read_done = true;
            self.push(end);
        }
    }

    /// Queues a piece, never ahead of the one before it (TCP keeps order).
    fn push(&mut self, piece: Piece) {
        let floor = self.queue.back().map(Piece::due);
        let piece = match (piece, floor) {
            (
                Piece::Data {
                    due,
                    arrival,
                    bytes,
                },
                Some(f),
            ) => Piece::Data {
                due: due.max(f),
                arrival,
                bytes,
            },
            (Piece::Eof { due, arrival }, Some(f)) => Piece::Eof {
                due: due.max(f),
                arrival,
            },
            (Piece::Kill { due }, Some(f)) => Piece::Kill { due: due.max(f) },
            (Piece::Reset { due }, Some(f)) => Piece::Reset { due: due.max(f) },
            (piece, None) => piece,
        };
        self.queue.push_back(piece);
    }

    fn on_eof(&mut self, at: Instant) {
        self.read_done = true;
        if let Some(stage) = self
            .chain
            .iter()
            .find(|s| s.active && matches!(s.kind, ToxicKind::ResetPeer { .. }))
        {
            if let ToxicKind::ResetPeer { timeout } = stage.kind {
                self.push(Piece::Reset {
                    due: at + ms(timeout),
                });
                return;
            }
        }
        self.push(Piece::Eof {
            due: at + self.slow_close(),
            arrival: at,
        });
    }

    fn slow_close(&self) -> std::time::Duration {
        self.chain
            .iter()
            .filter(|s| s.active)
            .map(|s| match s.kind {
                ToxicKind::SlowClose { delay } => ms(delay),
                _ => std::time::Duration::ZERO,
            })
            .sum()
    }

    fn next_timer(&self) -> Option<Instant> {
        let deadline = self.chain.iter().filter_map(|s| s.deadline).min();
        match (self.queue.front().map(Piece::due), deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn expire_timeouts(&mut self) {
        let now = Instant::now();
        if self
            .chain
            .iter()
            .any(|s| s.deadline.is_some_and(|d| d <= now))
        {
            for stage in &mut self.chain {
                stage.deadline = None;
            }
            self.read_done = true;
            self.push(Piece::Kill { due: now });
        }
    }

    /// Writes every piece that is due; returns how the direction ended, if it did.
    async fn flush_due(&mut self) -> Option<End> {
        loop {
            let due = self.queue.front()?.due();
            if due > Instant::now() {
                return None;
            }
            match self.queue.pop_front()? {
                Piece::Data { bytes, .. } => {
                    self.queued_bytes -= bytes.len();
                    if write_all(&self.dst, &bytes).await.is_err() {
                        return Some(End::Killed);
                    }
                    let sent = bytes.len() as u64;
                    self.bytes.sent.fetch_add(sent, Ordering::Relaxed);
                }
                Piece::Eof { .. } => {
                    // Half-close: the other direction may still be talking.
                    let _ = socket2::SockRef::from(&*self.dst).shutdown(std::net::Shutdown::Write);
                    return Some(End::Closed);
                }
                Piece::Kill { .. } => return Some(End::Killed),
                Piece::Reset { .. } => return Some(End::Reset),
            }
        }
    }
}

/// Reads what `src` holds into `buf`. A short read means the socket is
/// drained, so tokio is told it is no longer readable: the next wait parks at
/// once instead of paying a read syscall that would only say "would block".
fn read_some(src: &TcpStream, buf: &mut BytesMut) -> io::Result<usize> {
    let room = buf.capacity() - buf.len();
    let mut got = 0;
    let read = src.try_io(Interest::READABLE, || {
        got = src.try_read_buf(buf)?;
        if got > 0 && got < room {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(got)
        }
    });
    match read {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock && got > 0 => Ok(got),
        other => other,
    }
}

/// Writes all of `bytes` (the connection task is aborted if the proxy goes away).
async fn write_all(dst: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match dst.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => dst.writable().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
