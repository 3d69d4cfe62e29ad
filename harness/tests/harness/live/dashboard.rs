//! The dashboard in a real browser: `harness run --dashboard` as its own
//! process, its page opened in headless Chromium (Debian's `chromium`,
//! installed by `make tools`), driven over the DevTools protocol's WebSocket.
//! The test waits for at least three live updates, then for the final one,
//! reads the figures the page shows and compares them with summary.json.

use super::{backend, menu_scenario};
use crate::helpers::{harness_exe, report_dir, summary, write_scenario};
use futures::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Ends the browser even when the test fails.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium() -> String {
    for name in ["chromium", "chromium-browser"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if found {
            return name.to_string();
        }
    }
    panic!("headless Chromium is needed for the dashboard test: `make tools` installs it (Debian's `chromium`)");
}

/// Chromium on `url`, headless, with a fresh profile; returns it and its DevTools port.
fn open(url: &str, profile: &Path) -> (Browser, u16) {
    let child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            &format!("--user-data-dir={}", profile.display()),
            url,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromium");
    let browser = Browser(child);
    // Chromium writes the port it chose into the profile folder.
    let port_file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(port) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
        {
            return (browser, port);
        }
        assert!(
            Instant::now() < deadline,
            "chromium did not open its DevTools port"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A DevTools session on the page showing `url`.
struct Page {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

impl Page {
    async fn attach(port: u16, url: &str) -> Page {
        let deadline = Instant::now() + Duration::from_secs(60);
        let ws_url = loop {
            let list: serde_json::Value =
                reqwest::get(format!("http://127.0.0.1:{port}/json/list"))
                    .await
                    .expect("the DevTools list")
                    .json()
                    .await
                    .unwrap();
            let page = list.as_array().unwrap().iter().find(|t| {
                t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.starts_with(url))
            });
            if let Some(p) = page {
                break p["webSocketDebuggerUrl"].as_str().unwrap().to_string();
            }
            assert!(Instant::now() < deadline, "no page for {url}: {list}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let (ws, _) = tokio_tungstenite::connect_async(ws_url)
            .await
            .expect("DevTools WebSocket");
        Page { ws, next_id: 1 }
    }

    /// The value of a JavaScript expression evaluated in the page.
    async fn eval(&mut self, expression: &str) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = serde_json::json!({
            "id": id,
            "method": "Runtime.evaluate",
            "params": { "expression": expression, "returnByValue": true },
        });
        self.ws.send(Message::text(msg.to_string())).await.unwrap();
        while let Some(frame) = self.ws.next().await {
            let Ok(Message::Text(text)) = frame else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                return v["result"]["result"]["value"].clone();
            }
        }
        panic!("the DevTools connection closed");
    }

    /// Evaluates `expression` every 200 ms until it is true.
    async fn wait_for(&mut self, expression: &str, bound: Duration) {
        let deadline = Instant::now() + bound;
        while self.eval(expression).await != serde_json::Value::Bool(true) {
            assert!(
                Instant::now() < deadline,
                "the page never showed `{expression}`"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The number a cell of the page shows.
fn shown(figures: &serde_json::Value, id: &str) -> f64 {
    let text = figures[id].as_str().unwrap_or_default();
    text.parse()
        .unwrap_or_else(|_| panic!("#{id} shows {text:?}, not a number"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_updates_live_and_ends_on_the_figures_of_summary_json() {
    let backend = backend(Duration::from_secs(3600), Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(
        dir.path(),
        "live.toml",
        &menu_scenario(6, 2, "2s", r#""p95 < 1s over 2s""#),
    );
    let reports = dir.path().join("reports");
    // The browser first, on a blank page: a loaded machine may take seconds
    // to start it, and the run (6 s) must not be over by then.
    let profile = tempfile::tempdir().unwrap();
    let (_browser, port) = open("about:blank", profile.path());
    let mut page = Page::attach(port, "about:blank").await;
    let mut run = Command::new(harness_exe())
        .args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--target",
            &backend.url,
            "--reports-dir",
            reports.to_str().unwrap(),
            "--dashboard",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("running the harness");
    let mut lines = BufReader::new(run.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").unwrap();
    let url = first
        .strip_prefix("dashboard: ")
        .unwrap_or_else(|| panic!("the first line gives the dashboard's URL: {first:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    page.eval(&format!("location.href = {url:?}")).await;
    page.wait_for(
        "+document.getElementById('updates').textContent >= 3",
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(
        page.eval("document.getElementById('kind').textContent")
            .await,
        "live"
    );
    assert_eq!(
        page.eval("document.getElementById('scenario').textContent")
            .await,
        "live"
    );
    let drawn = page
        .eval("document.querySelectorAll('#latency-chart path').length")
        .await;
    assert_eq!(drawn, 3, "p50, p95 and p99 lines");
    page.wait_for(
        "document.getElementById('kind').textContent === 'final'",
        Duration::from_secs(120),
    )
    .await;
    let figures = page
        .eval(
            "Object.fromEntries(['total-count','total-rps','total-p50','total-p95','total-p99',\
             'total-shed','total-errors','verdict','updates'].map(id => [id, document.getElementById(id).textContent]))",
        )
        .await;
    let gate_row = page
        .eval("document.querySelector('#gates tbody').textContent")
        .await;

    let status = tokio::task::block_in_place(|| run.wait()).unwrap();
    assert_eq!(status.code(), Some(0));
    let out = rest.join().unwrap().join("\n");
    // The run's working folder is this test's: the path it prints is relative to it.
    let s = summary(&report_dir(&out));
    let o = &s["overall"];
    assert_eq!(shown(&figures, "total-count"), o["count"].as_f64().unwrap());
    for (id, field) in [
        ("total-p50", "p50"),
        ("total-p95", "p95"),
        ("total-p99", "p99"),
    ] {
        let want = o["latency_ms"][field].as_f64().unwrap();
        assert!(
            (shown(&figures, id) - want).abs() < 0.0005,
            "{id}: {figures} vs {o}"
        );
    }
    assert!((shown(&figures, "total-rps") - o["throughput_rps"].as_f64().unwrap()).abs() < 0.0005);
    assert!(
        (shown(&figures, "total-shed") - 100.0 * o["shed_rate"].as_f64().unwrap()).abs() < 0.0005
    );
    assert!(
        (shown(&figures, "total-errors") - 100.0 * o["error_rate"].as_f64().unwrap()).abs()
            < 0.0005
    );
    assert_eq!(figures["verdict"], "PASS");
    assert!(shown(&figures, "updates") >= 4.0);
    assert!(
        gate_row.as_str().unwrap().contains("p95 < 1s over 2s"),
        "{gate_row}"
    );
}

#[tokio::test]
async fn a_token_is_checked_on_every_request_and_at_most_a_few_pages_listen() {
    let hub =
        harness::live::dashboard::Hub::start("127.0.0.1:0".parse().unwrap(), Some("s3cret".into()))
            .await
            .unwrap();
    let url = hub.url().to_string();
    let base = url.split('?').next().unwrap().to_string();
    assert!(url.ends_with("/?token=s3cret"), "{url}");
    let client = reqwest::Client::new();
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(client.get(&base).send().await.unwrap()), 401);
    assert_eq!(
        status(client.get(format!("{base}events")).send().await.unwrap()),
        401
    );
    assert_eq!(
        status(
            client
                .get(format!("{base}?token=wrong"))
                .send()
                .await
                .unwrap()
        ),
        401
    );
    assert_eq!(status(client.get(&url).send().await.unwrap()), 200);
    let bearer = client
        .get(&base)
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(status(bearer), 200);
    // Event streams are capped: the first few are served, the next refused.
    let mut open = Vec::new();
    for _ in 0..harness::live::dashboard::MAX_CLIENTS {
        let r = client
            .get(format!("{base}events?token=s3cret"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        open.push(r);
    }
    let refused = client
        .get(format!("{base}events?token=s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 503);
    // A page that goes away frees its place.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = client
            .get(format!("{base}events?token=s3cret"))
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the freed place was never given back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_dashboard_off_loopback_without_a_token_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "live.toml", &menu_scenario(1, 1, "1s", ""));
    let (code, out) = crate::helpers::run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        "http://127.0.0.1:9",
        "--dashboard",
        "0.0.0.0:0",
    ])
    .await;
    assert_eq!(code, 2, "{out}");
    assert!(!out.contains("dashboard:"), "nothing was served: {out}");
}
