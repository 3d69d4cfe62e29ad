//! Failed preparations: a share of them fail (`--prep-failure-rate`, changeable at run time through
//! `PUT /admin/kitchen`); a failed order is written `retrying` with the reason and put back on its
//! station's queue after an exponential backoff (`--retry-backoff-ms`, doubled per attempt); after
//! `--prep-max-attempts` it goes to the dead-letter table with its reason and gives back its slot.
//! The naive profile retries at once and for ever.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc,
    },
    time::Duration,
};

use super::{stations::Ticket, Kitchen};
use crate::{config::ServerConfig, store};

/// Why a simulated preparation fails, as history and the dead-letter table say it.
const REASON: &str = "preparation failed";
/// The longest wait between two attempts, whatever the attempt number.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub struct RetryPolicy {
    /// An `f64` in 0..=1, stored as its bits so that it can change while workers read it.
    failure_rate: AtomicU64,
    /// `None`: no limit (naive).
    max_attempts: Option<u32>,
    /// Zero in the naive profile.
    backoff: Duration,
}

impl RetryPolicy {
    pub fn new(config: &ServerConfig) -> RetryPolicy {
        let naive = config.naive();
        RetryPolicy {
            failure_rate: AtomicU64::new(config.prep_failure_rate.to_bits()),
            max_attempts: (!naive).then_some(config.prep_max_attempts),
            backoff: if naive {
                Duration::ZERO
            } else {
                Duration::from_millis(config.retry_backoff_ms)
            },
        }
    }

    pub fn failure_rate(&self) -> f64 {
        f64::from_bits(self.failure_rate.load(Relaxed))
    }

    /// Sets the share of failing preparations; an error names a value outside 0..1.
    pub fn set_failure_rate(&self, rate: f64) -> Result<(), String> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!("must be between 0 and 1, got {rate}"));
        }
        self.failure_rate.store(rate.to_bits(), Relaxed);
        Ok(())
    }

    pub fn max_attempts(&self) -> Option<u32> {
        self.max_attempts
    }

    pub(super) fn fails(&self) -> bool {
        let rate = self.failure_rate();
        rate > 0.0 && rand::random::<f64>() < rate
    }

    /// The wait before attempt `next` (2 or later): backoff, 2 x backoff, 4 x backoff, ...
    pub fn backoff_before(&self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(16);
        (self.backoff * 2u32.pow(doublings)).min(MAX_BACKOFF)
    }
}

/// The attempt in `ticket` failed: retry later, or bury it in the dead-letter table.
pub(super) async fn failed(kitchen: &Arc<Kitchen>, index: usize, ticket: Ticket) {
    let policy = &kitchen.retry;
    let worker = kitchen.workers[index].name.clone();
    let station = &kitchen.stations[ticket.station];
    let store = kitchen.runtime().store.clone();
    let (id, attempt) = (ticket.order_id.clone(), ticket.attempt);
    if policy.max_attempts.is_some_and(|max| attempt >= max) {
        let name = station.name.clone();
        let buried = store
            .write(move |c| store::dead_letters::bury(c, &id, &name, &worker, attempt, REASON))
            .await;
        match buried {
            Ok(_) => {
                station.dead_letters_total.fetch_add(1, Relaxed);
                kitchen.release(ticket.station);
            }
            Err(e) => {
                tracing::warn!(order_id = %ticket.order_id, error = %e, "could not bury an order")
            }
        }
        return;
    }
    let wait = policy.backoff_before(attempt + 1);
    let of = policy
        .max_attempts
        .map_or_else(|| "no limit".to_owned(), |m| format!("of {m}"));
    let detail = format!(
        "{REASON} (attempt {attempt} {of}); next attempt in {} ms",
        wait.as_millis()
    );
    let written = store
        .write(move |c| store::kitchen::fail(c, &id, &worker, attempt, &detail))
        .await;
    if let Err(e) = written {
        tracing::warn!(order_id = %ticket.order_id, error = %e, "could not record a failed attempt");
    }
    station.retries_total.fetch_add(1, Relaxed);
    let next = Ticket {
        attempt: attempt + 1,
        ..ticket
    };
    let runtime = kitchen.runtime();
    let (tracker, token, kitchen) = (
        runtime.tracker.clone(),
        runtime.token.clone(),
        kitchen.clone(),
    );
    tracker.spawn(async move {
        tokio::select! {
            // Left `retrying` in the store: the next start prepares it again.
            _ = token.cancelled() => {}
            _ = tokio::time::sleep(wait) => kitchen.enqueue(next),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_with_each_attempt_up_to_a_ceiling() {
        let policy = RetryPolicy {
            failure_rate: AtomicU64::new(0f64.to_bits()),
            max_attempts: Some(5),
            backoff: Duration::from_millis(100),
        };
        let waits: Vec<u128> = (2..=5)
            .map(|n| policy.backoff_before(n).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 800]);
        assert_eq!(policy.backoff_before(40), MAX_BACKOFF);
        assert!(policy.set_failure_rate(1.5).is_err());
    }
}
