//! The rush-hour load and chaos harness, as a library the `harness` binary
//! and the tests both drive.
//!
//! A run's data flows one way: `scenario` (the plan) → `target`, `chaos` and
//! `load` (the run) → `record` (histograms) → `summary` (the figures,
//! computed once) → `gate` (verdicts on a summary) → `report` (the one
//! renderer). `run` makes one run; `batch` makes several (repeats, targets,
//! a baseline, the `capacity` search) and concludes from them in memory.
//! `slo` is the text of gates and tolerances; `baseline` judges runs against
//! earlier ones; `exit` holds the exit codes; `stop` the one stop request
//! (Ctrl-C, SIGTERM). `history` records every run and finds change points
//! across them.

pub mod backend;
pub mod baseline;
pub mod batch;
pub(crate) mod capacity;
pub mod chaos;
pub mod cli;
pub(crate) mod contract;
pub(crate) mod dry_run;
pub mod exit;
pub mod gate;
pub mod history;
pub mod live;
pub(crate) mod load;
pub mod merge;
pub mod record;
pub mod redact;
pub mod report;
pub mod run;
pub mod scenario;
pub(crate) mod scrape;
pub mod shard;
pub mod slo;
pub mod stop;
pub mod summary;
