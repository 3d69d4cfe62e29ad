//! `ConnIo`: the socket of one connection as hyper sees it, with two additions.
//!
//! - An idle timeout: when no byte has moved either way for `idle`, the next read or write fails
//!   and hyper closes the connection (a client that stops reading its answer cannot hold it).
//! - hyper answers a request it cannot parse (400, 414 URI too long, 431 head too large) by itself,
//!   with an empty body and before any middleware could add `X-Request-Id`. Those answers are
//!   recognised by their status line and the absence of `x-request-id` (every answer of the
//!   router carries one) and replaced by the same status in the JSON error envelope.
//!
//! Writes are not vectored, so hyper hands over each answer head in one buffer.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    time::{Instant, Sleep},
};

use super::raw_answer;

pub(crate) struct ConnIo {
    inner: TcpStream,
    idle: Duration,
    last_active: Instant,
    /// Wakes the connection when it may have been idle too long; pushed back lazily.
    deadline: Pin<Box<Sleep>>,
    /// A replacement answer being written in place of hyper's own.
    replacing: Option<Replacement>,
}

struct Replacement {
    bytes: Vec<u8>,
    written: usize,
}

impl ConnIo {
    pub(crate) fn new(inner: TcpStream, idle: Duration) -> Self {
        let now = Instant::now();
        Self {
            inner,
            idle,
            last_active: now,
            deadline: Box::pin(tokio::time::sleep_until(now + idle)),
            replacing: None,
        }
    }

    /// `Ready(error)` once nothing has moved for `idle`; registers the waker otherwise.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            if self.deadline.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let due = self.last_active + self.idle;
            if Instant::now() >= due {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle for too long",
                ));
            }
            self.deadline.as_mut().reset(due);
        }
    }

    fn write_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(r) = &mut self.replacing {
            if r.written == r.bytes.len() {
                self.replacing = None;
                break;
            }
            match Pin::new(&mut self.inner).poll_write(cx, &r.bytes[r.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    r.written += n;
                    self.last_active = Instant::now();
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return self.poll_idle(cx).map(Err),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.last_active = Instant::now();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            if let Some(bytes) = replacement_for(buf) {
                this.replacing = Some(Replacement { bytes, written: 0 });
            }
        }
        if this.replacing.is_some() {
            // hyper sees its own answer written whole; the peer gets the replacement.
            return this.write_replacement(cx).map_ok(|()| buf.len());
        }
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.last_active = Instant::now();
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.write_replacement(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.write_replacement(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The enveloped answer replacing hyper's own answer in `buf`, if `buf` is one.
fn replacement_for(buf: &[u8]) -> Option<Vec<u8>> {
    let status = buf.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let (code, reason, what, message) = match status {
        b"400" => (
            400,
            "Bad Request",
            "bad_request",
            "the request could not be parsed as HTTP/1.1",
        ),
        b"414" => (
            414,
            "URI Too Long",
            "uri_too_long",
            "the request target is longer than 65534 bytes",
        ),
        b"431" => (
            431,
            "Request Header Fields Too Large",
            "headers_too_large",
            "the request head is too large",
        ),
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = buf[..end].to_ascii_lowercase();
    if head.windows(13).any(|w| w == b"x-request-id:") {
        return None;
    }
    Some(raw_answer(code, reason, what, message, ""))
}

#[cfg(test)]
mod tests {
    use super::replacement_for;

    #[test]
    fn hyper_own_answers_are_replaced_and_router_answers_are_not() {
        let own = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let replaced = String::from_utf8(replacement_for(own).unwrap()).unwrap();
        assert!(replaced.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(replaced.contains("x-request-id: "));
        assert!(replaced.ends_with(r#"{"error":{"code":"uri_too_long","message":"the request target is longer than 65534 bytes"}}"#));
        let routed =
            b"HTTP/1.1 400 Bad Request\r\nx-request-id: abc\r\ncontent-length: 2\r\n\r\n{}";
        assert!(replacement_for(routed).is_none());
        assert!(replacement_for(b"HTTP/1.1 200 OK\r\n\r\n").is_none());
    }
}
