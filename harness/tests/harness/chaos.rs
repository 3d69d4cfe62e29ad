//! Fault timelines against real proxies: latency inside the window and not
//! outside it, real window times recorded, and nothing left behind whether the
//! run finishes, is dropped, or panics.

use fault_proxy::{Client, Server, Stream, Toxic};
use harness::chaos::{Chaos, Fault, Link};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// How long a wait that ends as soon as it succeeds may last: generous, so
/// a loaded machine only slows a passing test down.
const PATIENCE: Duration = Duration::from_secs(30);

/// A Toxiproxy-compatible server on its own thread and runtime, standing for
/// a user's Toxiproxy in another process: it outlives the run under test.
struct External {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl External {
    fn start() -> External {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let server = Server::bind("127.0.0.1:0").await.unwrap();
                url_tx.send(server.url()).unwrap();
                server
                    .run_until(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let url = url_rx
            .recv_timeout(PATIENCE)
            .expect("the external proxy starts");
        External {
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn client(&self) -> Client {
        Client::new(&self.url).unwrap()
    }
}

impl Drop for External {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A loopback server that echoes what it gets.
async fn echo() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

async fn round_trip(socket: &mut TcpStream) -> Duration {
    let started = Instant::now();
    socket.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    tokio::time::timeout(PATIENCE, socket.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    started.elapsed()
}

fn latency_fault(name: &str, at_ms: u64, for_ms: u64, latency_ms: u64) -> Fault {
    Fault {
        name: name.into(),
        at: Duration::from_millis(at_ms),
        duration: Duration::from_millis(for_ms),
        link: "edge".into(),
        toxic: Toxic::from_parts(
            name,
            "latency",
            Stream::Upstream,
            1.0,
            &json!({"latency": latency_ms}),
        )
        .unwrap(),
    }
}

fn edge(upstream: SocketAddr) -> Link {
    Link {
        name: "edge".into(),
        listen: "127.0.0.1:0".into(),
        upstream: upstream.to_string(),
        http: false,
    }
}

/// Polls until the API shows `want` toxics in total (a fault task has acted).
async fn wait_for_toxics(client: &Client, want: usize) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let proxies = client.proxies().await.unwrap();
        if proxies.values().map(|p| p.toxics.len()).sum::<usize>() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "toxics never reached {want}: {proxies:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_window_adds_latency_during_the_window_and_not_after() {
    let mut chaos = Chaos::start(None).await.unwrap();
    let proxy = chaos.add_link(&edge(echo().await)).await.unwrap();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    socket.set_nodelay(true).unwrap();
    let run_start = Instant::now();
    // A window from 1 s to 3 s adding 400 ms: the round trip before it has a
    // second to finish, the one inside it 1.6 s of slack, and every bound on a
    // round trip is half the latency away from it; seconds a loaded machine
    // cannot use up.
    let timeline = chaos.start_timeline(
        vec![latency_fault("edge-latency", 1000, 2000, 400)],
        run_start,
    );

    let api = Client::new(chaos.api_url()).unwrap();
    let before = round_trip(&mut socket).await;
    // Phases by what the proxy holds, not by the clock: a loaded machine may
    // add or remove the toxic late.
    wait_for_toxics(&api, 1).await;
    let during = round_trip(&mut socket).await;
    wait_for_toxics(&api, 0).await;
    let after = round_trip(&mut socket).await;

    let (windows, notes) = timeline.finish().await;
    assert!(
        before < Duration::from_millis(200),
        "before the window: {before:?}"
    );
    assert!(
        during >= Duration::from_millis(395),
        "during the window: {during:?}"
    );
    assert!(
        after < Duration::from_millis(200),
        "after the window: {after:?}"
    );
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(windows.len(), 1);
    let w = &windows[0];
    assert_eq!((w.name.as_str(), w.link.as_str()), ("edge-latency", "edge"));
    assert_eq!(w.toxic, "latency 400 ms upstream");
    assert_eq!(w.planned_start_s, 1.0);
    // Recorded when they happened: never early, and late by at most a second.
    assert!(
        w.start_s >= 1.0 && w.start_s < 2.0,
        "started at {}",
        w.start_s
    );
    assert!(w.end_s >= 3.0 && w.end_s < 4.0, "ended at {}", w.end_s);

    assert!(
        api.toxics("harness_edge").await.unwrap().is_empty(),
        "the toxic is gone after the window"
    );
    chaos.cleanup().await.unwrap();
    chaos.cleanup().await.unwrap();
    assert!(
        TcpStream::connect(proxy).await.is_err(),
        "the built-in proxy is stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finishing_early_closes_the_open_window_and_notes_faults_that_never_started() {
    let external = External::start();
    let mut chaos = Chaos::start(Some(&external.url)).await.unwrap();
    chaos.add_link(&edge(echo().await)).await.unwrap();
    let mut missing = latency_fault("nowhere", 0, 1000, 10);
    missing.link = "payments".into();
    let faults = vec![
        latency_fault("open", 0, 60_000, 10),
        latency_fault("later", 60_000, 1000, 10),
        missing,
    ];
    let timeline = chaos.start_timeline(faults, Instant::now());
    wait_for_toxics(&external.client(), 1).await;

    let (windows, notes) = timeline.finish().await;
    assert_eq!(windows.len(), 1);
    assert!(
        windows[0].end_s < 10.0,
        "closed when the run stopped: {}",
        windows[0].end_s
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("later") && n.contains("never started")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("nowhere") && n.contains("payments")),
        "{notes:?}"
    );
    wait_for_toxics(&external.client(), 0).await;
    chaos.cleanup().await.unwrap();
    assert!(external.client().proxies().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_dropped_mid_window_leaves_no_proxy_and_no_toxic() {
    let external = External::start();
    let mut chaos = Chaos::start(Some(&external.url)).await.unwrap();
    chaos.add_link(&edge(echo().await)).await.unwrap();
    let timeline =
        chaos.start_timeline(vec![latency_fault("stuck", 0, 60_000, 500)], Instant::now());
    wait_for_toxics(&external.client(), 1).await;

    drop(timeline);
    drop(chaos);
    assert!(
        external.client().proxies().await.unwrap().is_empty(),
        "nothing left on the Toxiproxy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_panics_mid_window_leaves_no_proxy_and_no_toxic() {
    let external = External::start();
    let url = external.url.clone();
    let observer = external.client();
    let upstream = echo().await;
    let run = tokio::spawn(async move {
        let mut chaos = Chaos::start(Some(&url)).await.unwrap();
        chaos.add_link(&edge(upstream)).await.unwrap();
        let _timeline = chaos.start_timeline(
            vec![latency_fault("doomed", 0, 60_000, 500)],
            Instant::now(),
        );
        wait_for_toxics(&Client::new(&url).unwrap(), 1).await;
        panic!("the run fails mid-window");
    });
    let joined = run.await;
    assert!(joined.unwrap_err().is_panic());
    assert!(
        observer.proxies().await.unwrap().is_empty(),
        "nothing left on the Toxiproxy"
    );
}

#[tokio::test]
async fn a_stale_proxy_from_a_killed_run_is_replaced_and_unreachable_toxiproxy_is_named() {
    let external = External::start();
    let upstream = echo().await;
    let mut first = Chaos::start(Some(&external.url)).await.unwrap();
    first.add_link(&edge(upstream)).await.unwrap();
    std::mem::forget(first); // a killed process runs no cleanup at all
    let mut second = Chaos::start(Some(&external.url)).await.unwrap();
    let addr = second.add_link(&edge(upstream)).await.unwrap();
    let mut socket = TcpStream::connect(addr).await.unwrap();
    round_trip(&mut socket).await;
    second.cleanup().await.unwrap();
    assert!(external.client().proxies().await.unwrap().is_empty());

    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let err = Chaos::start(Some(&format!("http://{dead}")))
        .await
        .err()
        .expect("nothing listens there");
    assert!(err.to_string().contains(&dead.to_string()), "{err}");
}
