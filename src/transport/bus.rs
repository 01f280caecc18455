//! `Bus`: one half-duplex RS-485 line shared by every meter wired to it.
//!
//! Only one conversation may use the line at a time; `lock` hands the link to callers
//! in arrival order (tokio's Mutex is FIFO). Must not schedule meters or know what a
//! conversation is; that is the agent's job.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;

use super::link::BoxLink;

/// A shared link; clones are handles to the same line.
#[derive(Debug)]
pub struct Bus<L = BoxLink> {
    name: Arc<str>,
    link: Arc<Mutex<L>>,
}

impl<L> Clone for Bus<L> {
    fn clone(&self) -> Self {
        Bus {
            name: Arc::clone(&self.name),
            link: Arc::clone(&self.link),
        }
    }
}

impl<L> Bus<L> {
    /// A bus named `name` (used in logs, e.g. the port path) over `link`.
    pub fn new(name: impl Into<String>, link: L) -> Self {
        Bus {
            name: Arc::from(name.into()),
            link: Arc::new(Mutex::new(link)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Wait for exclusive use of the line, behind every caller that asked earlier.
    ///
    /// The guard derefs to the link and releases it when dropped. It owns its share
    /// of the bus, so it can move into a spawned task.
    pub async fn lock(&self) -> BusGuard<L> {
        let asked = Instant::now();
        let guard = Arc::clone(&self.link).lock_owned().await;
        tracing::trace!(bus = %self.name, waited_ms = asked.elapsed().as_millis() as u64, "bus acquired");
        BusGuard { guard }
    }

    /// Take the line only if nobody holds it now.
    pub fn try_lock(&self) -> Option<BusGuard<L>> {
        Arc::clone(&self.link)
            .try_lock_owned()
            .ok()
            .map(|guard| BusGuard { guard })
    }
}

/// Exclusive use of a bus's link for one conversation.
#[derive(Debug)]
pub struct BusGuard<L> {
    guard: OwnedMutexGuard<L>,
}

impl<L> Deref for BusGuard<L> {
    type Target = L;
    fn deref(&self) -> &L {
        &self.guard
    }
}

impl<L> DerefMut for BusGuard<L> {
    fn deref_mut(&mut self) -> &mut L {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Poll;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};
    use tokio::sync::{mpsc, oneshot};

    /// Poll a future exactly once and report whether it finished.
    async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
    }

    #[tokio::test]
    async fn waiters_are_served_one_at_a_time_in_arrival_order() {
        let bus = Bus::new("test", 0u32);
        let mut a = bus.lock().await;
        *a += 1;

        let mut b = Box::pin(bus.lock());
        let mut c = Box::pin(bus.lock());
        assert!(
            poll_once(&mut b).await.is_pending(),
            "b must wait while a holds the bus"
        );
        assert!(poll_once(&mut c).await.is_pending(), "c must wait too");
        assert!(bus.try_lock().is_none());

        drop(a);
        // c polled first after the release must still wait for b, who asked earlier.
        assert!(
            poll_once(&mut c).await.is_pending(),
            "c must not overtake b"
        );
        let Poll::Ready(mut b) = poll_once(&mut b).await else {
            panic!("b was first in line");
        };
        assert_eq!(*b, 1);
        *b += 1;
        assert!(
            poll_once(&mut c).await.is_pending(),
            "c waits while b holds the bus"
        );
        drop(b);
        let Poll::Ready(c) = poll_once(&mut c).await else {
            panic!("c was next in line");
        };
        assert_eq!(*c, 2);
    }

    #[tokio::test]
    async fn conversations_from_two_tasks_never_interleave() {
        let (agent_end, mut meter_end) = duplex(64);
        let bus: Bus<tokio::io::DuplexStream> = Bus::new("duplex", agent_end);
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let (release_a, hold_a) = oneshot::channel::<()>();

        // Task A holds the bus mid-conversation until the test lets it go.
        let a = {
            let bus = bus.clone();
            let events = events_tx.clone();
            tokio::spawn(async move {
                let mut link = bus.lock().await;
                events.send("a locked").unwrap();
                link.write_all(b"A1").await.unwrap();
                hold_a.await.unwrap();
                link.write_all(b"A2").await.unwrap();
                events.send("a released").unwrap();
            })
        };
        assert_eq!(events.recv().await, Some("a locked"));

        let b = {
            let bus = bus.clone();
            tokio::spawn(async move {
                events_tx.send("b asking").unwrap();
                let mut link = bus.lock().await;
                events_tx.send("b locked").unwrap();
                link.write_all(b"B1B2").await.unwrap();
            })
        };
        assert_eq!(events.recv().await, Some("b asking"));
        release_a.send(()).unwrap();
        a.await.unwrap();
        b.await.unwrap();
        assert_eq!(events.recv().await, Some("a released"));
        assert_eq!(events.recv().await, Some("b locked"));

        let mut wire = [0u8; 8];
        meter_end.read_exact(&mut wire).await.unwrap();
        assert_eq!(
            &wire, b"A1A2B1B2",
            "b's frame must not land inside a's conversation"
        );
    }
}
