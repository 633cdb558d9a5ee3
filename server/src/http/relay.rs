//! Wake-ups a connection's task gives itself, kept inside the task.
//!
//! A connection task (hyper's server connection, the handler, and the OpenSearch connection it
//! drives) wakes itself many times while it is being polled: hyper's channels between the
//! connection and the request and response bodies fire the task's own waker. tokio treats a task
//! woken while it runs as one that yielded: it goes to the back of the run queue and an idle
//! worker is woken to share the work (a futex wake-up, about one per call at concurrency 1 in
//! `perf`), which may then take the task to the other thread. [`SelfWake`] polls the future with
//! a waker of its own: a wake-up that arrives while the future is being polled only makes it
//! poll the future again (a bounded number of times, then it yields as before); one that
//! arrives while it is not (I/O, timers, other tasks) wakes the task as usual.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::{waker_ref, ArcWake, AtomicWaker};

/// Not being polled: a wake-up wakes the task.
const IDLE: u8 = 0;
/// Being polled: a wake-up is noted for another poll.
const POLLING: u8 = 1;
/// Being polled, and woken meanwhile.
const WOKEN: u8 = 2;
/// Polls in a row for wake-ups given while polling; past this the task yields to the scheduler.
const MAX_POLLS: usize = 16;

struct Relay {
    state: AtomicU8,
    task: AtomicWaker,
}

impl ArcWake for Relay {
    fn wake_by_ref(this: &Arc<Self>) {
        match this
            .state
            .compare_exchange(POLLING, WOKEN, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) | Err(WOKEN) => {}
            Err(_) => this.task.wake(),
        }
    }
}

/// `inner`, with the wake-ups it gives itself while polled kept in the task.
pub(super) struct SelfWake<F> {
    inner: Pin<Box<F>>,
    relay: Arc<Relay>,
}

impl<F: Future> SelfWake<F> {
    pub(super) fn new(inner: F) -> SelfWake<F> {
        SelfWake {
            inner: Box::pin(inner),
            relay: Arc::new(Relay {
                state: AtomicU8::new(IDLE),
                task: AtomicWaker::new(),
            }),
        }
    }
}

impl<F: Future> Future for SelfWake<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        this.relay.task.register(cx.waker());
        let waker = waker_ref(&this.relay);
        let mut inner_cx = Context::from_waker(&waker);
        for _ in 0..MAX_POLLS {
            this.relay.state.store(POLLING, Ordering::Release);
            if let Poll::Ready(v) = this.inner.as_mut().poll(&mut inner_cx) {
                this.relay.state.store(IDLE, Ordering::Release);
                return Poll::Ready(v);
            }
            if this
                .relay
                .state
                .compare_exchange(POLLING, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Poll::Pending;
            }
        }
        this.relay.state.store(IDLE, Ordering::Release);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_while_polled_repoll_and_later_wakes_reach_the_task() {
        // Wakes itself three times, then waits for another task.
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let mut polls = 0;
        let mut rx = Some(rx);
        let fut = std::future::poll_fn(move |cx| {
            polls += 1;
            if polls <= 3 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            match Pin::new(rx.as_mut().unwrap()).poll(cx) {
                Poll::Ready(v) => Poll::Ready((v.unwrap(), polls)),
                Poll::Pending => Poll::Pending,
            }
        });
        let task = tokio::spawn(SelfWake::new(fut));
        tokio::task::yield_now().await;
        tx.send(7).unwrap();
        let (v, polls) = task.await.unwrap();
        assert_eq!(v, 7);
        assert_eq!(polls, 5);
    }

    #[tokio::test]
    async fn a_future_that_always_wakes_itself_still_yields() {
        let mut n = 0u32;
        let spin = std::future::poll_fn(move |cx| {
            n += 1;
            if n == 100 {
                return Poll::Ready(n);
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        assert_eq!(SelfWake::new(spin).await, 100);
    }
}
