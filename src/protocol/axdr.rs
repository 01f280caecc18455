//! A-XDR data (IEC 62056-6-2 / Blue Book): bounded, total decoder and encoder.
