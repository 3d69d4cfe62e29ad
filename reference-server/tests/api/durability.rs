//! A server killed with SIGKILL in the middle of a load keeps every order it acknowledged.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::helpers::{client, order_body, uuid_key};

fn start_server(data_dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--payment-gateway-url",
            "http://127.0.0.1:9",
            "--data-dir",
        ])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the server announces itself");
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the announce line")
        .to_owned();
    (child, address)
}

#[tokio::test]
async fn a_killed_and_restarted_server_still_has_every_order_it_acknowledged() {
    let data_dir = tempfile::tempdir().unwrap();
    let (mut child, address) = start_server(data_dir.path());
    let client = client();
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writers: Vec<_> = (0..16)
        .map(|_| {
            let (client, address, acked) = (client.clone(), address.clone(), acked_tx.clone());
            tokio::spawn(async move {
                for _ in 0..500 {
                    let sent = client
                        .post(format!("{address}/orders"))
                        .header("Idempotency-Key", uuid_key())
                        .json(&order_body("store-5", "espresso", 1))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 201 => {
                            let Ok(order) = r.json::<serde_json::Value>().await else {
                                return;
                            };
                            let _ = acked.send(order["id"].as_str().unwrap().to_owned());
                        }
                        _ => return, // the server is gone
                    }
                }
            })
        })
        .collect();
    drop(acked_tx);
    let mut acked = Vec::new();
    while acked.len() < 300 {
        match tokio::time::timeout(Duration::from_secs(20), acked_rx.recv()).await {
            Ok(Some(id)) => acked.push(id),
            _ => panic!("only {} orders acknowledged", acked.len()),
        }
    }
    child.kill().expect("SIGKILL"); // requests are still in flight
    child.wait().unwrap();
    for writer in writers {
        let _ = writer.await;
    }
    while let Some(id) = acked_rx.recv().await {
        acked.push(id);
    }

    let (mut child, address) = start_server(data_dir.path());
    let mut missing = Vec::new();
    for id in &acked {
        let response = client
            .get(format!("{address}/orders/{id}"))
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            missing.push(id.clone());
        }
    }
    let inventory: serde_json::Value = client
        .get(format!("{address}/stores/store-5/inventory"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged orders lost",
        missing.len(),
        acked.len()
    );
    let reserved = inventory["items"][0]["reserved"].as_i64().unwrap();
    assert!(
        reserved >= acked.len() as i64,
        "reservations survive with their orders"
    );
}
