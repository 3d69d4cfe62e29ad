//! The harness's integration tests: one binary, one module per feature.

mod batch;
mod busy_host;
mod capacity;
mod chaos;
mod contract;
mod deploy;
mod events;
mod flows;
mod gates;
mod helpers;
mod history;
mod http_faults;
mod interrupt;
mod live;
mod multi;
mod orphans;
mod pacing;
mod readme;
mod refused;
mod remote;
pub(crate) mod report;
mod rush_hour;
mod scenario_errors;
mod shards;
mod smoke;
mod wiring;
mod worker_stop;
