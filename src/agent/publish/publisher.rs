//! The publisher task: connect, announce `online`, drain the outbox in order with at
//! most `inflight` messages awaiting PUBACK, delete each message once acknowledged,
//! and on any failure drop the connection, back off and start again from the oldest
//! message still in the outbox. Asked to stop, it goes on publishing for up to
//! `SHUTDOWN_DRAIN`, then says `offline` and disconnects cleanly.
//!
//! It owns no message: the outbox does. It never decides what to publish (the commit
//! hook did) and never blocks the recorder longer than one short SQLite transaction.

use super::error::PublishError;
use super::link::{tls_config, Link, LinkDown, LinkEvent};
use super::message::{Topics, OFFLINE, ONLINE};
use super::outbox::{Doorbell, OutboxItem, OutboxReader};
use crate::agent::metrics::{BrokerState, Metrics};
use crate::config::MqttSettings;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Messages read from the outbox per query.
const FETCH: usize = 512;
/// Acknowledged messages deleted per transaction while draining a backlog.
const ACK_BATCH: usize = 256;
/// How long a clean shutdown waits for the broker to acknowledge `offline`.
const OFFLINE_GRACE: Duration = Duration::from_secs(2);
/// How long a clean shutdown goes on publishing what the last polls committed.
// Design: with the daemon's 5 s for conversations in flight, this drain, the offline
// grace and the DISCONNECT stay well inside systemd's TimeoutStopSec=15s. Whatever is
// not acknowledged by then stays in the outbox for the next start.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(2);

/// The running publisher.
pub struct PublisherHandle {
    pub task: JoinHandle<()>,
}

impl PublisherHandle {
    /// Wait for the task to end (after shutdown was asked).
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the MQTT publisher ended abnormally");
        }
    }
}

pub struct Publisher;

/// Resolves once shutdown is asked (or its sender is gone).
// Design: the `watch::Ref` that `wait_for` returns is not `Send`; it must not live
// across another branch's await in a `select!`.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

impl Publisher {
    /// Start publishing the outbox of the state database at `db_path`. `doorbell` is
    /// the one given to the `OutboxHook`. Fails only on what a restart would not fix:
    /// unreadable TLS files, an unusable database.
    pub fn spawn(
        settings: MqttSettings,
        db_path: &Path,
        doorbell: Doorbell,
        metrics: Metrics,
        shutdown: watch::Receiver<bool>,
    ) -> Result<PublisherHandle, PublishError> {
        let tls = settings.tls.as_ref().map(tls_config).transpose()?;
        let outbox = |source| PublishError::Outbox {
            path: db_path.to_owned(),
            source,
        };
        let reader = OutboxReader::open(db_path).map_err(outbox)?;
        metrics.set_outbox_depth(reader.depth().map_err(outbox)?);
        metrics.set_broker_state(BrokerState::Disconnected);
        let run = Run {
            topics: Topics::new(&settings.topic_prefix, &settings.gateway),
            settings,
            tls,
            db: Db {
                reader: Some(reader),
                path: db_path.to_owned(),
            },
            doorbell,
            metrics,
            shutdown,
        };
        Ok(PublisherHandle {
            task: tokio::spawn(run.main()),
        })
    }
}

/// The outbox connection, used from blocking threads.
struct Db {
    reader: Option<OutboxReader>,
    path: PathBuf,
}

impl Db {
    async fn with<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut OutboxReader) -> rusqlite::Result<T> + Send + 'static,
    ) -> Option<T> {
        let mut reader = self.reader.take()?;
        let joined = tokio::task::spawn_blocking(move || {
            let r = f(&mut reader);
            (reader, r)
        })
        .await;
        match joined {
            Ok((reader, r)) => {
                self.reader = Some(reader);
                match r {
                    Ok(v) => Some(v),
                    Err(e) => {
                        tracing::error!(error = %e, db = %self.path.display(), "MQTT outbox query failed");
                        None
                    }
                }
            }
            Err(e) => {
                // The connection went with the panicked thread: open a new one.
                tracing::error!(error = %e, "MQTT outbox thread failed; reopening");
                self.reader = OutboxReader::open(&self.path).ok();
                None
            }
        }
    }
}

/// What a publish in flight stands for.
#[derive(Clone, Copy, Debug)]
enum Tag {
    Outbox(i64),
    Control,
}

