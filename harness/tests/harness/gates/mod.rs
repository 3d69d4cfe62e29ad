//! SLO gates: each kind judged against summaries of known samples, scoped to
//! a request, a fault window or a stage (`kinds`); regressions judged against
//! baseline runs (`baseline`); and gates on a real run of the harness
//! (`end_to_end`).

mod baseline;
mod end_to_end;
mod kinds;
