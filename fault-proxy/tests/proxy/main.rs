//! The fault proxy's integration tests: one binary, one module per feature.

mod api;
mod closes;
mod compat;
mod helpers;
mod http;
mod removal;
mod signals;
mod strict;
mod toxics;
mod toxiproxy;
