//! The harness's integration tests: one binary, one module per feature.

mod batch;
mod capacity;
mod chaos;
mod contract;
mod flows;
mod gates;
mod helpers;
mod multi;
mod pacing;
mod report;
mod scenario_errors;
mod smoke;
mod wiring;
