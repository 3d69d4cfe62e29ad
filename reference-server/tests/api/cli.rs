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
