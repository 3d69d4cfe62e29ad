//! A long run's report: ten minutes of samples still give a small
//! index.html, written in bounded time.

use super::schema::assert_valid_summary;
use super::{gates, sample, synthetic_run, write_report};
use harness::record::{FaultWindow, Outcome};

#[test]
fn a_ten_minute_report_stays_small() {
    // 600 s at 200 requests a second over 4 request names.
    let names = [
        "GET /menu",
        "POST /orders",
        "POST /orders/{id}/payments",
        "GET /orders/{id}",
    ];
    let samples = (0..120_000u64).map(|i| {
        let latency = 5 + (i * 7919) % 200;
        let outcome = if i % 97 == 0 {
            Outcome::Shed
        } else {
            Outcome::Ok
        };
        sample((i % 4) as u32, outcome, i * 5, latency)
    });
    let mut run = synthetic_run(&names, 600, samples);
    run.faults.push(FaultWindow {
        name: "payments-latency".into(),
        link: "payments".into(),
        toxic: "latency 800 ms ± 200 ms downstream".into(),
        planned_start_s: 200.0,
        start_s: 200.0,
        end_s: 260.0,
        http_requests: None,
        traffic: None,
    });
    let root = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let written = write_report(&run, &gates(&["p95 < 250ms"]), root.path()).unwrap();
    let elapsed = started.elapsed();
    let html = std::fs::metadata(written.dir.join("index.html"))
        .unwrap()
        .len();
    eprintln!("10-minute report written in {elapsed:?}; index.html {html} bytes");
    assert!(html < 3 * 1024 * 1024, "index.html is {html} bytes");
    // Generous: the figure to reach (< 2 s) is for release builds on an idle machine.
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
    assert_valid_summary(&written.dir);
}
