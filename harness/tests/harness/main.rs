//! The harness's integration tests: one binary, one module per feature.

mod batch;
mod capacity;
mod chaos;
mod events;
mod flows;
mod gates;
mod helpers;
mod multi;
mod report;
mod rush_hour;
mod scenario_errors;
mod smoke;
mod wiring;
