//! Every bad input is refused by the plan, before any process starts or any
//! byte is sent: exit 2, a message naming the option (or the file, line and
//! field) and why, with and without `--dry-run`. The target is a mock that
//! must receive nothing.

use crate::helpers::{run_binary, write_scenario};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// One request `GET /menu`, stages `warm-up` and `steady`, a fault `slow-edge`.
const TINY: &str = r#"name = "tiny"
seed = 1
[load]
model = "closed"
[[load.stages]]
name = "warm-up"
duration = "1s"
users = 1
[[load.stages]]
name = "steady"
duration = "2s"
users = 1
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
[[faults]]
name = "slow-edge"
at = "1s"
duration = "1s"
link = "edge"
type = "latency"
attributes = { latency = 100 }
"#;

/// A case: the scenario text (TINY when None), the command's arguments
/// after the scenario (`{dir}` is the temp folder), and what stderr must say.
struct Case {
    command: &'static str,
    scenario: Option<String>,
    args: Vec<String>,
    says: Vec<&'static str>,
}

fn case(command: &'static str, args: &[&str], says: &[&'static str]) -> Case {
    Case {
        command,
        scenario: None,
        args: args.iter().map(|a| a.to_string()).collect(),
        says: says.to_vec(),
    }
}

fn with_scenario(text: String, says: &[&'static str]) -> Case {
    Case {
        command: "run",
        scenario: Some(text),
        args: Vec::new(),
        says: says.to_vec(),
    }
}

fn cases() -> Vec<Case> {
    fn cap(more: &[&'static str]) -> Vec<&'static str> {
        [&["--slo", "p95<1s"][..], more].concat()
    }
    vec![
        case("run", &["--baseline", "{dir}/missing"], &["--baseline", "does not exist"]),
        case("run", &["--baseline", "{dir}"], &["--baseline", "not a run folder"]),
        case(
            "run",
            &["--shard", "1/4", "--start-at", "2020-01-01T00:00:00Z"],
            &["--start-at 2020-01-01T00:00:00Z", "ago"],
        ),
        case("run", &["--toxiproxy", "ftp://x"], &["--toxiproxy ftp://x", "plain HTTP"]),
        case("run", &["--reports-dir", "{dir}/a-file"], &["--reports-dir", "is a file"]),
        case(
            "run",
            &["--gate", "p95 < 1s for GET /nope"],
            &["--gate", "no request named so", "`GET /menu`"],
        ),
        case(
            "run",
            &["--gate", "p95 < 1s during lunch"],
            &["--gate", "no fault or stage named so", "`slow-edge`", "`steady`"],
        ),
        case("run", &["--repeat", "0"], &["--repeat 0", "at least 1"]),
        case("run", &["--max-regression", "p95=10%"], &["--max-regression needs a baseline"]),
        case("run", &["--duration", "50ms"], &["--duration 50ms", "at least 100ms"]),
        case("run", &["--scale", "1e12"], &["--scale", "--shard"]),
        case("capacity", &cap(&["--max-steps", "0"]), &["--max-steps 0"]),
        case("capacity", &cap(&["--precision", "0"]), &["--precision 0", "above 0"]),
        case("capacity", &cap(&["--precision", "2"]), &["--precision 2", "below 1"]),
        case("capacity", &cap(&["--step", "0s"]), &["--step 0ms", "at least 1s"]),
        case("capacity", &cap(&["--repeat", "0"]), &["--repeat 0"]),
        case("capacity", &["--slo", "p95<1s for GET /nope"], &["--slo", "no request named so"]),
        with_scenario(
            TINY.replacen("users = 1", "users = 10000000000", 1),
            &["tiny.toml:8:", "load.stages[0].users", "--shard"],
        ),
        with_scenario(
            TINY.replacen("users = 1", "users = -1", 1),
            &["load.stages[0].users", "expected a whole number"],
        ),
        with_scenario(
            TINY.replacen(
                "[[flows]]\nname = \"read\"",
                "[[flows]]\nname = \"read\"\nweight = 4294967295",
                1,
            ),
            &["flows[0].weight", "at most 1000000"],
        ),
        with_scenario(
            TINY.replacen(
                "seed = 1",
                "seed = 1\ngates = [\"p95 < 1s for GET /nope\"]",
                1,
            ),
            &["tiny.toml:3:", "gates[0]", "no request named so"],
        ),
        with_scenario(
            TINY.replacen("duration = \"1s\"\nlink", "duration = \"0s\"\nlink", 1),
            &["faults[0].duration", "above zero"],
        ),
        with_scenario(
            TINY.replacen("duration = \"1s\"\nlink", "duration = \"5s\"\nlink", 1),
            &["faults[0].duration", "after the load ends"],
        ),
        with_scenario(
            format!("{TINY}[[flows]]\nname = \"read\"\n[[flows.steps]]\nmethod = \"GET\"\npath = \"/\"\n"),
            &["flows[1].name", "declared twice"],
        ),
        with_scenario(
            TINY.replacen("name = \"tiny\"", "name = \"café\"", 1),
            &["field `name`", "ASCII"],
        ),
        with_scenario(
            TINY.replace("model = \"closed\"", "model = \"open\"")
                .replace("users = 1", "rate = 1")
                .replacen("rate = 1", "rate = 1e300", 1),
            &["load.stages[0].rate", "on schedule"],
        ),
        with_scenario(
            format!(
                "{TINY}[target]\nurl = \"http://127.0.0.1:9\"\n\
                 [[links]]\nname = \"a\"\nlisten = \"127.0.0.1:18555\"\nupstream = \"127.0.0.1:10\"\n\
                 [[links]]\nname = \"b\"\nlisten = \"127.0.0.1:18555\"\nupstream = \"127.0.0.1:11\"\n"
            ),
            &["links[1].listen", "as link `a` does"],
        ),
        with_scenario(
            format!(
                "{TINY}[target]\nurl = \"http://127.0.0.1:9\"\n\
                 [[links]]\nname = \"edge\"\nlisten = \"127.0.0.1:0\"\nupstream = \"127.0.0.1:10\"\n"
            ),
            &["links[0].upstream", "upstream must be the target (127.0.0.1:9)"],
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_is_refused_with_exit_2_before_anything_is_sent() {
    let backend = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&backend)
        .await;
    let uri = backend.uri();
    for (i, c) in cases().iter().enumerate() {
        for dry in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("a-file"), "not a folder").unwrap();
            let text = c.scenario.clone().unwrap_or_else(|| TINY.to_string());
            let file = write_scenario(dir.path(), "tiny.toml", &text);
            let reports = dir.path().join("reports");
            let d = dir.path().display().to_string();
            let mut args: Vec<String> = vec![c.command.into(), file.display().to_string()];
            args.extend(c.args.iter().map(|a| a.replace("{dir}", &d)));
            if !c.args.iter().any(|a| a == "--reports-dir") {
                args.extend(["--reports-dir".into(), reports.display().to_string()]);
            }
            args.extend(["--target".into(), uri.clone()]);
            if dry {
                args.push("--dry-run".into());
            }
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run_binary(&argv, dir.path());
            let stderr = String::from_utf8_lossy(&out.stderr);
            let shown = format!("case {i} {argv:?}\nstderr: {stderr}");
            assert_eq!(out.status.code(), Some(2), "{shown}");
            for says in &c.says {
                assert!(stderr.contains(says), "should say {says:?}: {shown}");
            }
            assert!(out.stdout.is_empty(), "nothing printed on stdout: {shown}");
            let made = reports.read_dir().map_or(0, |d| d.count());
            assert_eq!(made, 0, "no report folder: {shown}");
        }
    }
    backend.verify().await;
}

#[tokio::test]
async fn a_capacity_search_whose_target_is_unreachable_leaves_no_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "tiny.toml", TINY);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let reports = dir.path().join("reports");
    let out = run_binary(
        &[
            "capacity",
            file.to_str().unwrap(),
            "--slo",
            "p95<1s",
            "--target",
            &format!("http://127.0.0.1:{port}"),
            "--step",
            "1s",
            "--max-steps",
            "1",
            "--reports-dir",
            reports.to_str().unwrap(),
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let left: Vec<_> = walk(&reports);
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = dir.read_dir() else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let p = e.path();
            let mut below = walk(&p);
            below.push(p);
            below
        })
        .collect()
}

#[test]
fn the_plan_says_what_the_overrides_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "tiny.toml", TINY);
    let out = run_binary(
        &[
            "run",
            file.to_str().unwrap(),
            "--duration",
            "500ms",
            "--dry-run",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("whole number of seconds (at least 1 s): the load lasts 2s, not 500ms"),
        "{stdout}"
    );
    let smoke = crate::helpers::repo_file("scenarios/smoke.toml");
    let out = run_binary(
        &[
            "run",
            smoke.to_str().unwrap(),
            "--target",
            "https://staging.example.invalid",
            "--dry-run",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "note: the scenario's gateway_args (--decline-rate 0) set up the bundled server only"
        ),
        "{stdout}"
    );
    assert!(
        !dir.path().join("reports").exists(),
        "a dry run leaves no folder"
    );
}
