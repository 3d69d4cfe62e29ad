//! HTTP faults end to end: a link declared `protocol = "http"` gets an HTTP
//! proxy, an `http_status` toxic answers its share of requests itself and the
//! report shows the share affected; an HTTP toxic on a TCP link is a scenario
//! error; a fault on a link no request crosses is named as such; a fault
//! proxy that cannot make HTTP proxies stops the run before any load.

use crate::helpers::{report_dir, run_binary, run_cli, summary, write_scenario};
use axum::routing::get;
use axum::Router;
use std::path::Path;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A backend that answers `GET /ping` at once, on a loopback port.
async fn backend() -> std::net::SocketAddr {
    let app = Router::new().route("/ping", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// An open-model run of `GET /ping` (a 1 s ramp, then 100/s for 6 s) against `target`, with
/// `extra` (links and faults) appended.
fn scenario(target: std::net::SocketAddr, extra: &str) -> String {
    format!(
        r#"name = "http-faults"
seed = 7
[target]
url = "http://{target}"
[load]
model = "open"
timeout = "2s"
max_users = 50
[[load.stages]]
duration = "1s"
rate = 100
[[load.stages]]
duration = "6s"
rate = 100
[[flows]]
name = "ping"
[[flows.steps]]
method = "GET"
path = "/ping"
expect = [200]
{extra}"#
    )
}

async fn run(dir: &Path, text: &str, more: &[&str]) -> (u8, String) {
    let file = write_scenario(dir, "http.toml", text);
    let reports = dir.join("reports");
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    run_cli(&args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_status_fault_at_thirty_percent_answers_about_that_share_with_503_and_the_report_shows_the_share_affected(
) {
    let target = backend().await;
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        target,
        &format!(
            r#"
[[links]]
name = "edge"
listen = "127.0.0.1:0"
upstream = "{target}"
protocol = "http"

[[faults]]
name = "gateway-503"
at = "2s"
duration = "4s"
link = "edge"
type = "http_status"
toxicity = 0.3
attributes = {{ status = 503, retry_after = 1 }}
"#
        ),
    );
    let (code, out) = run(dir.path(), &text, &[]).await;
    // 4 (the generator fell behind) is possible on a loaded machine; the fault's figures hold anyway.
    assert!(code == 0 || code == 4, "exit {code}\n{out}");
    let folder = report_dir(&out);
    let s = summary(&folder);
    let fault = &s["faults"][0];
    let http = &fault["http_requests"];
    let requests = http["requests"].as_u64().unwrap();
    let share = http["affected_share"].as_f64().unwrap();
    // 4 s at 100/s: about 400 requests met the toxic, about 30 % of them hit.
    assert!((300..=500).contains(&requests), "{fault}");
    assert!((0.2..=0.4).contains(&share), "{fault}");
    assert_eq!(fault["traffic"]["state"], "crossed", "{fault}");
    assert!(fault["warning"].is_null(), "{fault}");
    // The client saw those answers as 503s, and only while the fault was on.
    let during = fault["during"]["shed_rate"].as_f64().unwrap();
    let before = fault["before"]["shed_rate"].as_f64().unwrap();
    assert!(
        (0.15..=0.4).contains(&during),
        "503 share during {during}: {fault}"
    );
    assert_eq!(before, 0.0, "{fault}");
    let affected = http["affected"].as_u64().unwrap();
    let md = std::fs::read_to_string(folder.join("summary.md")).unwrap();
    assert!(
        md.contains(&format!("{affected} of {requests} requests")),
        "{md}"
    );
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(
        html.contains(&format!("affected {affected} of {requests} requests")),
        "the HTML report shows the share affected"
    );
    assert!(
        html.contains("http_status 503 (Retry-After 1 s) (30 % of requests)"),
        "the HTML names the toxic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_on_a_link_no_request_crosses_is_named_with_a_warning_instead_of_figures() {
    let target = backend().await;
    let unused = backend().await;
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        target,
        &format!(
            r#"
[[links]]
name = "side"
listen = "127.0.0.1:0"
upstream = "{unused}"

[[faults]]
name = "side-latency"
at = "1s"
duration = "3s"
link = "side"
type = "latency"
attributes = {{ latency = 100 }}
"#
        ),
    );
    let (code, out) = run(dir.path(), &text, &[]).await;
    // 4 (the generator fell behind) is possible on a loaded machine; the fault's figures hold anyway.
    assert!(code == 0 || code == 4, "exit {code}\n{out}");
    let folder = report_dir(&out);
    let s = summary(&folder);
    let fault = &s["faults"][0];
    assert_eq!(fault["traffic"]["state"], "idle", "{fault}");
    assert!(
        fault["warning"]
            .as_str()
            .unwrap()
            .contains("no request crossed link `side` during this window"),
        "{fault}"
    );
    let md = std::fs::read_to_string(folder.join("summary.md")).unwrap();
    assert!(md.contains("no traffic on the link"), "{md}");
    assert!(md.contains("**Warning (side-latency):**"), "{md}");
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(html.contains("<b>warning:</b> no request crossed link `side`"));
    crate::report::schema::assert_valid_summary(&folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_link_on_a_fault_proxy_that_ignores_the_protocol_stops_the_run_before_load() {
    // Stands in for a real Toxiproxy 2.12: it answers the proxy without `protocol`.
    let toxiproxy = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/version"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"version": "2.12.0"})),
        )
        .mount(&toxiproxy)
        .await;
    let target = backend().await;
    Mock::given(method("POST"))
        .and(path("/proxies"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "name": "harness_edge", "listen": "127.0.0.1:45999",
            "upstream": target.to_string(), "enabled": true, "toxics": []
        })))
        .expect(1)
        .mount(&toxiproxy)
        .await;
    // The TCP proxy it made instead is removed.
    Mock::given(method("DELETE"))
        .and(path("/proxies/harness_edge"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1..)
        .mount(&toxiproxy)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        target,
        &format!(
            r#"
[[links]]
name = "edge"
listen = "127.0.0.1:0"
upstream = "{target}"
protocol = "http"

[[faults]]
name = "gateway-503"
at = "1s"
duration = "2s"
link = "edge"
type = "http_status"
attributes = {{ status = 503 }}
"#
        ),
    );
    let file = write_scenario(dir.path(), "http.toml", &text);
    let uri = toxiproxy.uri();
    let output = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || {
            run_binary(
                &[
                    "run",
                    file.to_str().unwrap(),
                    "--toxiproxy",
                    &uri,
                    "--quiet",
                ],
                &dir,
            )
        }
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(err.contains("HTTP toxics"), "{err}");
    assert!(err.contains("need the built-in proxy"), "{err}");
    assert!(!dir.path().join("reports").exists(), "no load ran: {err}");
}

fn refused(text: &str) -> harness::scenario::ScenarioError {
    harness::scenario::parse(text, Path::new("scenarios/http.toml"))
        .expect_err("the scenario is refused")
}

/// The 1-based line where `needle` starts in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).expect("in the text")]
        .matches('\n')
        .count()
        + 1
}

#[test]
fn an_http_toxic_on_a_link_not_declared_http_is_refused_with_its_line_and_field() {
    let fault = r#"
[[faults]]
name = "gateway-503"
at = "1s"
duration = "2s"
link = "side"
type = "http_status"
attributes = { status = 503 }
"#;
    let text = scenario(
        "127.0.0.1:9".parse().unwrap(),
        &format!(
            "\n[[links]]\nname = \"side\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:9\"\n{fault}"
        ),
    );
    let e = refused(&text);
    let line = line_of(&text, "type = \"http_status\"");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("scenarios/http.toml:{line}:")),
        "{shown}"
    );
    assert_eq!(e.field, "faults[0].type", "{shown}");
    assert!(
        shown.contains("not declared `protocol = \"http\"`"),
        "{shown}"
    );

    // The bundled server's `edge` is a TCP link; its `payments` is HTTP.
    let bundled = text
        .replace("url = \"http://127.0.0.1:9\"", "profile = \"default\"")
        .replace(
            "\n[[links]]\nname = \"side\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:9\"\n",
            "",
        );
    let e = refused(&bundled.replace("link = \"side\"", "link = \"edge\""));
    assert_eq!(e.field, "faults[0].type", "{e}");
    assert!(e.to_string().contains("bundled server's"), "{e}");
    harness::scenario::parse(
        &bundled.replace("link = \"side\"", "link = \"payments\""),
        Path::new("ok.toml"),
    )
    .expect("an HTTP toxic on the bundled `payments` link is accepted");
}

