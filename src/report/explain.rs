//! Why an item could not be read, in words a technician can act on.

use crate::meter::cosem::ItemError;
use crate::protocol::apdu::DataAccessResult;

/// What the failure means and what to try.
pub fn explain(error: &ItemError) -> String {
    match error {
        ItemError::Refused(DataAccessResult::ObjectUndefined) => {
            "The meter does not have this object: the profile points at an object this meter model lacks. List the meter's objects (probe --list-objects) and correct the profile.".to_owned()
        }
        ItemError::Refused(DataAccessResult::ReadWriteDenied) => {
            "The meter refused access for this client: read it again with the management client (--client 1) and the meter's password.".to_owned()
        }
        ItemError::Refused(DataAccessResult::ObjectUnavailable | DataAccessResult::TemporaryFailure) => {
            "The meter could not answer for this object just now: read it again.".to_owned()
        }
        ItemError::Refused(DataAccessResult::HardwareFault) => {
            "The meter reported a hardware fault for this object: note it and report it with the meter's serial number.".to_owned()
        }
        ItemError::Refused(other) => format!(
            "The meter refused the request ({other:?}): the profile's object may not fit this meter; check it with probe --list-objects."
        ),
        ItemError::BadValue { .. } => {
            "The meter answered with a value of an unexpected shape: the profile may point at the wrong object for this meter model.".to_owned()
        }
        ItemError::Failed(_) => {
            "The request failed but the connection held (the meter rejected the request form): read this item on its own again; if it fails again, report it.".to_owned()
        }
        ItemError::NotRead(_) => {
            "Not read: the connection to the meter was lost before this item. Check the cable or optical head and run the probe again.".to_owned()
        }
        ItemError::NotInProfile => {
            "The meter profile maps no object for this item, so it was not asked for.".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_gets_its_own_advice() {
        let cases = [
            ItemError::Refused(DataAccessResult::ObjectUndefined),
            ItemError::Refused(DataAccessResult::ReadWriteDenied),
            ItemError::BadValue {
                expected: "a number",
                found: "x".into(),
            },
            ItemError::Failed("exception".into()),
            ItemError::NotRead("lost".into()),
            ItemError::NotInProfile,
        ];
        let texts: Vec<String> = cases.iter().map(explain).collect();
        assert!(texts[0].contains("list-objects"));
        assert!(texts[1].contains("--client 1"));
        assert!(texts[4].contains("run the probe again"));
        let mut unique = texts.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), texts.len());
    }
}
