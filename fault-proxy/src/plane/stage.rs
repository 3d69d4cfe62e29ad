//! One toxic's per-connection state and its effect on the timing of data: when
//! each piece of a chunk may leave the proxy. Pure functions of time, so the
//! semantics are unit-tested without sockets.

use crate::ToxicKind;
use bytes::Bytes;
use rand::Rng;
use std::time::Duration;
use tokio::time::Instant;

/// A toxic as one connection sees it: whether its toxicity draw hit, and the
/// state it keeps between chunks.
#[derive(Debug, Clone)]
pub(crate) struct Stage {
    /// Changes whenever the toxic is added or updated (the draw is redone then).
    pub id: u64,
    pub name: String,
    pub kind: ToxicKind,
    /// Drawn once per connection (and again on update), as Toxiproxy does.
    pub active: bool,
    /// Latency/slicer: when its previous piece left; bandwidth: when the link is free again.
    pub busy_until: Option<Instant>,
    /// limit_data: bytes already let through.
    pub sent: u64,
    /// timeout > 0: when the connection is closed unless data resets the timer.
    pub deadline: Option<Instant>,
}

impl Stage {
    pub fn new(id: u64, name: &str, kind: ToxicKind, toxicity: f32, now: Instant) -> Stage {
        let active = toxicity >= 1.0 || rand::rng().random::<f32>() < toxicity;
        let deadline = match kind {
            ToxicKind::Timeout { timeout } if timeout > 0 && active => Some(now + ms(timeout)),
            _ => None,
        };
        Stage {
            id,
            name: name.into(),
            kind,
            active,
            busy_until: None,
            sent: 0,
            deadline,
        }
    }

    /// Shapes the timing of data: latency, bandwidth or slicer. Other toxics
    /// (gates and slow_close) leave data alone here.
    pub fn is_timing(&self) -> bool {
        matches!(
            self.kind,
            ToxicKind::Latency { .. } | ToxicKind::Bandwidth { .. } | ToxicKind::Slicer { .. }
        )
    }

    /// Times `pieces` (each `(ready, bytes)`, in order: when the toxic before
    /// let it go), returning when each piece may leave this toxic.
    pub fn time(&mut self, pieces: Vec<(Instant, Bytes)>) -> Vec<(Instant, Bytes)> {
        match self.kind {
            ToxicKind::Latency { latency, jitter } => {
                // Counted from when the piece left the toxic before (its
                // arrival at the proxy for the first toxic), as Toxiproxy's
                // chunk timestamps are: a steady stream is delayed by the
                // latency, not by its sum, and two latency toxics add up.
                pieces
                    .into_iter()
                    .map(|(ready, bytes)| {
                        let due = ready + draw_delay(latency, jitter);
                        let at = due.max(self.busy_until.unwrap_or(due));
                        self.busy_until = Some(at);
                        (at, bytes)
                    })
                    .collect()
            }
            ToxicKind::Bandwidth { rate: 0 } => pieces,
            ToxicKind::Bandwidth { rate } => {
                // rate is KB/s = bytes per ms; a piece leaves once it has been
                // "transmitted", in slices of at most 100 ms of data so a slow link
                // trickles rather than stalls.
                let slice = rate.saturating_mul(100).max(1) as usize;
                let mut out = Vec::with_capacity(pieces.len());
                for (ready, mut bytes) in pieces {
                    while !bytes.is_empty() {
                        let part = bytes.split_to(slice.min(bytes.len()));
                        let start = ready.max(self.busy_until.unwrap_or(ready));
                        let end = start + transmit_time(part.len(), rate);
                        self.busy_until = Some(end);
                        out.push((end, part));
                    }
                }
                out
            }
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay,
            } => {
                let gap = Duration::from_micros(delay);
                let mut out = Vec::new();
                for (ready, bytes) in pieces {
                    let mut at = ready.max(self.busy_until.unwrap_or(ready));
                    let cuts = slice_points(bytes.len(), average_size, size_variation);
                    let mut start = 0;
                    for end in cuts {
                        out.push((at, bytes.slice(start..end)));
                        start = end;
                        at += gap;
                    }
                    self.busy_until = Some(at);
                }
                out
            }
            _ => pieces,
        }
    }
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// latency ± jitter, uniformly drawn, never below zero.
pub(crate) fn draw_delay(latency: u64, jitter: u64) -> Duration {
    if jitter == 0 {
        return ms(latency);
    }
    let spread = rand::rng().random_range(0..jitter.saturating_mul(2));
    ms(latency.saturating_add(spread).saturating_sub(jitter))
}

