//! The accept loop: hyper (HTTP/1.1 only, as `axum::serve` with axum's default features served;
//! the ALB speaks HTTP/1.1 to targets) on a tokio listener, with what `axum::serve` does not offer:
//!
//! * at most `MCP_MAX_CONNECTIONS` connections; past it, `HEALTH_RESERVE` more connections may
//!   only ask for health (one request, then closed) so the load balancer still sees the task
//!   healthy, and beyond those a connection is answered 503 and closed at once;
//! * a request's headers must arrive within `HEADER_READ_TIMEOUT` of its first byte (slowloris),
//!   an idle keep-alive connection closes after `MCP_KEEPALIVE_TIMEOUT` (longer than the ALB's
//!   idle timeout, as AWS asks of targets, or the ALB may reuse a connection the target is
//!   closing and answer 502), and a response write that makes no progress for
//!   `WRITE_STALL_TIMEOUT` ends the connection. The body deadline is in `jsonrpc.rs`;
//! * graceful shutdown: stop accepting, let each connection finish its requests, then close.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::{Limits, HEADER_READ_TIMEOUT, HEALTH_RESERVE, WRITE_STALL_TIMEOUT};

/// The two applications: everything, and health only (for connections in the reserve).
pub struct Apps {
    /// The full router.
    pub main: Router,
    /// Health paths only; anything else is 503.
    pub health_only: Router,
}

/// The running accept loop.
pub struct Served {
    /// The accept loop's task (ends when `stop` is cancelled).
    pub task: tokio::task::JoinHandle<()>,
    main: Arc<Semaphore>,
    reserve: Arc<Semaphore>,
    max: usize,
}

impl Served {
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.max + HEALTH_RESERVE - self.main.available_permits() - self.reserve.available_permits()
    }

    /// Resolves when every connection has closed.
    pub async fn closed(&self) {
        while self.open() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Start accepting on `listener`; `stop` ends the loop and asks every connection to close.
pub fn start(
    listener: TcpListener,
    apps: Apps,
    limits: &Limits,
    stop: CancellationToken,
) -> Served {
    let main = Arc::new(Semaphore::new(limits.max_connections));
    let reserve = Arc::new(Semaphore::new(HEALTH_RESERVE));
    let full = Arc::new(builder(limits.keepalive, true));
    let health = Arc::new(builder(HEADER_READ_TIMEOUT, false));
    let keepalive = limits.keepalive;
    let (m, r) = (main.clone(), reserve.clone());
    let task = tokio::spawn(async move {
        loop {
            let tcp = tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => tcp,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        static WARN: super::log::Throttle = super::log::Throttle::new();
                        if WARN.allow() {
                            tracing::warn!(message = "accept failed", error = %e);
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let (permit, app, builder, idle) = if let Ok(p) = m.clone().try_acquire_owned() {
                (p, apps.main.clone(), full.clone(), keepalive)
            } else if let Ok(p) = r.clone().try_acquire_owned() {
                (
                    p,
                    apps.health_only.clone(),
                    health.clone(),
                    HEADER_READ_TIMEOUT,
                )
            } else {
                refuse(tcp);
                continue;
            };
            let stop = stop.clone();
            tokio::spawn(super::relay::SelfWake::new(async move {
                serve_one(tcp, app, &builder, idle, stop).await;
                drop(permit);
            }));
        }
    });
    Served {
        task,
        main,
        reserve,
        max: limits.max_connections,
    }
}

fn builder(keepalive: Duration, keep_alive: bool) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new()).http1_only();
    b.http1()
        .timer(TokioTimer::new())
        .keep_alive(keep_alive)
        // hyper starts this timer when a connection goes idle, so it is the idle backstop; the
        // watchdog below applies the shorter limit from a request's first byte.
        .header_read_timeout(keepalive + Duration::from_secs(5))
        .max_buf_size(64 * 1024);
    b
}

