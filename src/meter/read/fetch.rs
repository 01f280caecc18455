//! Read a set of attributes in one go (GET-with-list where possible) without letting one
//! attribute fail the others: only an error that loses the association is returned.

use std::collections::HashMap;

use crate::meter::cosem::ItemError;
use crate::meter::error::MeterError;
use crate::meter::session::Session;
use crate::profile::AttributeRef;
use crate::protocol::axdr::Data;

/// The value (or why there is none) of each attribute asked for.
#[derive(Debug, Default)]
pub(super) struct Fetched(HashMap<AttributeRef, Result<Data, ItemError>>);

impl Fetched {
    /// The result for `attr` (a clone: one attribute may serve several items).
    pub(super) fn take(&self, attr: AttributeRef) -> Result<Data, ItemError> {
        self.0
            .get(&attr)
            .cloned()
            .unwrap_or_else(|| Err(ItemError::Failed(format!("{attr} was not read"))))
    }
}

/// Read `attrs` (duplicates are read once). `Err` only for a fatal session error.
pub(super) async fn fetch(
    session: &mut Session,
    attrs: &[AttributeRef],
) -> Result<Fetched, MeterError> {
    let mut unique: Vec<AttributeRef> = Vec::with_capacity(attrs.len());
    for a in attrs {
        if !unique.contains(a) {
            unique.push(*a);
        }
    }
    let mut out = Fetched::default();
    match session.get_many(&unique).await {
        Ok(results) => {
            for (a, r) in unique.into_iter().zip(results) {
                out.0.insert(a, r.map_err(ItemError::Refused));
            }
            return Ok(out);
        }
        Err(e) if e.is_fatal() => return Err(e),
        Err(e) => tracing::debug!(error = %e, "list read failed; reading one by one"),
    }
    // Design: one attribute the meter cannot handle (exception-response, an odd value)
    // must not cost the others their values.
    for a in unique {
        let r = match session.get(a, None).await {
            Ok(r) => r.map_err(ItemError::Refused),
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => Err(ItemError::Failed(e.to_string())),
        };
        out.0.insert(a, r);
    }
    Ok(out)
}
