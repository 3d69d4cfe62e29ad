//! Compatibility: the built-in server driven by the `toxiproxy_rust` crate,
//! a third-party Toxiproxy client. It is blocking, so it runs on a blocking
//! thread while the server runs on the test's runtime.

use crate::helpers::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use toxiproxy_rust::client::Client as ThirdParty;
use toxiproxy_rust::proxy::ProxyPack;

/// Runs `f` with a `toxiproxy_rust` client pointed at the server.
async fn third_party<T: Send + 'static>(
    server: &TestServer,
    f: impl FnOnce(ThirdParty) -> T + Send + 'static,
) -> T {
    let addr = server.addr;
    tokio::task::spawn_blocking(move || f(ThirdParty::new(addr)))
        .await
        .expect("the blocking client did not panic")
}

/// One echo round trip over a plain blocking socket. Without toxics it takes
/// milliseconds; the tests bound it by half the 1 s latency they add, so a
/// loaded machine's stalls do not cross the line.
fn blocking_round_trip(addr: &str) -> Duration {
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    let started = Instant::now();
    socket.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    socket.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"ping");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_toxiproxy_rust_client_drives_every_endpoint_it_has() {
    let server = spawn_server().await;
    let upstream = echo_upstream().await.to_string();
    third_party(&server, move |tp| {
        assert!(tp.is_running());
        let version = tp.version().unwrap();
        assert!(version.contains("\"version\""), "{version}");

        let proxies = tp
            .populate(vec![ProxyPack::new(
                "socket".into(),
                "127.0.0.1:0".into(),
                upstream.clone(),
            )])
            .unwrap();
        assert_eq!(proxies.len(), 1);
        let listen = proxies[0].proxy_pack.listen.clone();
        assert!(!listen.ends_with(":0"));

        let all = tp.all().unwrap();
        assert!(all.contains_key("socket"));

        let proxy = tp.find_and_reset_proxy("socket").unwrap();
        proxy
            .with_latency("downstream".into(), 1000, 0, 1.0)
            .with_bandwidth("upstream".into(), 1000, 1.0)
            .with_slow_close("downstream".into(), 10, 1.0)
            .with_slicer("upstream".into(), 2048, 128, 0, 1.0);
        // toxiproxy_rust names toxics `{type}_{stream}`.
        let mut names: Vec<String> = proxy
            .toxics()
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "bandwidth_upstream",
                "latency_downstream",
                "slicer_upstream",
                "slow_close_downstream"
            ]
        );
        let slowed = blocking_round_trip(&listen);
        assert!(
            slowed >= Duration::from_millis(990),
            "latency through the proxy: {slowed:?}"
        );

        proxy.apply(|| {}).unwrap(); // deletes every toxic
        assert!(proxy.toxics().unwrap().is_empty());
        assert!(blocking_round_trip(&listen) < Duration::from_millis(500));

        proxy
            .with_timeout("downstream".into(), 0, 1.0)
            .with_limit_data("upstream".into(), 10, 1.0);
        assert_eq!(proxy.toxics().unwrap().len(), 2);
        tp.reset().unwrap();
        assert!(proxy.toxics().unwrap().is_empty());

        proxy
            .with_down(|| {
                assert!(
                    std::net::TcpStream::connect(&listen).is_err(),
                    "down means refused"
                );
            })
            .unwrap();
        assert!(tp.find_proxy("socket").unwrap().proxy_pack.enabled);
        assert!(blocking_round_trip(&listen) < Duration::from_millis(500));

        proxy.delete().unwrap();
        assert!(tp.all().unwrap().is_empty());
    })
    .await;
}
