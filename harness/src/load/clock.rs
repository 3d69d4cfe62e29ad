//! A sub-millisecond sleep for the open model's arrivals. tokio's timer
//! counts whole milliseconds and rounds every deadline up to the next tick,
//! so a request due at t starts 1-2 ms after it, and that lag is counted as
//! the server's latency (latency runs from the intended start). Here one
//! thread per process, with its timer slack cut to the minimum, sleeps until
//! just before the earliest deadline, spins through the last stretch, and
//! wakes the task a little early; the task spins the last few microseconds
//! itself, so it leaves within tens of microseconds of its time on a busy
//! 2-core VM. The same approach as the fault proxy's timer
//! (`fault-proxy/src/plane/clock.rs`), tightened by the spin phases.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// The timer thread parks until this long before a deadline and spins the
/// rest: a park with minimal slack overshoots by about 25 µs (median) on a
/// 2-core VM, more on a busy one. Each microsecond here is spun once per
/// arrival (60 µs at 2,000 arrivals/s is about 5 % of a core, net of the
/// overshoot).
const SPIN_AHEAD: Duration = Duration::from_micros(60);

/// The most a woken task spins by itself before its deadline. It is woken
/// `wake_ahead` early (the measured time a woken task takes to be polled),
/// so a tokio worker is held for at most this long per arrival.
const MAX_TASK_SPIN: Duration = Duration::from_micros(60);

/// How long a woken task has recently taken to be polled, ns (a moving
/// average the timer thread wakes ahead by).
static WAKE_LATENCY_NS: AtomicU64 = AtomicU64::new(20_000);

/// Waits until `at`, to within tens of microseconds.
pub(crate) fn sleep_until(at: Instant) -> Sleep {
    Sleep {
        at,
        registered: None,
    }
}

/// The future of [`sleep_until`].
pub(crate) struct Sleep {
    at: Instant,
    /// When the timer thread was asked to wake this task (its wake time).
    registered: Option<Instant>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        if let Some(wake_at) = self.registered.take() {
            if now >= wake_at {
                learn_wake_latency(now - wake_at);
            }
        }
        if now >= self.at {
            return Poll::Ready(());
        }
        if self.at - now <= MAX_TASK_SPIN {
            while Instant::now() < self.at {
                std::hint::spin_loop();
            }
            return Poll::Ready(());
        }
        let ahead =
            Duration::from_nanos(WAKE_LATENCY_NS.load(Ordering::Relaxed)).min(MAX_TASK_SPIN);
        let wake_at = self.at - ahead;
        add(wake_at, cx.waker().clone());
        self.registered = Some(wake_at);
        Poll::Pending
    }
}

/// A moving average over the last ~16 wakes, so a busier machine makes the
/// timer wake earlier (within [`MAX_TASK_SPIN`]).
fn learn_wake_latency(seen: Duration) {
    let seen = seen.min(MAX_TASK_SPIN).as_nanos() as u64;
    let old = WAKE_LATENCY_NS.load(Ordering::Relaxed);
    WAKE_LATENCY_NS.store(old - old / 16 + seen / 16, Ordering::Relaxed);
}

struct Entry {
    at: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

/// Deadlines not yet due, with the tasks to wake; one queue per process.
/// At most one entry per pool user is waiting, so the heap stays small.
static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    heap: BinaryHeap::new(),
    seq: 0,
});

/// The timer thread, started on first use.
fn timer_thread() -> &'static Thread {
    static THREAD: OnceLock<Thread> = OnceLock::new();
    THREAD.get_or_init(|| {
        std::thread::Builder::new()
            .name("harness-pacer".into())
            .spawn(run)
            .expect("cannot start the open model's timer thread")
            .thread()
            .clone()
    })
}

fn add(at: Instant, waker: Waker) {
    let earliest = {
        let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
        q.seq += 1;
        let seq = q.seq;
        let earliest = q.heap.peek().is_none_or(|Reverse(e)| at < e.at);
        q.heap.push(Reverse(Entry { at, seq, waker }));
        earliest
    };
    // The thread sleeps until the old earliest deadline: make it look again.
    if earliest {
        timer_thread().unpark();
    }
}

/// Linux lets a thread set its own timer slack (default 50 µs, which every
/// park would overshoot by) through /proc without privileges. Elsewhere, or
/// if /proc is not mounted, the spin phase absorbs the slack.
fn cut_timer_slack() {
    let Ok(link) = std::fs::read_link("/proc/thread-self") else {
        return;
    };
    if let Some(tid) = link.file_name().and_then(|t| t.to_str()) {
        let _ = std::fs::write(format!("/proc/{tid}/timerslack_ns"), "1");
    }
}

/// The timer thread: wakes every task whose deadline passed, parks until
/// shortly before the next one, then spins up to it.
fn run() {
    cut_timer_slack();
    let mut due = Vec::new();
    loop {
        let next = {
            let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            while q.heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
                if let Some(Reverse(entry)) = q.heap.pop() {
                    due.push(entry.waker);
                }
            }
            q.heap.peek().map(|Reverse(e)| e.at)
        };
        // Woken outside the lock: a waker may run code that adds an entry.
        for waker in due.drain(..) {
            waker.wake();
        }
        let Some(at) = next else {
            std::thread::park();
            continue;
        };
        let left = at.saturating_duration_since(Instant::now());
        if left > SPIN_AHEAD {
            // A sooner deadline added meanwhile unparks this early.
            std::thread::park_timeout(left - SPIN_AHEAD);
        } else {
            while Instant::now() < at {
                std::hint::spin_loop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_wakes_before_its_deadline_and_always_wakes() {
        let start = Instant::now();
        let waits = [7u64, 1, 4, 4, 0, 12, 2];
        let handles: Vec<_> = waits
            .iter()
            .map(|&ms| {
                tokio::spawn(async move {
                    let at = start + Duration::from_millis(ms);
                    sleep_until(at).await;
                    Instant::now() >= at
                })
            })
            .collect();
        for h in handles {
            assert!(h.await.unwrap(), "woke before its deadline");
        }
    }

    #[tokio::test]
    async fn a_sooner_deadline_added_later_is_not_held_up_by_the_earlier_one() {
        let far = Instant::now() + Duration::from_secs(30);
        let waiting = tokio::spawn(sleep_until(far));
        tokio::time::sleep(Duration::from_millis(5)).await;
        let near = Instant::now() + Duration::from_millis(5);
        tokio::time::timeout(Duration::from_secs(5), sleep_until(near))
            .await
            .expect("the sooner deadline wakes without waiting for the far one");
        waiting.abort();
    }
}
