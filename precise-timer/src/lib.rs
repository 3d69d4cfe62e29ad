//! A sub-millisecond async timer, for code whose deadlines are figures: the
//! load generator's arrivals (a late start is counted as the server's
//! latency) and the fault proxy's latency toxics (a 100 ms toxic must last
//! 100 ms, not 101-102). tokio's timer counts whole milliseconds and rounds
//! every deadline up to the next tick, and its driver sleeps in whole
//! milliseconds too.
//!
//! A [`Timer`] is one thread with a queue of deadlines. The thread cuts its
//! timer slack (Linux lets a thread do so through /proc, without
//! privileges), parks until [`Tuning::spin_ahead`] before the earliest
//! deadline, spins the rest, and wakes the task. With [`Tuning::task_spin`]
//! it wakes the task early, by the time a woken task has recently taken to
//! run at worst, and the task spins the rest itself, on its own thread: a
//! thread already running sees its deadline at once, where waking a parked
//! one costs up to ~0.1 ms on a VM (an idle vCPU halts, and the wake-up is
//! an interrupt through the hypervisor). One task spins at a time; another
//! due meanwhile is woken at its deadline instead.
//! Each caller keeps one static `Timer` with the tuning its deadlines need.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How hard a timer works for its precision (CPU against lateness).
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    /// The timer thread parks until this long before a deadline and spins
    /// the rest (zero: it parks until the deadline). A park with minimal
    /// slack overshoots by tens of microseconds on a 2-core VM; each
    /// microsecond here is spun once per deadline.
    pub spin_ahead: Duration,
    /// The most a woken task spins by itself before its deadline (zero: the
    /// task is woken at its deadline). The timer wakes it early by a high
    /// quantile of the time woken tasks have recently taken to be polled,
    /// plus [`WAKE_MARGIN`], up to this.
    pub task_spin: Duration,
}

impl Tuning {
    /// Parks until each deadline, no spinning: about 0.1 ms late on a 2-core VM.
    pub const PARK: Tuning = Tuning {
        spin_ahead: Duration::ZERO,
        task_spin: Duration::ZERO,
    };
}

/// Added to the learned wake latency when waking a task early: what the
/// tracker's quantile misses of a wake-up's tail.
pub const WAKE_MARGIN: Duration = Duration::from_micros(20);

/// A timer thread and its queue of deadlines.
pub struct Timer {
    name: &'static str,
    tuning: Tuning,
    queue: Mutex<Queue>,
    thread: OnceLock<Thread>,
    /// How long a woken task has recently taken to be polled, ns: a high
    /// quantile (rises fast, decays slowly) the thread wakes ahead by,
    /// within `task_spin`.
    wake_latency_ns: AtomicU64,
    /// A task is spinning to its deadline (so another is not).
    spinning: AtomicBool,
}

struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
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

impl Timer {
    /// A timer whose thread (named `name`) starts on first use.
    pub const fn new(name: &'static str, tuning: Tuning) -> Timer {
        Timer {
            name,
            tuning,
            queue: Mutex::new(Queue {
                heap: BinaryHeap::new(),
                seq: 0,
            }),
            thread: OnceLock::new(),
            wake_latency_ns: AtomicU64::new(50_000),
            spinning: AtomicBool::new(false),
        }
    }

