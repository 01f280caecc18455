//! What can stop the publisher from starting. Once running it does not fail: a lost
//! broker is retried with backoff, and the outbox keeps every message meanwhile.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("MQTT TLS file {}: {message}", path.display())]
    Tls { path: PathBuf, message: String },
    #[error("the MQTT outbox in {} cannot be used: {source}", path.display())]
    Outbox {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}
