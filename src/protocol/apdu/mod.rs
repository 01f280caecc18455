//! DLMS/COSEM application-layer PDUs (logical-name referencing).
