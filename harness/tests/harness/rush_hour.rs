//! The flagship scenario in short form against the bundled server: the same stages, flows and
//! incident, with a quarter of the kitchen (four times the preparation time, smaller backlogs) for
//! a quarter of the customers, in 70 s. At the peak a station's backlog fills and sheds (by station:
//! one POST per order kind); in the afternoon the shedding falls back; the server's kitchen counts are in
//! the report's notes.

use crate::helpers::{repo_file, report_dir, run_cli, summary, write_scenario};

const POSTS: [&str; 3] = [
    "POST /orders dine_in (grill)",
    "POST /orders takeout (counter)",
    "POST /orders delivery (packing)",
];

fn shed_in(s: &serde_json::Value, stage: &str, request: &str) -> f64 {
    let stage = s["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["name"] == stage)
        .unwrap_or_else(|| panic!("stage {stage}"));
    stage["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == request)
        .map_or(0.0, |r| r["figures"]["shed_rate"].as_f64().unwrap())
}

#[tokio::test]
async fn rush_hour_in_short_form_sheds_at_the_peak_by_station_and_recovers_after_it() {
    let text = std::fs::read_to_string(repo_file("scenarios/rush-hour.toml")).unwrap();
    let full_kitchen = "grill:dine_in:5:100,counter:takeout:6:120,packing:delivery:2:40";
    for part in [full_kitchen, "\"--unpaid-expiry-ms\", \"30000\""] {
        assert!(
            text.contains(part),
            "the scenario's kitchen is as this test expects: {part}"
        );
    }
    let text = text
        .replace(
            full_kitchen,
            "grill:dine_in:5:12,counter:takeout:6:14,packing:delivery:2:5",
        )
        .replace(
            "\"--prep-time-ms\", \"250\"",
            "\"--prep-time-ms\", \"1000\"",
        )
        // Declined cards leave unpaid orders in the backlog until they expire: in a
        // backlog of 12, a handful held for 30 s would keep the grill full after the peak.
        .replace(
            "\"--unpaid-expiry-ms\", \"30000\"",
            "\"--unpaid-expiry-ms\", \"5000\"",
        );
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "rush-hour.toml", &text);
    let reports = dir.path().join("reports");
    let (_, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--duration",
        "70s",
        "--scale",
        "0.25",
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    let s = summary(&report_dir(&out));
    let peak: Vec<f64> = POSTS.iter().map(|p| shed_in(&s, "peak", p)).collect();
    let (worst, most) = peak
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    assert!(*most > 0.0, "a station sheds at the peak: {peak:?}");
    for post in POSTS {
        assert_eq!(
            shed_in(&s, "doors open", post),
            0.0,
            "{post} before the rush"
        );
    }
    check_server_series(&s, ["grill", "counter", "packing"][worst]);
    let after = shed_in(&s, "afternoon", POSTS[worst]);
    assert!(
        after < *most,
        "{} recovers after the peak: {after} vs {most}",
        POSTS[worst]
    );
    let notes: Vec<&str> = s["run"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    let station = ["grill", "counter", "packing"][worst];
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&format!("station {station}:")) && !n.contains(" 0 shed")),
        "the server's own count of {station}'s 503s is in the notes: {notes:#?}"
    );
    let incident = s["faults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "counter-1-down")
        .expect("the kitchen incident is a fault window");
    assert_eq!(incident["link"], "kitchen");
    assert!(
        incident["toxic"]
            .as_str()
            .unwrap()
            .contains("orders re-queued"),
        "{incident:#}"
    );
}

/// The server's own series, scraped through the run: the shedding
/// station's backlog nears its limit at the peak, and the counter station
/// has one worker fewer during the incident.
fn check_server_series(s: &serde_json::Value, station: &str) {
    let incident = s["faults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "counter-1-down")
        .expect("the kitchen incident is a fault window");
    let series = s["server_metrics"]["series"].as_array().expect("scraped");
    let of = |name: &str, station: &str| {
        series
            .iter()
            .find(|x| x["name"] == name && x["labels"]["station"] == station)
            .unwrap_or_else(|| panic!("series {name}{{station={station}}}"))
    };
    let in_window = |x: &serde_json::Value, from: f64, to: f64| -> Vec<f64> {
        x["points"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| (from..to).contains(&p[0].as_f64().unwrap()))
            .map(|p| p[1].as_f64().unwrap())
            .collect()
    };
    let backlog = of("backlog", station);
    let limit = backlog["limit"]
        .as_f64()
        .expect("the backlog has its capacity");
    let peak_stage = s["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["name"] == "peak")
        .unwrap();
    let (from, to) = (
        peak_stage["start_s"].as_f64().unwrap(),
        peak_stage["end_s"].as_f64().unwrap(),
    );
    let highest = in_window(backlog, from, to).into_iter().fold(0.0, f64::max);
    assert!(
        highest >= limit * 0.9,
        "{station}'s backlog nears its limit {limit} at the peak: {highest}"
    );
    let (down_from, down_to) = (
        incident["start_s"].as_f64().unwrap(),
        incident["end_s"].as_f64().unwrap(),
    );
    let counter = of("workers_online", "counter");
    let during = in_window(counter, down_from + 1.5, down_to - 0.5);
    let before = in_window(counter, 0.0, down_from - 0.5);
    assert!(
        !during.is_empty() && during.iter().all(|v| *v == 5.0),
        "counter-1 away: {during:?}"
    );
    assert!(
        before.iter().all(|v| *v == 6.0),
        "all six before: {before:?}"
    );
}
