//! Connection limits: how many connections are served at once and how long one may idle.
//!
//! A client must not hold the gateway's resources by opening connections and
//! then sending nothing. Each accepted connection takes a permit, and one that
//! finds none left is closed at once; a connection on which no byte moves for
//! the idle timeout is closed, whatever protocol the client was about to speak.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// An acceptor that caps concurrent connections and wraps each in an idle timeout.
#[derive(Debug, Clone)]
pub struct LimitedAcceptor<A> {
    inner: A,
    permits: Arc<Semaphore>,
    idle_timeout: Duration,
}

impl<A> LimitedAcceptor<A> {
    /// Wraps `inner`: at most `max_connections` at once, each closed after `idle_timeout`.
    pub fn new(inner: A, max_connections: usize, idle_timeout: Duration) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max_connections)),
            idle_timeout,
        }
    }
}

/// What accepting a connection yields: the stream, idle-limited, and its service.
type Accepted<St, Sv> = io::Result<(IdleLimited<St>, Sv)>;

impl<A, I, S> Accept<I, S> for LimitedAcceptor<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Unpin + Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = IdleLimited<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = Accepted<A::Stream, A::Service>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        // Taken before the TLS handshake, so that handshakes count against the cap too.
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            drop(stream);
            tracing::warn!("connection refused: the connection limit is reached");
            return Box::pin(std::future::ready(Err(io::Error::other(
                "the connection limit is reached",
            ))));
        };
        let accepting = self.inner.accept(stream, service);
        let idle_timeout = self.idle_timeout;
        Box::pin(async move {
            let (stream, service) = accepting.await?;
            Ok((IdleLimited::new(stream, permit, idle_timeout), service))
        })
    }
}

/// A connection that holds its permit and fails once no byte has moved for the idle timeout.
#[derive(Debug)]
pub struct IdleLimited<S> {
    inner: S,
    idle_timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    _permit: OwnedSemaphorePermit,
}

impl<S> IdleLimited<S> {
    fn new(inner: S, permit: OwnedSemaphorePermit, idle_timeout: Duration) -> Self {
        Self {
            inner,
            idle_timeout,
            deadline: Box::pin(tokio::time::sleep(idle_timeout)),
            _permit: permit,
        }
    }

    /// Pushes the deadline back after progress; reports a timeout once it has passed.
    fn check<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            let next = Instant::now() + self.idle_timeout;
            self.deadline.as_mut().reset(next);
            return poll;
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connection was idle too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleLimited<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.check(cx, poll)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleLimited<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.check(cx, poll)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
