//! Listen addresses as Toxiproxy (Go's `net` package) treats them: resolved
//! before they are compared or bound (`localhost:3310` is `127.0.0.1:3310`),
//! and bind failures worded as Go words them.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, ToSocketAddrs};

/// Resolves a listen address the way Go's `net.ResolveTCPAddr("tcp", ..)`
/// does: an IP literal as it is, a host name to its first IPv4 address (else
/// its first address). An empty host (`:8474`) or an empty address is
/// loopback here, where Go would take every interface (see the README).
pub(crate) fn resolve(listen: &str) -> Result<SocketAddr, String> {
    let text = if listen.is_empty() { ":0" } else { listen };
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!("address {text}: missing port in address"));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("address {text}: invalid port"))?;
    if host.is_empty() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let found: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|_| format!("lookup {host}: no such host"))?
        .collect();
    found
        .iter()
        .find(|a| a.is_ipv4())
        .or(found.first())
        .copied()
        .ok_or_else(|| format!("lookup {host}: no such host"))
}

/// Binds `addr` as Go's `net.Listen` does (SO_REUSEADDR, a non-blocking
/// socket); the error reads like Go's: `listen tcp 127.0.0.1:3310: bind:
/// address already in use`.
pub(crate) fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    use socket2::{Domain, Socket, Type};
    let fail = |step: &str, e: io::Error| format!("listen tcp {addr}: {step}: {}", go_text(&e));
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)
        .map_err(|e| fail("socket", e))?;
    socket
        .set_reuse_address(true)
        .map_err(|e| fail("setsockopt", e))?;
    socket.bind(&addr.into()).map_err(|e| fail("bind", e))?;
    socket.listen(4096).map_err(|e| fail("listen", e))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| fail("setsockopt", e))?;
    Ok(socket.into())
}

/// An OS error as Go prints it: the C library's text, starting lower case,
/// without Rust's " (os error N)".
fn go_text(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_resolves_to_its_ipv4_address_and_literals_stay_as_they_are() {
        assert_eq!(
            resolve("localhost:3310").unwrap().to_string(),
            "127.0.0.1:3310"
        );
        assert_eq!(resolve("[::1]:5").unwrap().to_string(), "[::1]:5");
        assert_eq!(resolve("").unwrap().to_string(), "127.0.0.1:0");
        assert_eq!(resolve(":7").unwrap().to_string(), "127.0.0.1:7");
        assert!(resolve("localhost").unwrap_err().contains("missing port"));
    }

    #[test]
    fn a_taken_port_is_worded_as_go_words_it() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        assert_eq!(
            bind(addr).unwrap_err(),
            format!("listen tcp {addr}: bind: address already in use")
        );
    }
}
