//! The harness's integration tests: one binary, one module per feature.

mod batch;
mod capacity;
mod chaos;
mod contract;
mod deploy;
mod events;
mod flows;
mod gates;
mod helpers;
mod http_faults;
mod multi;
mod pacing;
mod remote;
pub(crate) mod report;
mod rush_hour;
mod scenario_errors;
mod server_metrics;
mod shards;
mod smoke;
mod wiring;
mod worker_stop;
