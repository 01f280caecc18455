//! Tests across the DL/T 645 layers: annotated vectors, the deframer, messages, values,
//! the Calin profile, the client exchange, the responder, and properties.

mod calin_tests;
mod client_tests;
mod deframer_tests;
mod frame_tests;
mod prop_tests;
mod responder_tests;
mod value_tests;
mod vectors;
