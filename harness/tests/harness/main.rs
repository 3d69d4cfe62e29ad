//! The harness's integration tests: one binary, one module per feature.

mod batch;
mod capacity;
mod chaos;
mod flows;
mod gates;
mod helpers;
mod multi;
mod remote;
mod report;
mod scenario_errors;
mod smoke;
mod wiring;
