//! Fleet publishing over MQTT with store-and-forward: the outbox commit hook, the
//! payloads and topics, and the publisher task that drains the outbox to the broker.
//!
//! Topics, under `[mqtt] topic_prefix` and `gateway`:
//! `<prefix>/<gateway>/<meter>/status` (retained, the latest decoded state),
//! `.../reading`, `.../alert`, and `<prefix>/<gateway>/online` (retained `online`;
//! `offline` as the last will and on a clean stop). All at QoS 1; payloads are JSON
//! described by `schema/*.json`, each with a stable `message_id`.
//!
//! Delivery is at least once: a message leaves the outbox only after its PUBACK, and
//! everything still there is published again after a reconnect or a restart.
//!
//! Wiring (what the daemon does):
//! ```ignore
//! let doorbell = Doorbell::new();
//! store.add_hook(Box::new(OutboxHook::new(&mqtt, config.lookup.clone(), doorbell.clone(), metrics.clone())))?;
//! let publisher = Publisher::spawn(mqtt, &store.config().db_path(), doorbell, metrics, shutdown)?;
//! ```
//! This module must not decide alerts nor read meters; it only carries what the store
//! committed.

mod error;
mod link;
pub mod message;
pub mod outbox;
mod publisher;

pub use error::PublishError;
pub use link::tls_config;
pub use message::{MessageKind, Topics};
pub use outbox::{Doorbell, OutboxHook, OutboxItem, OutboxReader};
pub use publisher::{Publisher, PublisherHandle};
