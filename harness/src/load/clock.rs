//! The open model's timer for its arrivals (see the `precise-timer` crate).
//! tokio's timer would start every arrival 1-2 ms late, and that lag would be
//! counted as the server's latency (latency runs from the intended start).

use precise_timer::{Sleep, Timer, Tuning};
use std::time::{Duration, Instant};

/// The timer thread parks until each arrival's wake-up (no spinning: its
/// overshoot is part of the wake latency it learns) and wakes the arrival's
/// task early by that latency's recent tail, up to 300 µs; the task spins
/// the rest on its worker, so it is running when its time comes instead of
/// waiting to be woken. Waking a parked tokio worker on a 2-core VM takes up
/// to ~0.1 ms, more with the timer's own overshoot; the spin costs about
/// the difference between that tail and a typical wake, per arrival.
static PACER: Timer = Timer::new(
    "harness-pacer",
    Tuning {
        spin_ahead: Duration::ZERO,
        task_spin: Duration::from_micros(300),
    },
);

/// Waits until `at`, to within tens of microseconds.
pub(crate) fn sleep_until(at: Instant) -> Sleep<'static> {
    PACER.sleep_until(at)
}
