//! Targets given by URL over TLS, secrets from the environment, and the dry
//! run. Every request goes to 127.0.0.1: an HTTPS backend whose certificates
//! are made here (`https.rs`), or wiremock. Names that are not loopback
//! (`staging.example.invalid`) are only ever parsed and dry-run.

pub(crate) mod https;
mod pinned;

use crate::helpers::{report_dir, run_binary, run_cli, summary, write_scenario};
use std::path::Path;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Two users reading the menu for a second: a few dozen requests.
const MENU: &str = r#"name = "tls"
seed = 3

[load]
model = "closed"
timeout = "2s"
[[load.stages]]
duration = "1s"
users = 2

[[flows]]
name = "menu"
[[flows.steps]]
method = "GET"
path = "/menu"
think = "20ms"
"#;

/// `harness run` as its own process (to read what it prints on stderr).
fn run_tls(dir: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let file = write_scenario(dir, "tls.toml", MENU);
    let reports = dir.join("reports");
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--quiet",
        "--target",
        url,
        "--reports-dir",
        reports.to_str().unwrap(),
    ];
    args.extend(extra);
    run_binary(&args, dir)
}

/// The report folder a binary run in `dir` names (relative to `dir`).
fn report_of(dir: &Path, out: &std::process::Output) -> std::path::PathBuf {
    dir.join(report_dir(&text(&out.stdout)))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_ca_given_with_ca_cert_lets_the_run_through_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let pki = https::pki(dir.path(), false);
    let backend = https::start(&pki, false).await;
    let out = tokio::task::block_in_place(|| {
        run_tls(
            dir.path(),
            &backend.url,
            &["--ca-cert", pki.ca.to_str().unwrap()],
        )
    });
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = summary(&report_of(dir.path(), &out));
    let c = &s["run"]["connection"];
    assert_eq!(c["remote"], false);
    assert_eq!(c["protocol"], "HTTP/1.1");
    assert!(c["tls"].as_str().unwrap().contains("private CA"), "{c}");
    assert!(c["tls"].as_str().unwrap().contains("ca.pem"), "{c}");
    assert!(backend.hits() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn http2_is_used_when_asked_for_and_offered_and_the_report_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = https::pki(dir.path(), false);
    let backend = https::start(&pki, false).await;
    let out = tokio::task::block_in_place(|| {
        run_tls(
            dir.path(),
            &backend.url,
            &["--ca-cert", pki.ca.to_str().unwrap(), "--http2"],
        )
    });
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let run = report_of(dir.path(), &out);
    let s = summary(&run);
    assert_eq!(s["run"]["connection"]["protocol"], "HTTP/2");
    assert_eq!(s["requests"][0]["errors"], 0, "{}", s["requests"][0]);
    assert!(backend.hits() > 0);
    let md = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(md.contains("HTTP/2"), "{md}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_private_ca_the_run_stops_before_any_load_naming_the_unknown_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let pki = https::pki(dir.path(), false);
    let backend = https::start(&pki, false).await;
    let out = tokio::task::block_in_place(|| run_tls(dir.path(), &backend.url, &[]));
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("localhost:"), "{err}");
    assert!(err.contains("unknown issuer"), "{err}");
    assert!(err.contains("--ca-cert"), "{err}");
    assert_eq!(backend.hits(), 0, "no load before the check passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_certificate_stops_the_run_and_is_called_expired() {
    let dir = tempfile::tempdir().unwrap();
    let pki = https::pki(dir.path(), true);
    let backend = https::start(&pki, false).await;
    let out = tokio::task::block_in_place(|| {
        run_tls(
            dir.path(),
            &backend.url,
            &["--ca-cert", pki.ca.to_str().unwrap()],
        )
    });
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("localhost:") && err.contains("expired"),
        "{err}"
    );
    assert_eq!(backend.hits(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn insecure_skips_the_check_with_a_warning_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let pki = https::pki(dir.path(), false);
    let backend = https::start(&pki, false).await;
    let out = tokio::task::block_in_place(|| run_tls(dir.path(), &backend.url, &["--insecure"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("NOT verified"));
    let run = report_of(dir.path(), &out);
    let s = summary(&run);
    assert_eq!(s["run"]["connection"]["tls"], "NOT verified (--insecure)");
    let notes = s["run"]["notes"].to_string();
    assert!(notes.contains("NOT verified"), "{notes}");
    let html = std::fs::read_to_string(run.join("index.html")).unwrap();
    assert!(html.contains("NOT verified (--insecure)"));
    assert!(backend.hits() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backend_that_requires_a_client_certificate_accepts_one_and_refuses_the_run_without() {
    let dir = tempfile::tempdir().unwrap();
    let pki = https::pki(dir.path(), false);
    let backend = https::start(&pki, true).await;
    let ca = pki.ca.to_str().unwrap();
    let refused =
        tokio::task::block_in_place(|| run_tls(dir.path(), &backend.url, &["--ca-cert", ca]));
    assert_eq!(refused.status.code(), Some(3));
    let err = text(&refused.stderr);
    assert!(
        err.contains("localhost:") && err.contains("client certificate"),
        "{err}"
    );
    assert_eq!(backend.hits(), 0);
    let accepted = tokio::task::block_in_place(|| {
        run_tls(
            dir.path(),
            &backend.url,
            &[
                "--ca-cert",
                ca,
                "--client-cert",
                pki.client_cert.to_str().unwrap(),
                "--client-key",
                pki.client_key.to_str().unwrap(),
            ],
        )
    });
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        text(&accepted.stderr)
    );
    let s = summary(&report_of(dir.path(), &accepted));
    assert_eq!(s["requests"][0]["errors"], 0, "{}", s["requests"][0]);
    assert!(backend.hits() > 0);
}

const TOKEN_SCENARIO: &str = r#"name = "token"
seed = 5

[load]
model = "open"
timeout = "2s"
[[load.stages]]
duration = "1s"
rate = 10

[data]
tenant = ["{{env.HARNESS_TEST_TENANT_ID}}"]

[[flows]]
name = "authorised"
[[flows.steps]]
method = "GET"
path = "/orders?tenant={{tenant}}"
headers = { X-Api-Key = "{{env.HARNESS_TEST_API_TOKEN}}" }
"#;

#[tokio::test]
async fn a_token_from_the_environment_reaches_the_backend_and_no_report_file_holds_it() {
    let token = "tok-7f3a9c51e2b84d06";
    let tenant = "tenant-5b1d77";
    std::env::set_var("HARNESS_TEST_API_TOKEN", token);
    std::env::set_var("HARNESS_TEST_TENANT_ID", tenant);
    let backend = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders"))
        .and(header("x-api-key", token))
        .respond_with(ResponseTemplate::new(200))
        .expect(5)
        .mount(&backend)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "token.toml", TOKEN_SCENARIO);
    // A password in the target's URL is a secret too.
    let password = "pw-c09e4412";
    // The same loopback backend, with credentials in the URL's user part.
    let mut with_password = reqwest::Url::parse(&backend.uri()).unwrap();
    with_password.set_username("ci").unwrap();
    with_password.set_password(Some(password)).unwrap();
    let target = with_password.to_string();
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        &target,
        "--reports-dir",
        dir.path().join("reports").to_str().unwrap(),
    ])
    .await;
    assert!(code == 0 || code == 4, "exit code {code}\n{out}");
    backend.verify().await;
    let seen = backend.received_requests().await.unwrap();
    // The scenario's requests (the run also reads the target's /metrics at its end).
    let orders: Vec<_> = seen.iter().filter(|r| r.url.path() == "/orders").collect();
    assert_eq!(orders.len(), 5);
    assert!(orders
        .iter()
        .all(|r| r.url.query() == Some(&format!("tenant={tenant}"))));
    assert!(!out.contains(token) && !out.contains(tenant) && !out.contains(password));
    let run = report_dir(&out);
    let mut files = 0;
    for entry in std::fs::read_dir(&run).unwrap() {
        let p = entry.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let body = String::from_utf8_lossy(&bytes);
        assert!(!body.contains(token), "{} holds the token", p.display());
        assert!(!body.contains(tenant), "{} holds the tenant", p.display());
        assert!(
            !body.contains(password),
            "{} holds the password",
            p.display()
        );
        files += 1;
    }
    assert!(files >= 4, "the report folder holds its files");
    let s = summary(&run);
    assert_eq!(
        s["run"]["target"],
        format!("{}", target.replace(password, "***"))
    );
}

#[test]
fn an_unset_variable_stops_the_run_with_exit_2_naming_the_file_line_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let text_with_unset = MENU.replace(
        "think = \"20ms\"",
        "think = \"20ms\"\nheaders = { Authorization = \"Bearer {{env.HARNESS_TEST_SURELY_UNSET}}\" }",
    );
    let file = write_scenario(dir.path(), "unset.toml", &text_with_unset);
    let out = run_binary(
        &[
            "run",
            file.to_str().unwrap(),
            "--target",
            "http://127.0.0.1:9",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("unset.toml:17:"), "{err}");
    assert!(
        err.contains("HARNESS_TEST_SURELY_UNSET is not set"),
        "{err}"
    );
}

#[tokio::test]
async fn a_dry_run_against_a_remote_url_prints_the_plan_and_exits_0_without_connecting() {
    // `.invalid` never resolves: had the dry run tried, the pre-flight would
    // have failed with exit 3.
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run_cli(&[
        "run",
        crate::helpers::repo_file("scenarios/rush-hour.toml")
            .to_str()
            .unwrap(),
        "--target",
        "https://staging.example.invalid",
        "--dry-run",
        "--gate",
        "p99 < 1s",
        "--reports-dir",
        dir.path().to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    for part in [
        "target: https://staging.example.invalid (remote",
        "verified (system trust store)",
        "stage peak",
        "ramp 300 users → 1200 users",
        "peak: 1200 users",
        "flow takeout",
        "weight 3 (30 %)",
        "fault edge-latency",
        "link edge",
        "p99 < 1s",
        "report: ",
    ] {
        assert!(out.contains(part), "{part:?} missing from\n{out}");
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no report written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edge_fault_in_front_of_an_https_target_passes_tls_through_with_the_real_name() {
    let dir = tempfile::tempdir().unwrap();
    let pki = https::pki(dir.path(), false);
    let backend = https::start(&pki, false).await;
    let with_fault = format!(
        "{MENU}\n[[faults]]\nname = \"slow-edge\"\nat = \"200ms\"\nduration = \"500ms\"\nlink = \"edge\"\ntype = \"latency\"\nattributes = {{ latency = 150 }}\n"
    );
    let file = write_scenario(dir.path(), "edge.toml", &with_fault);
    let reports = dir.path().join("reports");
    let out = tokio::task::block_in_place(|| {
        run_binary(
            &[
                "run",
                file.to_str().unwrap(),
                "--quiet",
                "--target",
                &backend.url,
                "--ca-cert",
                pki.ca.to_str().unwrap(),
                "--reports-dir",
                reports.to_str().unwrap(),
            ],
            dir.path(),
        )
    });
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = summary(&report_of(dir.path(), &out));
    // The proxy forwarded the TLS bytes: the certificate for `localhost` was
    // checked and accepted on every connection, through the proxy.
    assert_eq!(s["requests"][0]["errors"], 0, "{}", s["requests"][0]);
    assert_eq!(s["faults"][0]["name"], "slow-edge");
    let max = s["overall"]["latency_ms"]["max"].as_f64().unwrap();
    assert!(max >= 150.0, "the latency toxic applied: max {max} ms");
    assert!(backend.hits() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_sending_through_shard_zeros_proxy_keeps_the_https_name_for_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = https::pki(dir.path(), false);
    let backend = https::start(&pki, false).await;
    // `harness proxy` on a free port: the Toxiproxy both shards share.
    let (api, mut proxy) = crate::shards::spawn_proxy().await;
    let with_fault = format!(
        "{MENU}\n[[faults]]\nname = \"slow-edge\"\nat = \"200ms\"\nduration = \"500ms\"\nlink = \"edge\"\ntype = \"latency\"\nattributes = {{ latency = 150 }}\n"
    );
    let file = write_scenario(dir.path(), "sharded-tls.toml", &with_fault);
    let (_, at) = crate::shards::start_at(std::time::Duration::from_secs(6));
    let ca = pki.ca.to_str().unwrap();
    let shards = crate::shards::run_shards(
        dir.path(),
        &file,
        &backend.url,
        2,
        &at,
        &["--toxiproxy", &api, "--ca-cert", ca],
    )
    .await;
    let _ = proxy.kill().await;
    for (i, (code, folder)) in shards.iter().enumerate() {
        assert_eq!(*code, 0, "shard {i}: {}", folder.display());
        let s = summary(folder);
        // Shard 1 reached the backend through shard 0's proxy and checked the
        // certificate for `localhost` on every connection.
        assert_eq!(
            s["requests"][0]["errors"], 0,
            "shard {i}: {}",
            s["requests"][0]
        );
        let max = s["overall"]["latency_ms"]["max"].as_f64().unwrap();
        assert!(
            max >= 150.0,
            "shard {i}: the latency toxic applied: max {max} ms"
        );
    }
    assert!(backend.hits() > 0);
}
