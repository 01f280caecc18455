//! The only place that touches ports: serial (tokio-serial) and TCP links, bus locks, timeouts.
