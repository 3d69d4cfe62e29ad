//! The harness process's own CPU use and memory, read from /proc once a
//! second, so a report can tell a busy generator from a slow server.

use std::time::Instant;

/// Linux reports CPU time in clock ticks of 1/100 s on every architecture
/// the harness builds for (USER_HZ is fixed at 100 in the kernel's ABI).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds used by this process so far (user + system).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields we need follow its `)`.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// Peak resident set size of this process, bytes (`VmHWM`).
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Turns successive readings into CPU use per interval, in cores.
pub struct CpuMeter {
    last: Option<(Instant, f64)>,
}

impl CpuMeter {
    pub fn new() -> CpuMeter {
        CpuMeter {
            last: cpu_seconds().map(|c| (Instant::now(), c)),
        }
    }

    /// Cores used since the previous call (1.0 = one core busy all the time).
    pub fn sample(&mut self) -> Option<f64> {
        let now = Instant::now();
        let cpu = cpu_seconds()?;
        let used = self
            .last
            .map(|(t, c)| (cpu - c) / now.duration_since(t).as_secs_f64().max(1e-3));
        self.last = Some((now, cpu));
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_loop_shows_as_cpu_use_and_memory_is_nonzero() {
        let mut meter = CpuMeter::new();
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed().as_millis() < 200 {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let used = meter.sample().expect("/proc is readable");
        assert!(used > 0.2, "a spinning thread used {used} cores");
        assert!(peak_rss_bytes() > 1024 * 1024);
    }
}
