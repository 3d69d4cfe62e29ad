//! The bounds on the numbers a scenario file or the command line gives, each
//! with the reason a value past it is refused (rather than overflowing,
//! exhausting memory or silently meaning something else).

/// Concurrent users (closed model) or the open model's pool: each user is a
/// task with its own state, so a value past this would exhaust memory
/// before the first request instead of measuring anything.
pub(crate) const MAX_USERS: u64 = 1_000_000;

/// Arrivals per second: far above what one load generator can start on
/// schedule, so a larger rate is a typo rather than a plan.
pub(crate) const MAX_RATE: f64 = 1_000_000.0;

/// A flow's weight is a share of the mix; bounded so the weights of many
/// flows still add up without overflow.
pub(crate) const MAX_WEIGHT: u32 = 1_000_000;

/// Runs of one command (`--repeat`): each run is a full run of the scenario.
pub(crate) const MAX_REPEAT: usize = 1000;

/// Steps of one capacity search (`--max-steps`): doubling from the start rate,
/// 100 steps reach any rate long before they run out.
pub(crate) const MAX_STEPS: usize = 100;

/// `users`, within its bound.
pub(crate) fn users(n: u64) -> Result<(), String> {
    match n <= MAX_USERS {
        true => Ok(()),
        false => Err(format!(
            "{n} users is more than one load generator can hold (at most {MAX_USERS}: each user is a task with its own state); \
             split a larger load over several processes with --shard I/N"
        )),
    }
}

/// An arrival rate, within its bound.
pub(crate) fn rate(r: f64) -> Result<(), String> {
    match r.is_finite() && (0.0..=MAX_RATE).contains(&r) {
        true => Ok(()),
        false if r.is_finite() && r > MAX_RATE => Err(format!(
            "{r} arrivals/s is more than one load generator can start on schedule (at most {MAX_RATE}/s); \
             split a larger load over several processes with --shard I/N"
        )),
        false => Err("the rate must be a number of arrivals per second, 0 or more".into()),
    }
}

/// A flow's weight, within its bound.
pub(crate) fn weight(w: u32) -> Result<(), String> {
    match (1..=MAX_WEIGHT).contains(&w) {
        true => Ok(()),
        false if w == 0 => Err("a weight must be at least 1".into()),
        false => Err(format!(
            "a weight is a share of the mix, at most {MAX_WEIGHT} (e.g. 3 and 1 for three quarters and one quarter)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bound_says_why() {
        assert!(users(MAX_USERS).is_ok());
        assert!(users(10_000_000_000).unwrap_err().contains("--shard"));
        assert!(rate(0.0).is_ok());
        assert!(rate(1e300).unwrap_err().contains("on schedule"));
        assert!(rate(f64::NAN).unwrap_err().contains("0 or more"));
        assert!(rate(-1.0).is_err());
        assert!(weight(0).unwrap_err().contains("at least 1"));
        assert!(weight(u32::MAX).unwrap_err().contains("share"));
        assert!(weight(3).is_ok());
    }
}