/// Why a connection ended.
enum End {
    Shutdown,
    Lost,
}

struct Run {
    settings: MqttSettings,
    topics: Topics,
    tls: Option<Arc<rustls::ClientConfig>>,
    db: Db,
    doorbell: Doorbell,
    metrics: Metrics,
    shutdown: watch::Receiver<bool>,
}

/// One connection's bookkeeping.
#[derive(Default)]
struct Session {
    /// The highest outbox id handed to the link in this connection.
    cursor: i64,
    buffer: VecDeque<OutboxItem>,
    /// The last fetch found everything: wait for the doorbell.
    exhausted: bool,
    /// Handed to the link, packet id not yet known (rumqttc assigns in order).
    unassigned: VecDeque<Tag>,
    inflight: HashMap<u16, Tag>,
    acked: Vec<i64>,
}

impl Session {
    fn outstanding(&self) -> usize {
        self.unassigned.len() + self.inflight.len()
    }
}

impl Run {
    async fn main(mut self) {
        let mut backoff = self.settings.reconnect_min;
        loop {
            if *self.shutdown.borrow() {
                break;
            }
            self.metrics.set_broker_state(BrokerState::Disconnected);
            let mut link = Link::new(&self.settings, &self.topics, self.tls.as_ref());
            match self.connect(&mut link).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(LinkDown(reason)) => {
                    tracing::warn!(broker = %self.broker(), %reason, retry_in = ?backoff, "cannot connect to the MQTT broker");
                    if !self.pause(backoff).await {
                        break;
                    }
                    backoff = (backoff * 2).min(self.settings.reconnect_max);
                    continue;
                }
            }
            backoff = self.settings.reconnect_min;
            self.metrics.set_broker_state(BrokerState::Connected);
            tracing::info!(broker = %self.broker(), "connected to the MQTT broker");
            match self.session(&mut link).await {
                End::Shutdown => break,
                End::Lost => {
                    self.metrics.set_broker_state(BrokerState::Disconnected);
                    if !self.pause(backoff).await {
                        break;
                    }
                }
            }
        }
        self.metrics.set_broker_state(BrokerState::Disconnected);
    }

    fn broker(&self) -> String {
        format!("{}:{}", self.settings.host, self.settings.port)
    }

    /// Wait `d` unless shutdown comes first; `false` on shutdown.
    async fn pause(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = stopped(&mut self.shutdown) => false,
            _ = tokio::time::sleep(d) => true,
        }
    }

    /// Poll until CONNACK; `Ok(false)` on shutdown.
    async fn connect(&mut self, link: &mut Link) -> Result<bool, LinkDown> {
        loop {
            tokio::select! {
                _ = stopped(&mut self.shutdown) => return Ok(false),
                ev = link.poll() => if ev? == LinkEvent::Connected { return Ok(true) },
            }
        }
    }

    async fn session(&mut self, link: &mut Link) -> End {
        let mut s = Session::default();
        if link.publish_text(self.topics.online(), ONLINE, true) {
            s.unassigned.push_back(Tag::Control);
        }
        let window = usize::from(self.settings.inflight);
        // Set once shutdown is asked: publish until the outbox is empty, or until then.
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            if s.buffer.is_empty() && !s.exhausted {
                let after = s.cursor;
                match self.db.with(move |r| r.fetch(after, FETCH)).await {
                    Some(items) => {
                        s.exhausted = items.len() < FETCH;
                        s.buffer.extend(items);
                    }
                    // A database error: treat like a lost link, retry after backoff.
                    None => return self.lost(&mut s, "the outbox cannot be read").await,
                }
            }
            while s.outstanding() < window {
                let Some(item) = s.buffer.pop_front() else {
                    break;
                };
                let topic = self.topics.meter(&item.meter, item.kind);
                let payload = item.payload.clone().into_bytes();
                if !link.publish(topic, payload, item.kind.retained(), &item.message_id) {
                    s.buffer.push_front(item);
                    break;
                }
                s.cursor = item.id;
                s.unassigned.push_back(Tag::Outbox(item.id));
            }
            let idle = s.buffer.is_empty() && s.exhausted;
            if s.acked.len() >= ACK_BATCH || (idle && !s.acked.is_empty()) {
                self.flush(&mut s).await;
            }
            let refill = s.buffer.is_empty() && !s.exhausted;
            if refill && s.outstanding() < window {
                continue;
            }
            if deadline.is_some() && idle && s.unassigned.is_empty() && s.inflight.is_empty() {
                self.goodbye(link, &mut s).await;
                return End::Shutdown;
            }
            let (mut stop, doorbell) = (self.shutdown.clone(), self.doorbell.clone());
            tokio::select! {
                biased;
                _ = stopped(&mut stop), if deadline.is_none() => {
                    deadline = Some(tokio::time::Instant::now() + SHUTDOWN_DRAIN);
                    // Look at the outbox once more: the last polls may have just
                    // committed.
                    s.exhausted = false;
                }
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)), if deadline.is_some() => {
                    tracing::info!(unacked = s.outstanding(), "stopping with messages still in the outbox; they go at the next start");
                    self.goodbye(link, &mut s).await;
                    return End::Shutdown;
                }
                ev = link.poll() => match ev {
                    Ok(LinkEvent::Sent(pkid)) => {
                        if let Some(tag) = s.unassigned.pop_front() {
                            s.inflight.insert(pkid, tag);
                        }
                    }
                    Ok(LinkEvent::Acked(pkid)) => {
                        if let Some(Tag::Outbox(id)) = s.inflight.remove(&pkid) {
                            s.acked.push(id);
                        }
                    }
                    Ok(LinkEvent::Refused { pkid, reason }) => {
                        let what = match s.inflight.get(&pkid) {
                            Some(Tag::Outbox(id)) => format!("outbox message {id}"),
                            _ => "the online message".to_owned(),
                        };
                        tracing::error!(%reason, %what, "the broker refused a publish; reconnecting (the message stays in the outbox)");
                        return self.lost(&mut s, "a publish was refused").await;
                    }
                    Ok(LinkEvent::Connected | LinkEvent::Other) => {}
                    Err(LinkDown(reason)) => {
                        return self.lost(&mut s, &reason).await;
                    }
                },
                _ = doorbell.rung(), if idle => s.exhausted = false,
            }
        }
    }

    async fn lost(&mut self, s: &mut Session, reason: &str) -> End {
        self.flush(s).await;
        let unacked = s.outstanding();
        tracing::warn!(broker = %self.broker(), %reason, unacked, "MQTT connection lost; unacknowledged messages will be published again");
        End::Lost
    }

    /// Delete what the broker acknowledged.
    async fn flush(&mut self, s: &mut Session) {
        if s.acked.is_empty() {
            return;
        }
        let ids = std::mem::take(&mut s.acked);
        let n = ids.len() as u64;
        let done = self
            .db
            .with(move |r| {
                r.acknowledge(&ids)?;
                r.depth()
            })
            .await;
        if let Some(depth) = done {
            self.metrics.published(n);
            self.metrics.set_outbox_depth(depth);
        }
        // On failure the rows stay: they are published again after the next
        // reconnect, and consumers drop the duplicates by message id.
    }

    /// A clean shutdown: keep what was acknowledged, say `offline`, disconnect.
    async fn goodbye(&mut self, link: &mut Link, s: &mut Session) {
        self.flush(s).await;
        if !link.publish_text(self.topics.online(), OFFLINE, true) {
            return;
        }
        s.unassigned.push_back(Tag::Control);
        // `offline` is the last publish handed over: its packet id is the one given
        // when nothing is left unassigned.
        let mut offline_pkid = None;
        let wait = async {
            loop {
                match link.poll().await {
                    Ok(LinkEvent::Sent(pkid)) => {
                        if let Some(tag) = s.unassigned.pop_front() {
                            s.inflight.insert(pkid, tag);
                            if s.unassigned.is_empty() {
                                offline_pkid = Some(pkid);
                            }
                        }
                    }
                    Ok(LinkEvent::Acked(pkid)) => match s.inflight.remove(&pkid) {
                        Some(Tag::Outbox(id)) => s.acked.push(id),
                        Some(Tag::Control) if Some(pkid) == offline_pkid => return,
                        _ => {}
                    },
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        };
        let _ = tokio::time::timeout(OFFLINE_GRACE, wait).await;
        self.flush(s).await;
        link.disconnect();
        // Let the DISCONNECT go out; the link is dropped afterwards either way.
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while link.poll().await.is_ok() {}
        })
        .await;
    }
}