/// Over every cap: say 503 if the socket takes it at once, and close.
fn refuse(tcp: TcpStream) {
    let _ = tcp.try_write(
        b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
    );
    static WARN: super::log::Throttle = super::log::Throttle::new();
    if WARN.allow() {
        tracing::warn!(message = "connection refused: MCP_MAX_CONNECTIONS reached");
    }
}

/// What the watchdog knows about one connection.
struct ConnState {
    start: Instant,
    /// Requests whose response body is not done.
    busy: AtomicUsize,
    /// Milliseconds since `start` when `busy` last became 0.
    idle_since: AtomicU64,
    /// Milliseconds since `start` (+1) of the first byte read while idle; 0: none.
    first_byte: AtomicU64,
    /// Milliseconds since `start` (+1) since when a write is pending; 0: none.
    write_blocked: AtomicU64,
}

impl ConnState {
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Why the connection should close now, if it should.
    fn expired(&self, idle_limit: Duration) -> Option<&'static str> {
        let now = self.now();
        let older =
            |since: u64, limit: Duration| now.saturating_sub(since) > limit.as_millis() as u64;
        let blocked = self.write_blocked.load(Ordering::Relaxed);
        if blocked != 0 && older(blocked - 1, WRITE_STALL_TIMEOUT) {
            return Some("write stalled");
        }
        if self.busy.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let first = self.first_byte.load(Ordering::Relaxed);
        if first != 0 {
            return older(first - 1, HEADER_READ_TIMEOUT).then_some("headers too slow");
        }
        older(self.idle_since.load(Ordering::Relaxed), idle_limit).then_some("idle")
    }
}

/// Marks the connection busy until the response body is done.
struct Busy(Arc<ConnState>);

impl Busy {
    fn new(s: Arc<ConnState>) -> Busy {
        s.busy.fetch_add(1, Ordering::Relaxed);
        Busy(s)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let s = &self.0;
        s.idle_since.store(s.now(), Ordering::Relaxed);
        s.first_byte.store(0, Ordering::Relaxed);
        s.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps the connection busy.
struct BusyBody {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for BusyBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling the watchdog about first bytes and stalled writes.
struct WatchedIo {
    tcp: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        let s = &self.state;
        if let Poll::Ready(Ok(())) = polled {
            let got = &buf.filled()[before..];
            if !got.is_empty()
                && s.busy.load(Ordering::Relaxed) == 0
                && s.first_byte.load(Ordering::Relaxed) == 0
            {
                s.first_byte.store(s.now() + 1, Ordering::Relaxed);
            }
        }
        polled
    }
}

impl WatchedIo {
    fn note_write<T>(&self, polled: &Poll<T>) {
        let s = &self.state;
        match polled {
            Poll::Pending => {
                if s.write_blocked.load(Ordering::Relaxed) == 0 {
                    s.write_blocked.store(s.now() + 1, Ordering::Relaxed);
                }
            }
            Poll::Ready(_) => s.write_blocked.store(0, Ordering::Relaxed),
        }
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.note_write(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.note_write(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Serve one connection until it ends, a limit closes it, or shutdown has drained it.
async fn serve_one(
    tcp: TcpStream,
    app: Router,
    builder: &auto::Builder<TokioExecutor>,
    idle_limit: Duration,
    stop: CancellationToken,
) {
    let state = Arc::new(ConnState {
        start: Instant::now(),
        busy: AtomicUsize::new(0),
        idle_since: AtomicU64::new(0),
        first_byte: AtomicU64::new(0),
        write_blocked: AtomicU64::new(0),
    });
    let io = TokioIo::new(WatchedIo {
        tcp,
        state: state.clone(),
    });
    let svc_state = state.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let busy = Busy::new(svc_state.clone());
        let call = app.clone().oneshot(req.map(Body::new));
        async move {
            let response = call.await?;
            Ok::<_, std::convert::Infallible>(
                response.map(|inner| Body::new(BusyBody { inner, _busy: busy })),
            )
        }
    });
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut draining = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.cancelled(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tick.tick() => {
                if let Some(reason) = state.expired(idle_limit) {
                    tracing::debug!(message = "connection closed", reason);
                    return;
                }
            }
        }
    }
}
