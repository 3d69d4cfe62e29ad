//! A sub-millisecond timer for toxics. tokio's timer wheel counts whole
//! milliseconds and rounds every deadline up to the next tick, and its driver
//! sleeps in whole milliseconds too, so a 100 ms latency toxic on it lasts
//! 101-102 ms; Toxiproxy's timers do not drift like that. Here one thread per
//! process sleeps until the earliest deadline (a futex timeout) and wakes the
//! tasks that are due, about 0.1 ms after it on a 2-core VM.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::Instant;

/// Waits until `at`. `armed` is the deadline this task last registered with
/// the timer thread. A loop that re-creates its wait on every event registers
/// only when its deadline comes sooner than the armed one (or that one has
/// passed): a later deadline is picked up when the armed one wakes the task,
/// so a deadline pushed back on every chunk (a timeout toxic) keeps one entry
/// in the queue, not one per chunk.
pub(crate) fn sleep_until(at: Instant, armed: &mut Option<Instant>) -> Sleep<'_> {
    Sleep { at, armed }
}

pub(crate) struct Sleep<'a> {
    at: Instant,
    armed: &'a mut Option<Instant>,
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let at = self.at;
        let now = Instant::now();
        if now >= at {
            return Poll::Ready(());
        }
        let covered = self.armed.is_some_and(|armed| armed <= at && armed > now);
        if !covered {
            add(at, cx.waker().clone());
            *self.armed = Some(at);
        }
        Poll::Pending
    }
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
static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    heap: BinaryHeap::new(),
    seq: 0,
});

/// The timer thread, started on first use.
fn timer_thread() -> &'static Thread {
    static THREAD: OnceLock<Thread> = OnceLock::new();
    THREAD.get_or_init(|| {
        std::thread::Builder::new()
            .name("fault-proxy-timer".into())
            .spawn(run)
            .expect("cannot start the fault proxy's timer thread")
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

/// The timer thread: wakes every task whose deadline passed, then sleeps
/// until the next one (or until a sooner one is added).
fn run() {
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
        match next {
            Some(at) => std::thread::park_timeout(at.saturating_duration_since(Instant::now())),
            None => std::thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn never_wakes_before_its_deadline_and_always_wakes() {
        let start = Instant::now();
        let waits = [7u64, 1, 4, 4, 0, 12, 2];
        let handles: Vec<_> = waits
            .iter()
            .map(|&ms| {
                tokio::spawn(async move {
                    let at = start + Duration::from_millis(ms);
                    sleep_until(at, &mut None).await;
                    Instant::now() >= at
                })
            })
            .collect();
        for h in handles {
            assert!(h.await.unwrap(), "woke before its deadline");
        }
    }

    #[tokio::test]
    async fn a_later_deadline_rides_on_the_armed_one_and_still_wakes() {
        let first = Instant::now() + Duration::from_millis(30);
        let later = first + Duration::from_millis(30);
        let mut armed = None;
        let early =
            tokio::time::timeout(Duration::from_millis(1), sleep_until(first, &mut armed)).await;
        assert!(early.is_err(), "30 ms cannot pass in 1 ms");
        // Pushed back, as a timeout toxic's deadline is on every chunk: the
        // armed entry wakes the task at `first`, which then arms `later`.
        tokio::time::timeout(Duration::from_secs(5), sleep_until(later, &mut armed))
            .await
            .expect("the later deadline is reached");
        assert!(Instant::now() >= later);
        assert_eq!(armed, Some(later));
    }

    #[tokio::test]
    async fn a_deadline_already_armed_is_not_registered_again_and_still_wakes() {
        let at = Instant::now() + Duration::from_millis(200);
        let mut armed = None;
        // Poll once so it registers, then wait again on the same deadline.
        let first =
            tokio::time::timeout(Duration::from_millis(1), sleep_until(at, &mut armed)).await;
        assert!(first.is_err(), "200 ms cannot pass in 1 ms");
        assert_eq!(armed, Some(at));
        tokio::time::timeout(Duration::from_secs(5), sleep_until(at, &mut armed))
            .await
            .expect("the first registration wakes the task");
        assert!(Instant::now() >= at);
    }
}
