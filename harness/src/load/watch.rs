//! What watches a run as it goes ([`Watch`]: the window gates that abort,
//! the dashboard) and the one signal by which a failed window stops it
//! ([`AbortSignal`]). An abort goes through the same stop path as Ctrl-C and
//! SIGTERM (`conduct`): users stopped, requests in flight dropped; the caller
//! then removes the faults, stops the bundled server and writes the report of
//! what was measured. Unlike Ctrl-C (`crate::stop`, for the whole process),
//! an abort ends this run only.

use crate::record::{Aborted, GeneratorHealth, Recorder};
use std::sync::{Arc, OnceLock};

/// Raised once by whoever judges the run as it goes; read by the conductor.
#[derive(Clone, Debug, Default)]
pub(crate) struct AbortSignal(Arc<OnceLock<Aborted>>);

impl AbortSignal {
    /// Asks the run to stop; the first reason given is kept.
    pub(crate) fn raise(&self, why: Aborted) {
        let _ = self.0.set(why);
    }

    pub(crate) fn raised(&self) -> Option<&Aborted> {
        self.0.get()
    }
}

/// Looks at what was recorded once a second while the load runs (the window
/// gates that abort, the dashboard). Called from the aggregator, so it must
/// be quick: a few histogram additions, a snapshot handed over.
pub(crate) trait Watch: Send {
    /// `elapsed_s` whole seconds have passed since the load started: every
    /// second before it is complete. An `Aborted` stops the run.
    fn second(
        &mut self,
        recorder: &Recorder,
        health: &GeneratorHealth,
        elapsed_s: u64,
    ) -> Option<Aborted>;
}
