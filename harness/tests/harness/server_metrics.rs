//! The target's own metrics scraped through the run: a fake target whose
//! `/metrics` changes scrape by scrape (a gauge that climbs, a counter that
//! resets, a series that disappears, a label that explodes), gates on the
//! series, and the endpoints that cannot be read (not answering, not
//! Prometheus text), each a note or an error before the load.

use crate::helpers::{repo_file, report_dir, run_binary, run_cli, summary, write_scenario};
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Runs the harness binary off the runtime (the fake target keeps serving);
/// returns its exit code and its stdout and stderr together.
async fn binary(args: Vec<String>, cwd: std::path::PathBuf) -> (i32, String) {
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_binary(&args, &cwd)
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// What the fake target has served: `/metrics` scrapes and load requests.
#[derive(Default)]
struct Served {
    scrapes: AtomicU64,
    load: AtomicU64,
}

/// The metrics text of the `n`-th scrape (0 is the check before the load):
/// `queue` climbs by one a scrape (twice as fast for station b), `made_total`
/// grows by 10 a scrape and is reset to 0 at the fourth, `vanishing` is gone
/// from the fourth, `per_order` has 30 label sets.
fn metrics_at(n: u64) -> String {
    let made = if n < 3 { 1000 + 10 * n } else { 10 * (n - 3) };
    let mut text = format!(
        "# TYPE queue gauge\nqueue{{station=\"a\"}} {n}\nqueue{{station=\"b\"}} {}\n\
         # TYPE made_total counter\nmade_total {made}\n",
        2 * n
    );
    if n < 3 {
        text.push_str("# TYPE vanishing gauge\nvanishing 1\n");
    }
    for order in 0..30 {
        text.push_str(&format!("per_order{{order=\"{order}\"}} 1\n"));
    }
    text
}

async fn fake_target() -> (String, Arc<Served>) {
    let served = Arc::new(Served::default());
    let (s1, s2) = (served.clone(), served.clone());
    let app = Router::new()
        .route(
            "/",
            get(move || async move {
                s1.load.fetch_add(1, Ordering::SeqCst);
                "<html><body>not metrics</body></html>"
            }),
        )
        .route(
            "/metrics",
            get(move || async move { metrics_at(s2.scrapes.fetch_add(1, Ordering::SeqCst)) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, served)
}

fn scenario(url: &str, gates: &str, server_metrics: &str) -> String {
    format!(
        r#"name = "scraped"
gates = [{gates}]

[target]
url = "{url}"

[load]
model = "closed"

[[load.stages]]
duration = "4s"
users = 2

[[flows]]
name = "look"

[[flows.steps]]
method = "GET"
path = "/"
think = "100ms"

{server_metrics}
"#
    )
}

const SERIES: &str = r#"[server_metrics]

[[server_metrics.series]]
name = "queue"
metric = "queue"
by = ["station"]
limit = 1000

[[server_metrics.series]]
name = "made"
metric = "made_total"
kind = "rate"

[[server_metrics.series]]
name = "vanishing"
metric = "vanishing"

[[server_metrics.series]]
name = "per_order"
metric = "per_order"
by = ["order"]
"#;

fn series<'a>(s: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    s["server_metrics"]["series"]
        .as_array()
        .expect("server_metrics.series is a list")
        .iter()
        .filter(|x| x["name"] == name)
        .collect()
}

fn values(series: &serde_json::Value) -> Vec<f64> {
    series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn series_follow_a_target_whose_metrics_change_scrape_by_scrape_and_gates_judge_them() {
    let (url, served) = fake_target().await;
    let dir = tempfile::tempdir().unwrap();
    let gates = r#""max(queue{station=\"a\"}) < 1000", "last(queue{station=\"b\"}) > 100000""#;
    let file = write_scenario(dir.path(), "scraped.toml", &scenario(&url, gates, SERIES));
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 1, "the second gate fails: {out}");
    let run = report_dir(&out);
    let s = summary(&run);
    assert!(
        served.scrapes.load(Ordering::SeqCst) >= 4,
        "scraped about once a second"
    );

    // The gauge, split by station, climbs one a scrape (two for b).
    let queue = series(&s, "queue");
    assert_eq!(queue.len(), 2, "{queue:?}");
    let a = queue
        .iter()
        .find(|q| q["labels"]["station"] == "a")
        .unwrap();
    let b = queue
        .iter()
        .find(|q| q["labels"]["station"] == "b")
        .unwrap();
    let (va, vb) = (values(a), values(b));
    assert!(va.len() >= 3, "{va:?}");
    assert!(va.windows(2).all(|w| w[1] > w[0]), "climbs: {va:?}");
    assert!(
        va.iter().zip(&vb).all(|(x, y)| *y == 2.0 * x),
        "{va:?} {vb:?}"
    );
    assert_eq!(a["kind"], "gauge");
    assert_eq!(a["limit"], 1000.0);
    let t: Vec<f64> = a["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_f64().unwrap())
        .collect();
    assert!(
        t[0] < 1.0 && t.windows(2).all(|w| w[1] > w[0]),
        "seconds from the start: {t:?}"
    );

    // The counter is a rate; its reset is no negative rate, and is said. It grows by 10 a
    // scrape: a rate times the time since the previous point is never more than that (read as
    // an increase, the reset from 1020 to 0 would be 1020). Not a bound on the rate itself: a
    // scrape late on a loaded machine and the next on time are close, and 10 in 0.1 s is 100/s.
    let made = &series(&s, "made")[0]["points"];
    let points: Vec<(f64, f64)> = made
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    assert!(
        !points.is_empty() && points.iter().all(|(_, r)| *r >= 0.0),
        "{made}"
    );
    assert!(
        points
            .windows(2)
            .all(|w| w[1].1 * (w[1].0 - w[0].0) <= 15.0),
        "{made}"
    );
    let notes = s["run"]["notes"].to_string();
    assert!(notes.contains("`made`: 1 counter reset"), "{notes}");
    assert!(
        notes.contains("`vanishing` disappeared from the scrapes"),
        "{notes}"
    );
    assert!(
        notes.contains("`per_order` has more than 20 label sets") && notes.contains("and 5 more"),
        "{notes}"
    );
    assert_eq!(series(&s, "per_order").len(), 20);

    // Gates on the series, judged on its points.
    let gates = s["gates"].as_array().unwrap();
    assert_eq!(gates[0]["passed"], true, "{}", gates[0]);
    assert_eq!(gates[1]["passed"], false, "{}", gates[1]);
    assert!(
        gates[1]["message"].as_str().unwrap().contains("last"),
        "{}",
        gates[1]
    );

    // The report's Server section charts each series on the run's time axis.
    let html = std::fs::read_to_string(run.join("index.html")).unwrap();
    assert!(html.contains("<h2 id=\"server\">Server</h2>"));
    assert!(html.contains("id=\"chart-server-queue\""));
    assert!(html.contains("id=\"chart-server-made\""));

    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("harness/schema/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let problems: Vec<String> = validator
        .iter_errors(&s)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        problems.is_empty(),
        "summary.json breaks its schema: {problems:#?}"
    );
}

#[tokio::test]
async fn a_required_endpoint_that_does_not_answer_stops_the_run_before_the_load() {
    let (url, served) = fake_target().await;
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens there.
    let metrics = SERIES.replace(
        "[server_metrics]\n",
        "[server_metrics]\nurl = \"http://127.0.0.1:9/metrics\"\nrequired = true\n",
    );
    let file = write_scenario(dir.path(), "required.toml", &scenario(&url, "", &metrics));
    let args = vec!["run".into(), file.display().to_string(), "--quiet".into()];
    let (code, out) = binary(args, dir.path().to_path_buf()).await;
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("required") && out.contains("127.0.0.1:9/metrics"),
        "{out}"
    );
    assert_eq!(served.load.load(Ordering::SeqCst), 0, "no load was sent");
}

#[tokio::test]
async fn an_endpoint_that_is_not_prometheus_text_turns_scraping_off_with_a_note() {
    let (url, served) = fake_target().await;
    let dir = tempfile::tempdir().unwrap();
    let metrics = SERIES.replace(
        "[server_metrics]\n",
        &format!("[server_metrics]\nurl = \"{url}/\"\n"),
    );
    let file = write_scenario(dir.path(), "html.toml", &scenario(&url, "", &metrics));
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    let s = summary(&report_dir(&out));
    assert!(s.get("server_metrics").is_none(), "nothing scraped");
    let notes = s["run"]["notes"].to_string();
    assert!(
        notes.contains("server metrics off") && notes.contains("not Prometheus text"),
        "{notes}"
    );
    assert!(served.load.load(Ordering::SeqCst) > 0, "the run went on");
}

#[tokio::test]
async fn a_gate_naming_a_series_the_scenario_does_not_declare_is_refused_before_the_load() {
    let (url, served) = fake_target().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(
        dir.path(),
        "undeclared.toml",
        &scenario(&url, r#""max(backlog{station=\"grill\"}) < 450""#, SERIES),
    );
    let args = vec!["run".into(), file.display().to_string()];
    let (code, out) = binary(args, dir.path().to_path_buf()).await;
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("undeclared.toml:2:")
            && out.contains("gates[0]")
            && out.contains("series `backlog`")
            && out.contains("declared: queue, made, vanishing, per_order"),
        "{out}"
    );
    let plain = write_scenario(dir.path(), "plain.toml", &scenario(&url, "", SERIES));
    let args = vec![
        "run".into(),
        plain.display().to_string(),
        "--gate".into(),
        "mean(nope) < 1".into(),
        "--dry-run".into(),
    ];
    let (code, out) = binary(args, dir.path().to_path_buf()).await;
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("--gate") && out.contains("series `nope`"),
        "{out}"
    );
    assert_eq!(served.load.load(Ordering::SeqCst), 0);
    assert_eq!(served.scrapes.load(Ordering::SeqCst), 0);
}
