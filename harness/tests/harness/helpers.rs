//! Shared test helpers: scenario files in temp dirs, the CLI run in-process
//! (one attack at a time: goose keeps process-wide state) or as the built
//! binary, and summary.json read back.

use clap::Parser;
use harness::cli::Cli;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The built harness binary: it also serves the bundled reference server.
pub fn harness_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_harness"))
}

/// A file of the repository, e.g. `scenarios/smoke.toml`.
pub fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Writes a scenario into `dir` and returns its path.
pub fn write_scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing a scenario");
    path
}

/// goose allows one attack per process at a time.
static ATTACK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Held by every test that runs an attack in this process (goose keeps
/// process-wide state: two attacks at once would stop each other).
pub async fn one_attack_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    ATTACK.lock().await
}

/// Runs `harness <args>` in-process (as `main` would, minus the runtime);
/// returns the exit code and what it printed on stdout.
pub async fn run_cli(args: &[&str]) -> (u8, String) {
    let _one_at_a_time = one_attack_at_a_time().await;
    let mut argv = vec!["harness".to_string()];
    argv.extend(args.iter().map(|s| s.to_string()));
    if args.first() == Some(&"run") {
        argv.extend([
            "--quiet".into(),
            "--server-exe".into(),
            harness_exe().display().to_string(),
        ]);
    }
    let cli = Cli::try_parse_from(argv).expect("the arguments parse");
    let mut out = Vec::new();
    let code = harness::cli::execute(cli, &mut out).await;
    (code, String::from_utf8_lossy(&out).into_owned())
}

/// Runs the built binary and waits for it.
pub fn run_binary(args: &[&str], cwd: &Path) -> Output {
    std::process::Command::new(harness_exe())
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running the harness binary")
}

/// The report folder named by the last line of a run's output.
pub fn report_dir(stdout: &str) -> PathBuf {
    let last = stdout.lines().last().unwrap_or_default();
    let index = last
        .strip_prefix("report: ")
        .unwrap_or_else(|| panic!("the last line names the report, got {last:?}\n{stdout}"));
    Path::new(index)
        .parent()
        .expect("index.html is in the run folder")
        .to_path_buf()
}

/// summary.json of a run folder, as JSON.
pub fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json exists");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

/// The whole-run figures of one request name in a summary.
pub fn request<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["requests"]
        .as_array()
        .expect("requests is a list")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no request {name:?} in the summary"))
}

/// The project's Python virtual environment (`.venv/`, git-ignored) with
/// `tools/requirements.txt` installed: `make tools` makes it, and the first
/// test that needs it makes it when it is missing. Returns its `python`.
pub fn python_tools() -> PathBuf {
    static READY: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut ready = READY.lock().unwrap_or_else(|e| e.into_inner());
    let venv = repo_file(".venv");
    let python = venv.join("bin").join("python");
    let stamp = venv.join(".tools-installed");
    let requirements = repo_file("tools/requirements.txt");
    let fresh = std::fs::metadata(&stamp)
        .and_then(|s| s.modified())
        .ok()
        .zip(
            std::fs::metadata(&requirements)
                .and_then(|r| r.modified())
                .ok(),
        )
        .is_some_and(|(s, r)| s >= r);
    if !*ready && !fresh {
        let make = std::process::Command::new("make")
            .arg("tools")
            .current_dir(repo_file(""))
            .status()
            .expect("running `make tools` (needs python3 with venv)");
        assert!(
            make.success(),
            "`make tools` failed: the Python tools are missing"
        );
    }
    *ready = true;
    python
}

/// The built harness binary running in the background, its stdout read line
/// by line, so a test can act when the run reaches a phase it prints.
pub struct Background {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every stdout line seen so far.
    pub seen: Vec<String>,
}

impl Background {
    /// Starts `harness <args>` in `cwd` with these extra environment variables.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(
        args: &[S],
        cwd: &Path,
        envs: &[(&str, &str)],
    ) -> Background {
        use std::io::BufRead;
        let mut child = std::process::Command::new(harness_exe())
            .args(args)
            .envs(envs.iter().copied())
            .current_dir(cwd)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting the harness binary");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Background {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (at most `within`) for a stdout line starting with `prefix`; returns it.
    pub fn wait_for_line(&mut self, prefix: &str, within: std::time::Duration) -> String {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line starting with {prefix:?} within {within:?}; stdout so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`) to the harness.
    pub fn signal(&self, name: &str) {
        let sent = std::process::Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -{name} failed");
    }

    /// Waits (at most `within`) for the harness to exit; returns its exit
    /// code (`None` when killed by a signal) and its whole stdout.
    pub fn finish(mut self, within: std::time::Duration) -> (Option<i32>, String) {
        let deadline = std::time::Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the harness") {
                break status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "the harness did not exit within {within:?}; stdout so far:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // The reader thread ends at EOF: every line is in the channel.
        while let Ok(line) = self.lines.recv_timeout(std::time::Duration::from_secs(10)) {
            self.seen.push(line);
        }
        (status.code(), self.seen.join("\n"))
    }
}
