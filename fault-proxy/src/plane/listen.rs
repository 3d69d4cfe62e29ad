//! Binding a proxy's listen address (checked and made an address by
//! `model::check_listen`) as Go's `net.Listen` binds it, with failures worded
//! as Go words them.

use std::io;
use std::net::{SocketAddr, TcpListener};

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
    fn a_taken_port_is_worded_as_go_words_it() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        assert_eq!(
            bind(addr).unwrap_err(),
            format!("listen tcp {addr}: bind: address already in use")
        );
    }
}