    /// Waits until `at`.
    pub fn sleep_until(&'static self, at: Instant) -> Sleep<'static> {
        Sleep {
            timer: self,
            at,
            registered: None,
            armed: Armed::Own(None),
        }
    }

    /// Waits until `at`. `armed` is the wake time this task last registered
    /// with the timer. A loop that re-creates its wait on every event
    /// registers only when its deadline comes sooner than the armed one (or
    /// that one has passed): a later deadline is picked up when the armed
    /// one wakes the task, so a deadline pushed back on every event keeps one
    /// entry in the queue, not one per event.
    pub fn sleep_until_armed<'a>(
        &'static self,
        at: Instant,
        armed: &'a mut Option<Instant>,
    ) -> Sleep<'a> {
        Sleep {
            timer: self,
            at,
            registered: None,
            armed: Armed::Shared(armed),
        }
    }

    fn thread(&'static self) -> &'static Thread {
        self.thread.get_or_init(|| {
            std::thread::Builder::new()
                .name(self.name.into())
                .spawn(move || self.run())
                .unwrap_or_else(|e| panic!("cannot start the timer thread {}: {e}", self.name))
                .thread()
                .clone()
        })
    }

    fn add(&'static self, at: Instant, waker: Waker) {
        let earliest = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.seq += 1;
            let seq = q.seq;
            let earliest = q.heap.peek().is_none_or(|Reverse(e)| at < e.at);
            q.heap.push(Reverse(Entry { at, seq, waker }));
            earliest
        };
        // The thread sleeps until the old earliest deadline: make it look again.
        if earliest {
            self.thread().unpark();
        }
    }

    /// Tracks a high quantile of the wake latency: a slower wake moves the
    /// estimate an eighth of the way up, a faster one a 128th of the way
    /// down, so it settles where about one wake in 16 is slower (near the
    /// p95), and a busier machine makes the timer wake earlier at once.
    fn learn_wake_latency(&self, seen: Duration) {
        let seen = seen.min(2 * self.tuning.task_spin).as_nanos() as u64;
        let old = self.wake_latency_ns.load(Ordering::Relaxed);
        let new = if seen > old {
            old + (seen - old) / 8
        } else {
            old - (old - seen) / 128
        };
        self.wake_latency_ns.store(new, Ordering::Relaxed);
    }

    fn wake_ahead(&self) -> Duration {
        (Duration::from_nanos(self.wake_latency_ns.load(Ordering::Relaxed)) + WAKE_MARGIN)
            .min(self.tuning.task_spin)
    }

    /// Spins until `at` unless another task is spinning (then `false`).
    fn spin_until(&self, at: Instant) -> bool {
        if self.spinning.swap(true, Ordering::Acquire) {
            return false;
        }
        while Instant::now() < at {
            std::hint::spin_loop();
        }
        self.spinning.store(false, Ordering::Release);
        true
    }

    /// The timer thread: wakes every task whose deadline passed, parks until
    /// shortly before the next one, then spins up to it.
    fn run(&'static self) {
        cut_timer_slack();
        let mut due = Vec::new();
        loop {
            let next = {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
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
            if left > self.tuning.spin_ahead {
                // A sooner deadline added meanwhile unparks this early.
                std::thread::park_timeout(left - self.tuning.spin_ahead);
            } else {
                while Instant::now() < at {
                    std::hint::spin_loop();
                }
            }
        }
    }
}

/// Linux lets a thread set its own timer slack (default 50 µs, which every
/// park would overshoot by) through /proc without privileges. Elsewhere, or
/// if /proc is not mounted, the slack stays (and a spin phase absorbs it).
fn cut_timer_slack() {
    let Ok(link) = std::fs::read_link("/proc/thread-self") else {
        return;
    };
    if let Some(tid) = link.file_name().and_then(|t| t.to_str()) {
        let _ = std::fs::write(format!("/proc/{tid}/timerslack_ns"), "1");
    }
}

enum Armed<'a> {
    Own(Option<Instant>),
    Shared(&'a mut Option<Instant>),
}

impl Armed<'_> {
    fn get(&self) -> Option<Instant> {
        match self {
            Armed::Own(a) => *a,
            Armed::Shared(a) => **a,
        }
    }

    fn set(&mut self, at: Instant) {
        match self {
            Armed::Own(a) => *a = Some(at),
            Armed::Shared(a) => **a = Some(at),
        }
    }
}

