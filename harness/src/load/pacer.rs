//! The open model's pacer: arrival `k` has a fixed intended start, computed
//! from the stages' rates (linear ramps), so the schedule never waits for the
//! server. Users of the pool take the next arrival, sleep until its time and
//! run it; latency counts from that intended time, so a stalled server shows
//! its stall (no coordinated omission). No queue: the schedule is a formula
//! and a counter, so a slow server cannot make the generator buffer without
//! bound.
//!
//! A shard of a sharded run takes only its own arrivals (`k mod N`), at the
//! same intended times, so the shards' union is the unsharded schedule.

use crate::scenario::Stage;
use crate::shard::Shard;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Debug)]
struct Segment {
    start_s: f64,
    dur_s: f64,
    from: f64,
    to: f64,
    /// Arrivals before this segment.
    before: f64,
}

impl Segment {
    /// Arrivals in the first `t` seconds of the segment.
    fn arrivals(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, self.dur_s);
        self.from * t + (self.to - self.from) * t * t / (2.0 * self.dur_s)
    }

    /// When (seconds into the segment) the `x`-th arrival of the segment falls.
    fn time_of(&self, x: f64) -> f64 {
        let a = (self.to - self.from) / (2.0 * self.dur_s);
        let t = if a.abs() < 1e-12 {
            x / self.from
        } else {
            let disc = (self.from * self.from + 4.0 * a * x).max(0.0);
            (-self.from + disc.sqrt()) / (2.0 * a)
        };
        t.clamp(0.0, self.dur_s)
    }
}

/// The arrival schedule of an open-model run.
#[derive(Debug)]
pub(crate) struct Schedule {
    segments: Vec<Segment>,
    end_s: f64,
    /// This shard's arrivals only; `None` takes every arrival.
    shard: Option<Shard>,
    /// How many of this shard's arrivals were handed out.
    next: AtomicU64,
}

impl Schedule {
    /// Stages ramp linearly from the previous stage's rate (0 before the first).
    /// `shard` restricts the schedule to that shard's arrivals.
    pub(crate) fn new(stages: &[Stage], shard: Option<Shard>) -> Schedule {
        let mut segments = Vec::new();
        let (mut t, mut before, mut prev) = (0.0, 0.0, 0.0);
        for s in stages {
            let dur_s = s.duration.as_secs_f64();
            let seg = Segment {
                start_s: t,
                dur_s,
                from: prev,
                to: s.target,
                before,
            };
            before += seg.arrivals(dur_s);
            t += dur_s;
            prev = s.target;
            segments.push(seg);
        }
        Schedule {
            segments,
            end_s: t,
            shard,
            next: AtomicU64::new(0),
        }
    }

    pub(crate) fn end_s(&self) -> f64 {
        self.end_s
    }

    /// The intended start of arrival `k` (0-based), seconds from the start;
    /// `None` when it falls after the end.
    pub(crate) fn time_of(&self, k: u64) -> Option<f64> {
        let k = k as f64;
        let seg = self
            .segments
            .iter()
            .find(|s| k < s.before + s.arrivals(s.dur_s))?;
        Some(seg.start_s + seg.time_of(k - seg.before))
    }

    /// How many of this schedule's arrivals (this shard's, when sharded)
    /// fall before `t` seconds.
    pub(crate) fn due_before(&self, t: f64) -> u64 {
        let Some(seg) = self.segments.iter().rev().find(|s| s.start_s <= t) else {
            return 0;
        };
        let all = (seg.before + seg.arrivals(t - seg.start_s)).ceil() as u64;
        self.shard.map_or(all, |s| s.share(all))
    }

    /// Takes the next arrival: its number in the whole run and its intended
    /// start, or `None` once the schedule is over.
    pub(crate) fn take(&self) -> Option<(u64, f64)> {
        let j = self.next.fetch_add(1, Ordering::Relaxed);
        let k = self.shard.map_or(j, |s| s.nth(j));
        self.time_of(k).map(|t| (k, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stage(secs: u64, rate: f64) -> Stage {
        Stage {
            name: String::new(),
            duration: Duration::from_secs(secs),
            target: rate,
        }
    }

    #[test]
    fn a_constant_rate_spaces_arrivals_evenly() {
        // A 0-length ramp is not allowed, so reach 100/s in a short stage first.
        let s = Schedule::new(&[stage(1, 100.0), stage(10, 100.0)], None);
        assert_eq!(s.due_before(1.0), 50);
        let t = s.time_of(50 + 100).unwrap();
        assert!((t - 2.0).abs() < 1e-9, "{t}");
        assert_eq!(s.due_before(11.0), 50 + 1000);
        assert!(s.time_of(1050).is_none());
    }

    #[test]
    fn a_ramp_starts_slow_and_ends_at_its_rate() {
        let s = Schedule::new(&[stage(10, 200.0)], None);
        // Integral of a 0→200/s ramp over 10 s is 1000 arrivals.
        assert_eq!(s.due_before(10.0), 1000);
        assert_eq!(s.due_before(5.0), 250);
        let t = s.time_of(250).unwrap();
        assert!((t - 5.0).abs() < 1e-6, "{t}");
        // Times only go forward.
        let times: Vec<f64> = (0..1000).map(|k| s.time_of(k).unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_ramp_down_and_a_pause_hold_no_arrivals_after_zero() {
        let s = Schedule::new(&[stage(2, 100.0), stage(2, 0.0), stage(2, 0.0)], None);
        assert_eq!(s.due_before(6.0), s.due_before(4.0));
        assert_eq!(s.due_before(4.0), 200);
        assert!(s.time_of(200).is_none());
    }

    #[test]
    fn taking_hands_out_each_arrival_once() {
        let s = Schedule::new(&[stage(1, 10.0)], None);
        let taken: Vec<u64> = std::iter::from_fn(|| s.take().map(|(k, _)| k)).collect();
        assert_eq!(taken, (0..5).collect::<Vec<_>>());
    }

    #[test]
    fn the_shards_schedules_together_are_the_whole_schedule() {
        let stages = [stage(3, 50.0), stage(4, 120.0), stage(2, 0.0)];
        let whole = Schedule::new(&stages, None);
        let all: Vec<(u64, f64)> = std::iter::from_fn(|| whole.take()).collect();
        let count = 3;
        let mut union: Vec<(u64, f64)> = Vec::new();
        for index in 0..count {
            let s = Schedule::new(&stages, Some(Shard { index, count }));
            let mine: Vec<(u64, f64)> = std::iter::from_fn(|| s.take()).collect();
            assert!(mine.iter().all(|(k, _)| k % 3 == u64::from(index)));
            assert_eq!(s.due_before(9.0), mine.len() as u64);
            union.extend(mine);
        }
        union.sort_by_key(|(k, _)| *k);
        assert_eq!(union, all);
    }
}
