//! The README's examples (and those of `harness --help`) run as written:
//! every `harness run` and `harness capacity` command runs in `--dry-run` form (so a
//! remote host is never resolved nor connected to), from a folder holding
//! the repository's scenarios and the files the examples name (a CA, a
//! client certificate, an earlier run); the other commands parse. Its
//! `[[targets]]` example is a valid part of payment-spike.

use crate::helpers::{harness_exe, repo_file, report_dir, run_binary, write_scenario};
use clap::Parser;
use std::path::Path;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The shell commands of the README: ```sh blocks and indented blocks,
/// continuation lines joined, comments and a trailing `&` dropped.
fn shell_examples(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut fence: Option<&str> = None;
    for line in readme.lines() {
        if let Some(lang) = line.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(lang.trim()),
            };
            continue;
        }
        match fence {
            Some("sh") => lines.push(line.to_string()),
            None if line.starts_with("    ") => lines.push(line[4..].to_string()),
            _ => {}
        }
    }
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in lines {
        let line = strip_comment(&line);
        match line.trim_end().strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(&line);
                let cmd = current.trim().trim_end_matches('&').trim().to_string();
                if !cmd.is_empty() {
                    commands.push(cmd);
                }
                current.clear();
            }
        }
    }
    commands
}

/// A line without its `# comment` (a `#` outside quotes).
fn strip_comment(line: &str) -> String {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if i == 0 || line[..i].ends_with(' ') => return line[..i].to_string(),
            _ => {}
        }
    }
    line.to_string()
}

/// Words as a shell splits them (quotes removed, no expansion).
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in cmd.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            _ => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

/// A finished run (one second against a mock), to stand for the README's
/// earlier runs.
async fn a_finished_run(dir: &Path) -> std::path::PathBuf {
    let backend = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&backend)
        .await;
    let file = write_scenario(
        dir,
        "seed-run.toml",
        "name = \"seed-run\"\n[load]\nmodel = \"closed\"\n[[load.stages]]\nduration = \"1s\"\nusers = 1\n\
         [[flows]]\nname = \"read\"\n[[flows.steps]]\nmethod = \"GET\"\npath = \"/menu\"\n",
    );
    let reports = dir.join("seed-reports");
    let out = run_binary(
        &[
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--target",
            &backend.uri(),
            "--reports-dir",
            reports.to_str().unwrap(),
        ],
        dir,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    dir.join(report_dir(&stdout))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[tokio::test]
async fn the_readmes_shell_examples_run_in_dry_run_form() {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    copy_dir(&repo_file("scenarios"), &cwd.join("scenarios"));
    crate::remote::https::pki(cwd, false);
    // The pinning example's self-signed server certificate: any certificate reads the same.
    std::fs::copy(cwd.join("ca.pem"), cwd.join("server.pem")).unwrap();
    let run = a_finished_run(cwd).await;
    // The history the `--baseline history` examples read: one real smoke run
    // on the bundled server, recorded where the examples look for it.
    let recorded = run_binary(
        &[
            "run",
            "scenarios/smoke.toml",
            "--quiet",
            "--duration",
            "2s",
            "--reports-dir",
            "history-reports",
            "--history",
            "reports/history.db",
        ],
        cwd,
    );
    assert!(
        recorded.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    for earlier in [
        "reports/smoke/20261122T013000Z",
        "reports/rush-hour/20261122T013000Z",
        "reports/rush-hour/latest",
        "reports/smoke/latest",
    ] {
        copy_dir(&run, &cwd.join(earlier));
    }
    let start_at = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut dry_runs = 0;
    let mut parsed = 0;
    // As written in the source: the terminal may wrap `--help`'s long lines.
    let help = std::fs::read_to_string(repo_file("harness/src/cli/mod.rs")).unwrap();
    let from_help = help
        .lines()
        .filter(|l| l.starts_with("  harness ") || l.starts_with("  API_TOKEN="))
        .map(|l| l.trim().to_string());
    for cmd in shell_examples(&readme).into_iter().chain(from_help) {
        let cmd = cmd
            .replace("$LOAD_TEST_URL", "https://staging.example.invalid")
            .replace("$at", &start_at)
            .replace("$i", "0");
        let mut argv = words(&cmd);
        // `NAME=value harness ...`: the variables go to the environment.
        let env: Vec<(String, String)> = argv
            .iter()
            .take_while(|w| w.contains('=') && !w.starts_with('-'))
            .map(|w| {
                let (k, v) = w.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        argv.drain(..env.len());
        if !argv
            .first()
            .is_some_and(|w| w == "harness" || w.ends_with("/harness"))
        {
            continue;
        }
        argv.remove(0);
        // A scenario of the reader's own (my-service.toml) is not in the repository.
        if argv
            .get(1)
            .is_some_and(|f| !f.starts_with("scenarios/") && f.ends_with(".toml"))
        {
            continue;
        }
        if matches!(argv[0].as_str(), "run" | "capacity") {
            if !argv.iter().any(|a| a == "--dry-run") {
                argv.push("--dry-run".into());
            }
            let out = std::process::Command::new(harness_exe())
                .args(&argv)
                .envs(env)
                .current_dir(cwd)
                .output()
                .unwrap();
            let shown = format!(
                "`{cmd}`\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(0), "{shown}");
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("nothing is resolved or connected"),
                "{shown}"
            );
            dry_runs += 1;
        } else {
            let full = std::iter::once("harness".to_string()).chain(argv.iter().cloned());
            harness::cli::Cli::try_parse_from(full)
                .unwrap_or_else(|e| panic!("`{cmd}` does not parse: {e}"));
            parsed += 1;
        }
    }
    assert!(
        dry_runs >= 20,
        "the README and --help have many run examples, ran {dry_runs}"
    );
    assert!(
        parsed >= 5,
        "compare, merge and proxy examples parse, got {parsed}"
    );
}

#[test]
fn the_readmes_targets_example_is_a_valid_part_of_payment_spike() {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let start = readme
        .find("    [[targets]]\n")
        .expect("the README has a [[targets]] example");
    let block: String = readme[start..]
        .lines()
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .map(|l| format!("{}\n", l.trim_start()))
        .collect();
    let spike = std::fs::read_to_string(repo_file("scenarios/payment-spike.toml")).unwrap();
    let text = format!("{spike}\n{block}");
    harness::scenario::parse(&text, Path::new("payment-spike.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{block}"));
}
