//! What a run that did not finish leaves on a Toxiproxy, and its removal:
//! at the start of a run, the toxics left on the harness's proxies by an
//! earlier run that was killed ([`remove_leftover_toxics`]); and, when a run
//! is unwinding and async cleanup cannot be awaited, its own proxies, by
//! plain blocking HTTP/1.1 DELETEs, each with a deadline, sent from a helper
//! thread so a runtime worker is never asked to block on I/O it also serves.

use fault_proxy::Client;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Each request may take this long; a stuck Toxiproxy cannot hold a panic up for long.
const DEADLINE: Duration = Duration::from_secs(2);

/// Removes every toxic from the harness's proxies (named `harness_*`) on the
/// Toxiproxy behind `client`: before a run's load, none of its own exist, so
/// any there was left by a run that was killed mid-fault, and would still
/// slow whatever crosses that proxy. Returns a note for each proxy cleaned,
/// or for a listing or removal that failed.
pub(super) async fn remove_leftover_toxics(client: &Client) -> Vec<String> {
    let proxies = match client.proxies().await {
        Ok(p) => p,
        Err(e) => {
            return vec![format!(
                "could not list the proxies on {} to remove toxics left by an earlier run: {e}",
                client.base_url()
            )]
        }
    };
    let mut notes = Vec::new();
    for (name, proxy) in proxies {
        if !name.starts_with(super::PROXY_PREFIX) || proxy.toxics.is_empty() {
            continue;
        }
        let mut removed = Vec::new();
        for toxic in &proxy.toxics {
            match client.remove_toxic(&name, &toxic.name).await {
                Ok(()) => removed.push(toxic.name.clone()),
                Err(e) if e.is_not_found() => {}
                Err(e) => notes.push(format!(
                    "toxic `{}` left on proxy `{name}` by an earlier run could not be removed: {e}",
                    toxic.name
                )),
            }
        }
        if !removed.is_empty() {
            notes.push(format!(
                "removed toxic(s) {} from proxy `{name}` on {} before the load: an earlier run \
                 was killed before it could remove them",
                removed.join(", "),
                client.base_url()
            ));
        }
    }
    notes
}

/// Deletes `proxies` from the Toxiproxy API at `base` (`http://host:port`).
/// A proxy already gone (404) counts as removed.
pub(super) fn delete_proxies(base: &str, proxies: &[String]) -> Result<(), String> {
    let authority = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let proxies = proxies.to_vec();
    let worker = std::thread::Builder::new()
        .name("fault-cleanup".into())
        .spawn(move || {
            let mut problems = Vec::new();
            for proxy in &proxies {
                match delete(&authority, proxy) {
                    Ok(204 | 404) => {}
                    Ok(status) => problems.push(format!("DELETE {proxy}: status {status}")),
                    Err(e) => problems.push(format!("DELETE {proxy}: {e}")),
                }
            }
            problems
        })
        .map_err(|e| format!("could not start the cleanup thread: {e}"))?;
    let problems = worker
        .join()
        .map_err(|_| "the cleanup thread panicked".to_string())?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn delete(authority: &str, proxy: &str) -> std::io::Result<u16> {
    let addr: SocketAddr = authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{authority} does not resolve")))?;
    let mut stream = TcpStream::connect_timeout(&addr, DEADLINE)?;
    stream.set_read_timeout(Some(DEADLINE))?;
    stream.set_write_timeout(Some(DEADLINE))?;
    let request = format!(
        "DELETE /proxies/{} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: harness\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        encode(proxy)
    );
    stream.write_all(request.as_bytes())?;
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < 12 {
        let n = stream.read(&mut head[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    // "HTTP/1.1 204 No Content": the status is the second word.
    let text = String::from_utf8_lossy(&head[..filled]);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {text:?}")))
}

fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