/// How long `len` bytes take at `rate` bytes per ms, exact to the nanosecond.
fn transmit_time(len: usize, rate: u64) -> Duration {
    let nanos = (len as u128 * 1_000_000) / rate.max(1) as u128;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Cut points (slice ends) for a chunk of `len` bytes: halves recursively with
/// a random offset until each slice is within `variation` of `average`, so
/// slices vary evenly along the chunk (Toxiproxy's slicer algorithm).
pub(crate) fn slice_points(len: usize, average: u64, variation: u64) -> Vec<usize> {
    let average = average.max(1) as usize;
    let variation = variation as usize;
    let mut ends = Vec::new();
    let mut stack = vec![(0usize, len)];
    let mut rng = rand::rng();
    while let Some((start, end)) = stack.pop() {
        let size = end - start;
        if size <= average + variation || size < 2 {
            if size > 0 {
                ends.push(end);
            }
            continue;
        }
        let offset = if variation == 0 {
            0
        } else {
            rng.random_range(0..variation * 2) as isize - variation as isize
        };
        let mid = (start + size / 2)
            .saturating_add_signed(offset)
            .clamp(start + 1, end - 1);
        // Right half first so the left one is popped (and emitted) first.
        stack.push((mid, end));
        stack.push((start, mid));
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(kind: ToxicKind) -> Stage {
        Stage::new(1, "t", kind, 1.0, Instant::now())
    }

    #[test]
    fn latency_is_counted_from_each_chunks_own_arrival() {
        let mut s = stage(ToxicKind::Latency {
            latency: 100,
            jitter: 0,
        });
        let t0 = Instant::now();
        let mut last = t0;
        for i in 0..50u64 {
            let arrival = t0 + ms(i * 10);
            let out = s.time(vec![(arrival, Bytes::from_static(b"x"))]);
            assert_eq!(out[0].0, arrival + ms(100), "chunk {i}");
            last = out[0].0;
        }
        assert_eq!(last, t0 + ms(590));
    }

    #[test]
    fn two_latency_toxics_in_a_chain_add_up() {
        let mut first = stage(ToxicKind::Latency {
            latency: 100,
            jitter: 0,
        });
        let mut second = stage(ToxicKind::Latency {
            latency: 300,
            jitter: 0,
        });
        let t0 = Instant::now();
        let out = second.time(first.time(vec![(t0, Bytes::from_static(b"x"))]));
        assert_eq!(out[0].0, t0 + ms(400));
    }

    #[test]
    fn bandwidth_spreads_a_large_chunk_at_the_exact_rate() {
        let mut s = stage(ToxicKind::Bandwidth { rate: 100 }); // 100 KB/s
        let t0 = Instant::now();
        let out = s.time(vec![(t0, Bytes::from(vec![0u8; 50_000]))]);
        assert_eq!(out.len(), 5, "slices of 100 ms of data");
        assert_eq!(out.iter().map(|p| p.1.len()).sum::<usize>(), 50_000);
        assert_eq!(out.last().unwrap().0, t0 + ms(500));
    }

    #[test]
    fn a_huge_bandwidth_or_chunk_does_not_overflow() {
        let mut s = stage(ToxicKind::Bandwidth { rate: u64::MAX });
        let t0 = Instant::now();
        let out = s.time(vec![(t0, Bytes::from(vec![0u8; 1000]))]);
        assert_eq!(out.len(), 1);
        assert!(out[0].0 >= t0);
    }

    #[test]
    fn slices_cover_the_chunk_in_order_within_the_variation() {
        for _ in 0..50 {
            let ends = slice_points(10_000, 100, 20);
            assert_eq!(*ends.last().unwrap(), 10_000);
            let mut start = 0;
            for end in ends {
                assert!(end > start && end - start <= 120, "slice {start}..{end}");
                start = end;
            }
        }
        assert_eq!(
            slice_points(1000, 10, 0).len(),
            128,
            "no variation still splits"
        );
    }

    #[test]
    fn toxicity_zero_never_applies_and_one_always_does() {
        let kind = ToxicKind::Latency {
            latency: 1,
            jitter: 0,
        };
        assert!((0..100).all(|i| !Stage::new(i, "t", kind.clone(), 0.0, Instant::now()).active));
        assert!((0..100).all(|i| Stage::new(i, "t", kind.clone(), 1.0, Instant::now()).active));
        let hits = (0..2000)
            .filter(|i| Stage::new(*i, "t", kind.clone(), 0.3, Instant::now()).active)
            .count();
        assert!((400..800).contains(&hits), "{hits} of 2000 at 30 %");
    }
}
