//! The rush-hour load and chaos harness, as a library the `harness` binary
//! and the tests both drive.

pub mod capacity;
pub mod chaos;
pub mod cli;
pub mod dry_run;
pub mod gate;
pub mod load;
pub mod record;
pub mod redact;
pub mod report;
pub mod run;
pub mod scenario;
pub mod suite;
pub mod target;
