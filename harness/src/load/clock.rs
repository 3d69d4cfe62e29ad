//! The open model's timer for its arrivals (see the `precise-timer` crate).
//! tokio's timer would start every arrival 1-2 ms late, and that lag would be
//! counted as the server's latency (latency runs from the intended start).

use precise_timer::{Sleep, Timer, Tuning};
use std::time::{Duration, Instant};

/// The timer thread parks until 60 µs before an arrival and spins the rest;
/// the woken task spins at most 60 µs itself (60 µs at 2,000 arrivals/s is
/// about 5 % of a core).
static PACER: Timer = Timer::new(
    "harness-pacer",
    Tuning {
        spin_ahead: Duration::from_micros(60),
        task_spin: Duration::from_micros(60),
    },
);

/// Waits until `at`, to within tens of microseconds.
pub(crate) fn sleep_until(at: Instant) -> Sleep<'static> {
    PACER.sleep_until(at)
}
