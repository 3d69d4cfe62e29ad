//! A circuit breaker for the payment gateway: after `threshold` consecutive failures (errors or
//! timeouts; a decline is a healthy answer) it opens and refuses calls for `cooldown`, then lets one
//! trial call through (half-open): success closes it, failure opens it again.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::metrics::Metrics;

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_running: bool },
}

pub(crate) struct Breaker {
    state: Mutex<State>,
    threshold: u32,
    cooldown: Duration,
    metrics: Arc<Metrics>,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration, metrics: Arc<Metrics>) -> Self {
        Self {
            state: Mutex::new(State::Closed { failures: 0 }),
            threshold,
            cooldown,
            metrics,
        }
    }

    /// `Ok` if a call may go out now; `Err(wait)` while the circuit is open.
    pub(crate) fn permit(&self) -> Result<(), Duration> {
        let mut state = self.state.lock().expect("breaker lock");
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(until - now);
                }
                *state = State::HalfOpen {
                    trial_running: true,
                };
                self.metrics.gateway_circuit_state.set(2.0);
                Ok(())
            }
            State::HalfOpen {
                trial_running: true,
            } => Err(Duration::from_secs(1)),
            State::HalfOpen {
                trial_running: false,
            } => {
                *state = State::HalfOpen {
                    trial_running: true,
                };
                Ok(())
            }
        }
    }

    /// A permitted call was not made after all (the order could not be claimed): frees the trial slot.
    pub(crate) fn cancel_trial(&self) {
        let mut state = self.state.lock().expect("breaker lock");
        if let State::HalfOpen {
            trial_running: true,
        } = *state
        {
            *state = State::HalfOpen {
                trial_running: false,
            };
        }
    }

    pub(crate) fn record(&self, healthy: bool) {
        let mut state = self.state.lock().expect("breaker lock");
        let next = match (*state, healthy) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (_, false) => State::Open {
                until: Instant::now() + self.cooldown,
            },
        };
        let gauge = match next {
            State::Closed { .. } => 0.0,
            State::Open { .. } => 1.0,
            State::HalfOpen { .. } => 2.0,
        };
        if matches!(next, State::Open { .. }) && !matches!(*state, State::Open { .. }) {
            tracing::warn!(
                cooldown_ms = self.cooldown.as_millis() as u64,
                "payment circuit opened"
            );
        }
        *state = next;
        self.metrics.gateway_circuit_state.set(gauge);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(cooldown_ms: u64) -> Breaker {
        Breaker::new(3, Duration::from_millis(cooldown_ms), Arc::default())
    }

    #[test]
    fn it_opens_after_consecutive_failures_only() {
        let b = breaker(60_000);
        b.record(false);
        b.record(false);
        b.record(true);
        b.record(false);
        b.record(false);
        assert!(b.permit().is_ok(), "a success in between resets the count");
        b.record(false);
        assert!(b.permit().is_err());
    }

    #[test]
    fn after_the_cooldown_one_trial_goes_through_and_decides() {
        let b = breaker(1);
        for _ in 0..3 {
            b.record(false);
        }
        std::thread::sleep(Duration::from_millis(5));
        assert!(b.permit().is_ok(), "trial call");
        assert!(b.permit().is_err(), "only one trial at a time");
        b.record(true);
        assert!(b.permit().is_ok());
    }
}
