//! The exit codes of `harness`, in one place (`harness --help` and the
//! README list them), the one mapping of a run's verdict to its code, and
//! the one order that decides which code a command gives when it has
//! several to give (a batch of runs, a comparison, a merged run judged
//! against a baseline). `run`, `compare`, `merge` and `capacity` all use
//! `worse`:
//!
//! 130 > 6 > 3 > 2 > 4 > 7 > 1 > 5 > 0
//!
//! - 130 first: someone stopped the command; nothing it measured is a whole
//!   answer, and a cancelled CI job must look cancelled, not passed.
//! - 6, the harness itself broke: none of its other verdicts can be trusted.
//! - 3, the target or proxy could not be reached: nothing was measured, and
//!   the system under test may be down, which is news about the system.
//! - 2, bad usage: a part of the command was refused; news about the
//!   command line only, so below 3.
//! - 4, invalid: the figures measure the load generator, so any gate (1) or
//!   comparison (7) drawn from them means nothing.
//! - 7, not comparable: the sides did not get the same scenario (a fault
//!   reached one side only), so a side failing its gates may be the effect
//!   of the unequal setup: fix the setup first.
//! - 1, a gate failed (or a regression): a definite no...
//! - 5, inconclusive: ...beats "the noise hides the answer".
//! - 0, pass.

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
/// comparable on". Above a side failing its gates (1), below an invalid side (4).
pub const NOT_COMPARABLE: u8 = 7;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report Ctrl-C);
/// the report is still written, marked interrupted.
pub const INTERRUPTED: u8 = 130;

/// The exit code of a run's verdict: the one mapping every command uses.
pub(crate) fn of_verdict(verdict: crate::summary::Verdict) -> u8 {
    use crate::summary::Verdict;
    match verdict {
        Verdict::Pass => PASS,
        Verdict::GateFailed => GATE_FAILED,
        Verdict::Invalid => INVALID,
        Verdict::Interrupted => INTERRUPTED,
    }
}

/// The more serious of two exit codes, in the order of the module's header
/// (130 > 6 > 3 > 2 > 4 > 7 > 1 > 5 > 0). A code outside the list ranks as
/// the harness's own failure.
pub(crate) fn worse(a: u8, b: u8) -> u8 {
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// The codes from least to most serious.
const ORDER: [u8; 9] = [
    PASS,
    INCONCLUSIVE,
    GATE_FAILED,
    NOT_COMPARABLE,
    INVALID,
    USAGE,
    UNREACHABLE,
    INTERNAL,
    INTERRUPTED,
];

fn rank(code: u8) -> usize {
    let internal = ORDER.iter().position(|&c| c == INTERNAL).unwrap_or(0);
    ORDER.iter().position(|&c| c == code).unwrap_or(internal)
}

/// The exit code of a comparison: the worst of its sides' codes, and 7
/// when its sides did not get the same scenario.
pub(crate) fn of_comparison(sides: impl IntoIterator<Item = u8>, not_comparable: bool) -> u8 {
    let sides = sides.into_iter().fold(PASS, worse);
    match not_comparable {
        true => worse(sides, NOT_COMPARABLE),
        false => sides,
    }
}

/// The exit code of a run stopped by a stop request: Ctrl-C and SIGTERM alike.
pub(crate) fn of_stop(reason: crate::stop::StopReason) -> u8 {
    match reason {
        crate::stop::StopReason::Sigint | crate::stop::StopReason::Sigterm => INTERRUPTED,
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
    fn every_code_has_its_documented_place() {
        // 130 > 6 > 3 > 2 > 4 > 7 > 1 > 5 > 0, as `harness --help` and the README say.
        let documented = [130, 6, 3, 2, 4, 7, 1, 5, 0];
        for (i, &higher) in documented.iter().enumerate() {
            for &lower in &documented[i + 1..] {
                assert_eq!(worse(higher, lower), higher, "{higher} over {lower}");
                assert_eq!(worse(lower, higher), higher, "{higher} over {lower}");
            }
        }
        assert_eq!(
            worse(PASS, 99),
            99,
            "an unknown code is never hidden by a pass"
        );
    }

    #[test]
    fn a_comparison_not_comparable_and_failing_its_gates_exits_7() {
        assert_eq!(of_comparison([PASS, GATE_FAILED], true), NOT_COMPARABLE);
        assert_eq!(of_comparison([PASS, GATE_FAILED], false), GATE_FAILED);
        assert_eq!(of_comparison([PASS, INVALID], true), INVALID);
        assert_eq!(of_comparison([PASS, PASS], false), PASS);
    }

    #[test]
    fn each_verdict_has_one_exit_code() {
        use crate::summary::Verdict;
        assert_eq!(of_verdict(Verdict::Pass), 0);
        assert_eq!(of_verdict(Verdict::GateFailed), 1);
        assert_eq!(of_verdict(Verdict::Invalid), 4);
        assert_eq!(of_verdict(Verdict::Interrupted), 130);
    }

    #[test]
    fn a_stopped_run_exits_130_whatever_stopped_it() {
        for r in [
            crate::stop::StopReason::Sigint,
            crate::stop::StopReason::Sigterm,
        ] {
            assert_eq!(of_stop(r), 130);
        }
    }
}