/// The future of [`Timer::sleep_until`] and [`Timer::sleep_until_armed`].
pub struct Sleep<'a> {
    timer: &'static Timer,
    at: Instant,
    /// When the timer thread was asked to wake this task, until it did.
    registered: Option<Instant>,
    armed: Armed<'a>,
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let now = Instant::now();
        let timer = self.timer;
        let task_spin = timer.tuning.task_spin;
        if let Some(wake_at) = self.registered {
            if now >= wake_at {
                self.registered = None;
                if !task_spin.is_zero() {
                    timer.learn_wake_latency(now - wake_at);
                }
            }
        }
        let at = self.at;
        if now >= at {
            return Poll::Ready(());
        }
        let wake_at = if at - now <= task_spin {
            if timer.spin_until(at) {
                return Poll::Ready(());
            }
            // Another task spins: be woken at the deadline itself.
            at
        } else {
            at - timer.wake_ahead()
        };
        let covered = self
            .armed
            .get()
            .is_some_and(|armed| armed <= wake_at && armed > now);
        if !covered {
            timer.add(wake_at, cx.waker().clone());
            self.armed.set(wake_at);
            self.registered = Some(wake_at);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static PARK: Timer = Timer::new("test-park", Tuning::PARK);
    static ARMED: Timer = Timer::new("test-armed", Tuning::PARK);
    static SPIN: Timer = Timer::new(
        "test-spin",
        Tuning {
            spin_ahead: Duration::from_micros(60),
            task_spin: Duration::from_micros(60),
        },
    );

    #[tokio::test]
    async fn never_wakes_before_its_deadline_and_always_wakes() {
        for timer in [&PARK, &SPIN] {
            let start = Instant::now();
            let waits = [7u64, 1, 4, 4, 0, 12, 2];
            let handles: Vec<_> = waits
                .iter()
                .map(|&ms| {
                    tokio::spawn(async move {
                        let at = start + Duration::from_millis(ms);
                        timer.sleep_until(at).await;
                        Instant::now() >= at
                    })
                })
                .collect();
            for h in handles {
                assert!(h.await.unwrap(), "{} woke before its deadline", timer.name);
            }
        }
    }

    #[test]
    fn the_learned_wake_latency_rises_at_once_and_falls_slowly() {
        let timer = Timer::new(
            "test-learn",
            Tuning {
                spin_ahead: Duration::ZERO,
                task_spin: Duration::from_micros(300),
            },
        );
        for _ in 0..40 {
            timer.learn_wake_latency(Duration::from_micros(200));
        }
        let up = timer.wake_ahead();
        assert!(up >= Duration::from_micros(200), "{up:?}");
        assert!(
            up <= Duration::from_micros(300),
            "capped by task_spin: {up:?}"
        );
        // A run of fast wakes after slow ones: the slow tail is not forgotten at once.
        for _ in 0..40 {
            timer.learn_wake_latency(Duration::from_micros(10));
        }
        let down = timer.wake_ahead();
        assert!(down < up, "{down:?} vs {up:?}");
        assert!(down > Duration::from_micros(100), "{down:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_due_together_all_wake_on_time_though_only_one_spins() {
        let at = Instant::now() + Duration::from_millis(20);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                tokio::spawn(async move {
                    SPIN.sleep_until(at).await;
                    Instant::now() >= at
                })
            })
            .collect();
        for h in handles {
            assert!(h.await.unwrap(), "woke before its deadline");
        }
        assert!(
            !SPIN.spinning.load(Ordering::Relaxed),
            "the spin flag is released"
        );
    }

    #[tokio::test]
    async fn a_sooner_deadline_added_later_is_not_held_up_by_the_earlier_one() {
        let far = Instant::now() + Duration::from_secs(30);
        let waiting = tokio::spawn(SPIN.sleep_until(far));
        tokio::time::sleep(Duration::from_millis(5)).await;
        let near = Instant::now() + Duration::from_millis(5);
        tokio::time::timeout(Duration::from_secs(5), SPIN.sleep_until(near))
            .await
            .expect("the sooner deadline wakes without waiting for the far one");
        waiting.abort();
    }

    #[tokio::test]
    async fn a_later_deadline_rides_on_the_armed_one_and_still_wakes() {
        let first = Instant::now() + Duration::from_millis(30);
        let later = first + Duration::from_millis(30);
        let mut armed = None;
        let early = tokio::time::timeout(
            Duration::from_millis(1),
            PARK.sleep_until_armed(first, &mut armed),
        )
        .await;
        assert!(early.is_err(), "30 ms cannot pass in 1 ms");
        // Pushed back, as a timeout toxic's deadline is on every chunk: the
        // armed entry wakes the task at `first`, which then arms `later`.
        tokio::time::timeout(
            Duration::from_secs(5),
            PARK.sleep_until_armed(later, &mut armed),
        )
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
        let first = tokio::time::timeout(
            Duration::from_millis(1),
            ARMED.sleep_until_armed(at, &mut armed),
        )
        .await;
        assert!(first.is_err(), "200 ms cannot pass in 1 ms");
        assert_eq!(armed, Some(at));
        tokio::time::timeout(
            Duration::from_millis(1),
            ARMED.sleep_until_armed(at, &mut armed),
        )
        .await
        .expect_err("200 ms cannot pass in 2 ms");
        let queued = ARMED.queue.lock().unwrap().heap.len();
        tokio::time::timeout(
            Duration::from_secs(5),
            ARMED.sleep_until_armed(at, &mut armed),
        )
        .await
        .expect("the first registration wakes the task");
        assert!(Instant::now() >= at);
        assert_eq!(queued, 1, "one entry for one deadline waited on twice");
    }
}
