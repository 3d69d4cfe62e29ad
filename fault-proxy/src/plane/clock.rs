//! The toxics' timer (see the `precise-timer` crate): tokio's timer rounds
//! every deadline up to its next millisecond tick, so a 100 ms latency toxic
//! on it lasts 101-102 ms; Toxiproxy's timers do not drift like that. This
//! one parks until each deadline (no spinning: a proxy may hold thousands of
//! delayed chunks) and wakes the task about 0.1 ms after it on a 2-core VM.

use precise_timer::{Sleep, Timer, Tuning};
use std::time::Instant;

static TIMER: Timer = Timer::new("fault-proxy-timer", Tuning::PARK);

/// Waits until `at`. `armed` is the deadline this task last registered: a
/// loop that re-creates its wait on every chunk registers only when its
/// deadline comes sooner than the armed one, so a deadline pushed back on
/// every chunk (a timeout toxic) keeps one entry in the queue.
pub(crate) fn sleep_until(at: Instant, armed: &mut Option<Instant>) -> Sleep<'_> {
    TIMER.sleep_until_armed(at, armed)
}
