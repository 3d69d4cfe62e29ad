//! How long the report of a 10-minute run takes to write, and how big its
//! HTML is: 600 s at 2,000 requests a second over 5 request names, with a
//! fault window and three stages. Prints the median of 3 writes.

use harness::gate;
use harness::record::{
    FaultWindow, GeneratorHealth, LoadModel, MachineInfo, Outcome, Recorder, RunMeta, RunRecord,
    Sample, StageMark,
};
use harness::slo::Gate;
use std::time::Instant;

fn ten_minute_run() -> RunRecord {
    let names: Vec<String> = [
        "GET /menu",
        "POST /orders",
        "POST /orders/{{order_id}}/payments",
        "GET /orders/{{order_id}}",
        "GET /stores/{store}/inventory",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut recorder = Recorder::new(names);
    let total: u64 = 600 * 2000;
    for i in 0..total {
        let intended_us = i * 500;
        let latency_us = 2_000 + (i * 7919) % 150_000 + if i % 1000 == 0 { 900_000 } else { 0 };
        let (status, outcome) = if i % 53 == 0 {
            (503, Outcome::Shed)
        } else {
            (200, Outcome::Ok)
        };
        recorder.record(&Sample {
            request: (i % 5) as u32,
            status,
            outcome,
            intended_us,
            latency_us,
            service_us: latency_us,
        });
    }
    let started_at = time::OffsetDateTime::now_utc();
    let stage = |name: &str, a: f64, b: f64| StageMark {
        name: name.into(),
        description: name.into(),
        start_s: a,
        end_s: b,
    };
    RunRecord {
        meta: RunMeta {
            scenario: "report-time".into(),
            description: "synthetic 10-minute run".into(),
            scenario_file: "bench".into(),
            seed: 1,
            target: "http://127.0.0.1:9".into(),
            settings: Vec::new(),
            model: LoadModel::Open,
            started_at,
            ended_at: started_at + time::Duration::seconds(600),
            planned_duration_s: 600.0,
            harness_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: None,
            machine: MachineInfo::current(),
            connection: None,
            shard: None,
        },
        recorder,
        stages: vec![
            stage("ramp", 0.0, 60.0),
            stage("peak", 60.0, 540.0),
            stage("cool-down", 540.0, 600.0),
        ],
        faults: vec![FaultWindow {
            name: "payments-latency".into(),
            link: "payments".into(),
            toxic: "latency 800 ms ± 200 ms downstream".into(),
            planned_start_s: 200.0,
            start_s: 200.0,
            end_s: 260.0,
            http_requests: None,
            traffic: None,
        }],
        generator: GeneratorHealth::default(),
        aborted: None,
        stop: None,
        missed: Vec::new(),
        notes: vec![],
    }
}

fn main() -> anyhow::Result<()> {
    let run = ten_minute_run();
    let gates: Vec<Gate> = vec!["p95 < 250ms".parse()?, "shed-rate < 2%".parse()?];
    let root = tempfile::tempdir()?;
    let mut times = Vec::new();
    let mut html = 0;
    for _ in 0..3 {
        let started = Instant::now();
        // Summarising and judging count: they are part of writing a run's report.
        let summary = gate::summarize(&run, &gates);
        let written = harness::report::write_run_report(&run, summary, None, root.path())?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        html = std::fs::metadata(written.dir.join("index.html"))?.len();
        std::thread::sleep(std::time::Duration::from_millis(1100)); // a new timestamped folder each time
    }
    times.sort_by(f64::total_cmp);
    println!("== report: a 10-minute run (1.2 M requests, 5 request names, 1 fault window) ==");
    println!(
        "  write time, median of 3: {:>8.1} ms   (target: < 2000 ms)",
        times[1]
    );
    println!(
        "  index.html size:         {:>8.1} KB   (target: < 3072 KB)",
        html as f64 / 1024.0
    );
    Ok(())
}
