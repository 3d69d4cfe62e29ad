//! What `http_reset` needs: an answer body that stops after a number of
//! bytes and fails (so the answer is never complete), and a client socket
//! that is then reset (RST) rather than closed.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::{Body, Frame, SizeHint};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long the cut body waits before failing, so what it passed (and the
/// answer's head) is written to the client first.
const FLUSH_PAUSE: Duration = Duration::from_millis(5);

/// An answer body that passes `left` bytes (never all of a body of known
/// length), then fails and marks the connection for a reset.
pub(super) struct CutBody {
    inner: BoxBody<Bytes, BoxError>,
    left: u64,
    reset: Arc<AtomicBool>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl CutBody {
    pub fn new(inner: BoxBody<Bytes, BoxError>, bytes: u64, reset: Arc<AtomicBool>) -> CutBody {
        // Passing a whole body of known length would deliver the answer intact.
        let left = match inner.size_hint().exact() {
            Some(len) => bytes.min(len.saturating_sub(1)),
            None => bytes,
        };
        CutBody {
            inner,
            left,
            reset,
            pause: None,
        }
    }
}

impl Body for CutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        while self.left > 0 {
            match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    let take = (data.len() as u64).min(self.left);
                    data.truncate(take as usize);
                    self.left -= take;
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                // The body ended first: still cut before its end.
                None => self.left = 0,
            }
        }
        let pause = self
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_PAUSE)));
        ready!(pause.as_mut().poll(cx));
        self.reset.store(true, Ordering::Relaxed);
        Poll::Ready(Some(
            Err("the answer was cut by an http_reset toxic".into()),
        ))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The client socket: once `reset` is set, every write fails and closing it
/// sends RST (SO_LINGER 0) instead of FIN.
pub(super) struct ResettableIo {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl ResettableIo {
    pub fn new(stream: TcpStream, reset: Arc<AtomicBool>) -> ResettableIo {
        ResettableIo { stream, reset }
    }

    fn refuse(&self) -> Option<io::Error> {
        if !self.reset.load(Ordering::Relaxed) {
            return None;
        }
        let _ = self.stream.set_zero_linger();
        Some(io::ErrorKind::ConnectionReset.into())
    }
}

impl Drop for ResettableIo {
    fn drop(&mut self) {
        let _ = self.refuse();
    }
}

impl AsyncRead for ResettableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.refuse() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.refuse() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.refuse() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.refuse() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
