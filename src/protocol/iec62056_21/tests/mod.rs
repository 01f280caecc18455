//! Tests of the IEC 62056-21 layer: byte-exact vectors, data sets, framing and parity,
//! decoders, client and meter sessions on a virtual clock, and property tests.

mod dataset;
mod decoder;
mod framing;
mod props;
mod sessions;
mod sim;
mod solo;
mod vectors;
