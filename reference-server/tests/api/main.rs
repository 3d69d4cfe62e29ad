//! Integration tests of the reference server: each starts real servers on port 0 with SQLite in a
//! temporary directory and a `wiremock` payment gateway (or the bundled gateway simulator).

mod cli;
mod contract;
mod dead_letters;
mod durability;
mod events;
mod gateway_simulator;
mod hardening;
mod helpers;
mod inventory;
mod kitchen;
mod menu;
mod naive;
mod ops;
mod orders;
mod payments;
mod shutdown;
mod stations;
mod workers;