#[test]
fn a_bad_http_toxic_attribute_or_protocol_is_refused_with_its_field() {
    let link = "\n[[links]]\nname = \"side\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:9\"\nprotocol = \"http\"\n";
    let fault = |kind: &str, attributes: &str| {
        format!(
            "{link}\n[[faults]]\nname = \"f\"\nat = \"1s\"\nduration = \"2s\"\nlink = \"side\"\ntype = \"{kind}\"\nattributes = {attributes}\n"
        )
    };
    let target = "127.0.0.1:9".parse().unwrap();
    let text = scenario(target, &fault("http_status", "{ status = 700 }"));
    let e = refused(&text);
    assert_eq!(
        e.line,
        line_of(&text, "attributes = { status = 700 }"),
        "{e}"
    );
    assert!(e.to_string().contains("from 100 to 599"), "{e}");
    let e = refused(&scenario(target, &fault("http_latency", "{ jitter = 5 }")));
    assert!(e.to_string().contains("needs attribute `latency`"), "{e}");
    let e = refused(&scenario(target, &fault("http_reset", "{ byte = 5 }")));
    assert!(e.to_string().contains("no attribute `byte`"), "{e}");
    let text = scenario(target, &link.replace("\"http\"", "\"gopher\""));
    let e = refused(&text);
    assert_eq!(e.field, "links[0].protocol", "{e}");
    assert_eq!(e.line, line_of(&text, "protocol = \"gopher\""), "{e}");
}
