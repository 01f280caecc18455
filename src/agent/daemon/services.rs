//! The services beside the buses: the MQTT publisher (with its outbox hook in the
//! store) and the `/metrics` server, started when the config asks for them and
//! stopped after the last poll is recorded.

use super::DaemonError;
use crate::agent::metrics::{self, Metrics, MetricsServer};
use crate::agent::publish::{Doorbell, OutboxHook, Publisher, PublisherHandle};
use crate::agent::store::Store;
use crate::config::Config;
use tokio::sync::watch;

/// The metrics server and the MQTT publisher, when the config asks for them.
pub(super) struct Services {
    pub metrics: Option<MetricsServer>,
    publisher: Option<PublisherHandle>,
}

impl Services {
    /// Add the outbox hook to `store` and start the publisher (`[mqtt]`), and serve
    /// `/metrics` (`[metrics]`); both stop when `stop` turns true.
    pub async fn start(
        config: &Config,
        store: &mut Store,
        m: &Metrics,
        stop: watch::Receiver<bool>,
    ) -> Result<Services, DaemonError> {
        let publisher = match &config.mqtt {
            None => None,
            Some(mqtt) => {
                let doorbell = Doorbell::new();
                let hook =
                    OutboxHook::new(mqtt, config.lookup.clone(), doorbell.clone(), m.clone());
                store
                    .add_hook(Box::new(hook))
                    .map_err(|source| DaemonError::State {
                        dir: store.config().dir.clone(),
                        source,
                    })?;
                let db = store.config().db_path();
                let handle = Publisher::spawn(mqtt.clone(), &db, doorbell, m.clone(), stop.clone())
                    .map_err(DaemonError::Publisher)?;
                Some(handle)
            }
        };
        let metrics = if config.metrics.enabled {
            let listen = config.metrics.listen;
            let server = metrics::serve(listen, m.clone(), stop)
                .await
                .map_err(|source| DaemonError::Metrics { listen, source })?;
            tracing::info!(listen = %server.local_addr, "serving /metrics");
            Some(server)
        } else {
            None
        };
        Ok(Services { metrics, publisher })
    }

    pub async fn stop(self) {
        if let Some(p) = self.publisher {
            p.join().await;
        }
        if let Some(m) = self.metrics {
            let _ = m.task.await;
        }
    }
}
