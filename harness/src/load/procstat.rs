//! The harness process's own CPU use and memory, and the whole host's CPU,
//! read from /proc once a second, so a report can tell a busy generator or a
//! busy machine from a slow server.

use crate::record::HostSecond;
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
pub(crate) fn peak_rss_bytes() -> u64 {
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
pub(crate) struct CpuMeter {
    last: Option<(Instant, f64)>,
}

impl CpuMeter {
    pub(crate) fn new() -> CpuMeter {
        CpuMeter {
            last: cpu_seconds().map(|c| (Instant::now(), c)),
        }
    }

    /// Cores used since the previous call (1.0 = one core busy all the time).
    pub(crate) fn sample(&mut self) -> Option<f64> {
        let now = Instant::now();
        let cpu = cpu_seconds()?;
        let used = self
            .last
            .map(|(t, c)| (cpu - c) / now.duration_since(t).as_secs_f64().max(1e-3));
        self.last = Some((now, cpu));
        used
    }
}

/// The host's CPU counters: (busy, steal, all) in ticks over every core,
/// from the first (`cpu `) line of /proc/stat, and `procs_running`.
fn host_ticks() -> Option<(u64, u64, u64, u32)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_stat(&stat)
}

fn parse_stat(stat: &str) -> Option<(u64, u64, u64, u32)> {
    let cpu = stat.lines().find(|l| l.starts_with("cpu "))?;
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let t: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = t[..] else {
        return None;
    };
    let busy = user + nice + system + irq + softirq + steal;
    let running = stat
        .lines()
        .find_map(|l| l.strip_prefix("procs_running "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some((busy, steal, busy + idle + iowait, running))
}

/// The one-minute load average from /proc/loadavg.
fn load_1m() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Turns successive readings of /proc/stat into the host's CPU per interval.
pub(crate) struct HostMeter {
    last: Option<(u64, u64, u64)>,
}

impl HostMeter {
    pub(crate) fn new() -> HostMeter {
        HostMeter {
            last: host_ticks().map(|(b, s, a, _)| (b, s, a)),
        }
    }

    /// The host's CPU since the previous call; `None` without /proc, or
    /// when no tick passed.
    pub(crate) fn sample(&mut self) -> Option<HostSecond> {
        let (busy, steal, all, running) = host_ticks()?;
        let last = self.last.replace((busy, steal, all))?;
        let span = all.checked_sub(last.2).filter(|s| *s > 0)? as f64;
        Some(HostSecond {
            busy: (busy.saturating_sub(last.0) as f64 / span).min(1.0),
            steal: (steal.saturating_sub(last.1) as f64 / span).min(1.0),
            run_queue: running,
            load_1m: load_1m(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_counters_are_read_from_proc_stat() {
        let stat = "cpu  100 5 50 800 20 3 2 10 0 0\ncpu0 50 2 25 400 10 1 1 5 0 0\n\
                    intr 1\nprocs_running 3\nprocs_blocked 0\n";
        assert_eq!(parse_stat(stat), Some((170, 10, 990, 3)));
        assert_eq!(parse_stat("cpu0 1 2 3\n"), None);
    }

    #[test]
    fn the_host_meter_sees_this_process_spinning() {
        let mut meter = HostMeter::new();
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed().as_millis() < 300 {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let host = meter.sample().expect("/proc/stat is readable");
        // One core of this machine's was busy the whole time, whatever else ran.
        let stat = std::fs::read_to_string("/proc/stat").unwrap();
        let cores = stat
            .lines()
            .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .count() as f64;
        assert!(host.busy >= 0.8 / cores, "{host:?}");
        assert!(host.run_queue >= 1, "{host:?}");
    }

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
