//! IEC 62056-47 wrapper for DLMS over TCP/UDP.
