//! A test hook, for the harness's own tests only: with
//! `HARNESS_TEST_HOLD_REPORT=1` in its environment, a run pauses right after
//! writing its report files (before its last look at the stop request),
//! prints `test hook: report written, holding`, and waits up to 60 s for a
//! stop request. A test can then send SIGTERM "while the report is written"
//! at a moment it knows, instead of sleeping and hoping. Unset, it does nothing.

use std::io::Write;
use std::time::Duration;

/// The environment variable that turns the hook on.
pub(crate) const HOLD_REPORT: &str = "HARNESS_TEST_HOLD_REPORT";

/// Holds the run in its report phase when the hook is on (see the module).
pub(super) fn hold_report(out: &mut dyn Write) {
    if std::env::var_os(HOLD_REPORT).is_none_or(|v| v != "1") {
        return;
    }
    let _ = writeln!(out, "test hook: report written, holding");
    let _ = out.flush();
    let hold = || {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while crate::stop::requested().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // The report phase is synchronous: hand this worker's other tasks (the
    // SIGTERM handler among them) to another thread while it waits.
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(hold),
        _ => hold(),
    }
}
