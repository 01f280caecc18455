//! IEC 62056-46 HDLC: frames, addresses, HCS/FCS, segmentation and the session state machine.
