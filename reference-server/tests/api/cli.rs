//! The binary's command line: exit code 2 on bad configuration, the announce line.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

const BIN: &str = env!("CARGO_BIN_EXE_reference-server");

#[test]
fn bad_configuration_exits_with_2_and_names_the_flag() {
    for (args, named) in [
        (vec!["--stores", "0"], "--stores"),
        (vec!["--listen", "nowhere"], "--listen"),
        (
            vec!["--payment-gateway-url", "ftp://x"],
            "--payment-gateway-url",
        ),
        (vec!["gateway", "--decline-rate", "2"], "--decline-rate"),
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "nothing on stdout for {args:?}");
    }
}

#[test]
fn the_gateway_subcommand_announces_the_port_it_picked() {
    let mut child = Command::new(BIN)
        .args(["gateway", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(port, 0);
}

#[test]
fn without_an_admin_token_one_is_drawn_printed_once_on_stderr_and_works() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let token = loop {
        let mut log = String::new();
        assert_ne!(stderr.read_line(&mut log).unwrap(), 0, "no token printed");
        if let Some((_, token)) = log.trim().split_once("choose one): ") {
            break token.to_owned();
        }
    };
    assert!(token.len() >= 32, "{token}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = |bearer: String| {
        let put = reqwest::Client::new()
            .put(format!("{url}/admin/menu/latte"))
            .bearer_auth(bearer)
            .json(&serde_json::json!({"available": true}))
            .send();
        runtime.block_on(put).unwrap().status().as_u16()
    };
    assert_eq!(status("admin-secret".into()), 401);
    assert_eq!(status(token), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}
