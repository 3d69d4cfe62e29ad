//! The exit codes of `harness`, in one place (`harness --help` and the
//! README list them), and which of two wins when a command made several runs.

/// Every gate held (or a comparison was written).
pub const PASS: u8 = 0;
/// An SLO gate failed, or the run is worse than its baseline.
pub const GATE_FAILED: u8 = 1;
/// Bad usage or a bad scenario file: nothing ran.
pub const USAGE: u8 = 2;
/// The target or the fault proxy could not be started or reached, or the
/// target's TLS certificate was refused (checked before any load).
pub const UNREACHABLE: u8 = 3;
/// The run is invalid: the load generator could not keep its schedule.
pub const INVALID: u8 = 4;
/// Run-to-run noise hides whether the run is worse than its baseline.
pub const INCONCLUSIVE: u8 = 5;
/// The harness itself failed (the engine broke, a report could not be
/// written): a fault of the tool, not of the target.
pub const INTERNAL: u8 = 6;
/// A comparison whose sides did not get the same scenario (a fault or a
/// setting reached one side only): compare.md names what, under "not
/// comparable on". Any side failing its gates is reported as 1 instead.
pub const NOT_COMPARABLE: u8 = 7;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report Ctrl-C);
/// the report is still written, marked interrupted.
pub const INTERRUPTED: u8 = 130;

/// The exit code of a run's verdict: the one mapping every command uses.
pub fn of_verdict(verdict: crate::summary::Verdict) -> u8 {
    use crate::summary::Verdict;
    match verdict {
        Verdict::Pass => PASS,
        Verdict::GateFailed => GATE_FAILED,
        Verdict::Invalid => INVALID,
        Verdict::Interrupted => INTERRUPTED,
    }
}

/// The more serious of two exit codes: interrupted, then a run that could not
/// happen (3, 6), invalid (4), gate failed (1), inconclusive (5), pass (0).
pub fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        INTERRUPTED => 6,
        UNREACHABLE | INTERNAL => 5,
        INVALID => 4,
        GATE_FAILED => 3,
        NOT_COMPARABLE | INCONCLUSIVE => 2,
        PASS => 0,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_serious_exit_code_wins() {
        assert_eq!(worse(0, 1), 1);
        assert_eq!(worse(1, 4), 4);
        assert_eq!(worse(4, 1), 4);
        assert_eq!(worse(INCONCLUSIVE, 1), 1);
        assert_eq!(worse(1, INCONCLUSIVE), 1);
        assert_eq!(worse(0, INCONCLUSIVE), INCONCLUSIVE);
        assert_eq!(worse(4, INTERRUPTED), INTERRUPTED);
    }

    #[test]
    fn each_verdict_has_one_exit_code() {
        use crate::summary::Verdict;
        assert_eq!(of_verdict(Verdict::Pass), 0);
        assert_eq!(of_verdict(Verdict::GateFailed), 1);
        assert_eq!(of_verdict(Verdict::Invalid), 4);
        assert_eq!(of_verdict(Verdict::Interrupted), 130);
    }
}
