//! The stop request: why the process's runs end before their plan, recorded
//! once (the first request wins) and read by every phase that must know —
//! the load engine to stop its users, the run when it records what it
//! measured, the report when it is written. It is the single source of truth
//! for "interrupted": nothing samples a signal on a timer.
//!
//! Ctrl-C (SIGINT) and SIGTERM are its reasons (both exit 130, see
//! `crate::exit::of_stop`). A run aborted by a window gate ends that run only,
//! not the process, so it is not a stop request: it goes through the same
//! stop path of the load engine by its own signal (`crate::load::AbortSignal`).

use serde::{Deserialize, Serialize};
use std::sync::{LazyLock, Mutex};
use tokio_util::sync::CancellationToken;

/// Why a run stopped before its planned end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Ctrl-C in the terminal.
    Sigint,
    /// `kill`, a cancelled CI job, a pod being stopped.
    Sigterm,
}

impl StopReason {
    /// What stopped the run, for a sentence: "stopped by SIGTERM".
    pub(crate) fn describe(self) -> &'static str {
        match self {
            StopReason::Sigint => "stopped by Ctrl-C (SIGINT)",
            StopReason::Sigterm => "stopped by SIGTERM",
        }
    }
}

/// The process's one stop request.
struct Request {
    reason: Mutex<Option<StopReason>>,
    /// Cancelled when the request is recorded, for whoever waits on it.
    token: CancellationToken,
}

static REQUEST: LazyLock<Request> = LazyLock::new(|| Request {
    reason: Mutex::new(None),
    token: CancellationToken::new(),
});

/// Asks the current (and any later) run of this process to stop. The first
/// request is the one recorded; returns whether this one was. goose's
/// killswitch is pulled too, so its users stop (an attack starting later
/// clears it: the load engine pulls it again while the request stands).
pub(crate) fn request(reason: StopReason) -> bool {
    let recorded = {
        let mut slot = REQUEST.reason.lock().unwrap_or_else(|e| e.into_inner());
        match *slot {
            Some(_) => false,
            None => {
                *slot = Some(reason);
                true
            }
        }
    };
    REQUEST.token.cancel();
    goose::trigger_killswitch(reason.describe());
    recorded
}

/// The stop request, if one was made. A run is interrupted exactly when this
/// is `Some` at the moment it is recorded (and its report re-checks it).
pub(crate) fn requested() -> Option<StopReason> {
    *REQUEST.reason.lock().unwrap_or_else(|e| e.into_inner())
}

/// Completes when a stop is requested (at once if one already was).
pub(crate) async fn wait() {
    REQUEST.token.cancelled().await;
}

/// Routes Ctrl-C and SIGTERM into [`request`] for the whole life of the
/// process. Ctrl-C goes through a `ctrlc` handler installed before goose's
/// first attack, so goose's own (which would exit the process on a second
/// Ctrl-C and is reset with every attack) never takes SIGINT over; SIGTERM
/// through tokio's signal stream. Call once, inside the runtime.
pub(crate) fn install_signal_handlers() {
    if let Err(e) = ctrlc::set_handler(|| {
        request(StopReason::Sigint);
    }) {
        eprintln!("warning: cannot catch Ctrl-C ({e}); it will end the run without its report");
    }
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::spawn(async move {
                while term.recv().await.is_some() {
                    request(StopReason::Sigterm);
                }
            });
        }
        Err(e) => {
            eprintln!("warning: cannot catch SIGTERM ({e}); it will end the run without its report")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_says_what_stopped_the_run() {
        for r in [StopReason::Sigint, StopReason::Sigterm] {
            assert!(r.describe().starts_with("stopped by"));
        }
        assert_eq!(
            serde_json::to_string(&StopReason::Sigterm).unwrap(),
            "\"sigterm\""
        );
    }
}
