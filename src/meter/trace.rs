//! Decoded trace lines (in progress).
