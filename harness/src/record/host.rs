//! The whole machine's CPU beside the generator's own: per second, how busy
//! all its cores were (steal included), the share the hypervisor stole, and
//! the run queue. A generator can keep its schedule on a host with no CPU
//! left, and then every latency it measures includes the host's queueing
//! (the server, the generator and whatever else runs there wait for a core).
//!
//! The rule: a second is saturated when the host's cores were at least
//! [`SATURATED_BUSY`] busy; the run is host-saturated when at least
//! [`SATURATED_SHARE`] of its seconds, and at least [`MIN_SATURATED_SECONDS`]
//! of them, were.

use serde::{Deserialize, Serialize};

/// A second counts as saturated at this share of all cores busy (steal included).
pub(crate) const SATURATED_BUSY: f64 = 0.90;

/// The run counts as host-saturated when this share of its seconds were saturated...
pub(crate) const SATURATED_SHARE: f64 = 0.10;

/// ...and at least this many: one busy second (a build starting) is noise.
pub(crate) const MIN_SATURATED_SECONDS: usize = 2;

/// One second of the host's CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct HostSecond {
    /// Share of all cores busy (user, nice, system, irq, softirq, steal), 0..=1.
    pub(crate) busy: f64,
    /// Share of all cores the hypervisor gave to other guests, 0..=1.
    pub(crate) steal: f64,
    /// Threads runnable at the end of the second (`procs_running`).
    pub(crate) run_queue: u32,
    /// The kernel's one-minute load average at the end of the second.
    pub(crate) load_1m: f64,
}

/// How much of the run the host was saturated, when it was by the rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct HostSaturation {
    pub(crate) saturated_seconds: usize,
    pub(crate) seconds: usize,
    /// `saturated_seconds / seconds`.
    pub(crate) share: f64,
}

/// The run's host saturation by the rule above, or `None` on a quiet host
/// (or when the host could not be read).
pub(crate) fn host_saturation(seconds: &[HostSecond]) -> Option<HostSaturation> {
    let saturated = seconds.iter().filter(|s| s.busy >= SATURATED_BUSY).count();
    if seconds.is_empty() || saturated < MIN_SATURATED_SECONDS {
        return None;
    }
    let share = saturated as f64 / seconds.len() as f64;
    (share >= SATURATED_SHARE).then_some(HostSaturation {
        saturated_seconds: saturated,
        seconds: seconds.len(),
        share,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(busy: f64) -> HostSecond {
        HostSecond {
            busy,
            steal: 0.0,
            run_queue: 1,
            load_1m: 0.5,
        }
    }

    #[test]
    fn a_quiet_host_is_not_saturated() {
        // A host with room left every second, even a fairly busy one.
        let quiet: Vec<HostSecond> = [0.2, 0.45, 0.6, 0.85, 0.3, 0.89, 0.1]
            .into_iter()
            .map(second)
            .collect();
        assert_eq!(host_saturation(&quiet), None);
        assert_eq!(host_saturation(&[]), None);
    }

    #[test]
    fn one_busy_second_is_noise_not_saturation() {
        let mut seconds = vec![second(0.3); 4];
        seconds.push(second(1.0));
        assert_eq!(host_saturation(&seconds), None, "1 of 5 s at 100 %");
    }

    #[test]
    fn a_host_busy_for_a_tenth_of_the_run_is_saturated() {
        let mut seconds = vec![second(0.4); 18];
        seconds.extend([second(0.95), second(0.9)]);
        let s = host_saturation(&seconds).expect("2 of 20 s at >= 90 %");
        assert_eq!((s.saturated_seconds, s.seconds), (2, 20));
        assert!((s.share - 0.10).abs() < 1e-9);
        // 2 of 21 seconds is under a tenth.
        seconds.push(second(0.5));
        assert_eq!(host_saturation(&seconds), None);
    }
}
