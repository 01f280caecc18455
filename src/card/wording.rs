//! The card's own short wording of each field action: one line at arm's length.
//!
//! The lookup core keeps the full sentences (alerts and `decode` show them); the card
//! shortens each one without changing what the technician must do. A site override
//! is never shortened: the card prints the site's text as written.

use crate::codes::Mode;

/// The card's action for a code-87 sub-code (status 1000 + sub-code), or `None` to
/// print the core's text unchanged.
pub fn status_action(sub_code: u8, mode: Mode) -> Option<&'static str> {
    Some(match sub_code {
        0 => "No action: the meter is supplying the load.",
        1 => match mode {
            Mode::Postpaid => "Postpaid: ignore, not applicable.",
            Mode::Prepaid => "Customer loads a credit token; check the vending record if credit was bought.",
        },
        3 => "Check load vs. configured trip limit; advise less load or adjust the limit.",
        4 => "No action needed: the relay was tested.",
        5 | 6 => "Reseal the cover; enter the clear-tamper token.",
        7 => "Confirm the backend/HES instruction; reconnect if not intended.",
        8 => "Commission: enter the commissioning token (default 12345, see note) on the CIU or backend.",
        9 => "Inspect load for surges; advise the customer or adjust the protection.",
        11 => "Supply voltage too high: report to utility/feeder operator.",
        12 => "Supply voltage too low: report to utility/feeder operator.",
        13 => "Inspect wiring; correct polarity; clear tamper if needed.",
        14 => "Reseal the enclosure; enter the clear-tamper token.",
        15 => "Check for magnet tampering; clear the tamper.",
        16 => "Check for abnormal phase imbalance; troubleshoot load.",
        17 => "Inspect the neutral wiring for tampering.",
        18 => "Investigate the illegal bypass; escalate if confirmed.",
        21 => "Investigate the feeder's phase imbalance.",
        22 => "Meter overheating: check ventilation and load; let cool.",
        23 => "Check load PF; recommend PF correction (capacitors).",
        24 => "Tariff config issue in backend: escalate to AMI admin.",
        25 => "Local fault persists: troubleshoot it (e.g. overload, tamper) before reconnecting.",
        _ => return None,
    })
}

/// The card's shorter meaning for a sub-code, or `None` to print the core's. The
/// card drops what its group heading already says ("(tamper)" under TAMPER).
pub fn status_meaning(sub_code: u8) -> Option<&'static str> {
    Some(match sub_code {
        0 => "Relay closed (normal supply)",
        3 => "Over power (load > threshold)",
        5 => "Upper cover opened",
        6 => "Terminal cover opened",
        8 => "Not active (not commissioned)",
        13 => "Current reverse (wiring/tamper)",
        14 => "Enclosure cover opened",
        15 => "Magnetic field interference",
        18 => "Bypass (illegal connection)",
        25 => "Remote reconnect + local trip",
        _ => return None,
    })
}

/// The card's action for a short code, or `None` to print the core's text.
pub fn short_action(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "Record the reading; check the usage trend.",
        14 => "Compare with the customer's load; adjust if set too low.",
        35 => "If it stays low, investigate the load and its PF correction.",
        40 => "Check the tamper log; reseal the meter if necessary.",
        46 => "Review load demand; advise an upgrade if trips are frequent.",
        87 => "Value N = status 1000 + N: look it up in the status table.",
        _ => return None,
    })
}

/// The action printed for the undefined numbers of the status family.
pub const UNKNOWN_ACTION: &str = "Unknown: record the raw value; report to AMI admin.";
