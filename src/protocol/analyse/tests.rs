use super::*;
use crate::protocol::hdlc::vectors::*;
use proptest::prelude::*;

#[test]
fn gurux_aarq_frame_decodes_through_every_layer() {
    let a = analyse(I_AARQ_GURUX);
    assert_eq!(a.kind, "hdlc");
    assert!(a.ok, "{a:#?}");
    let names: Vec<&str> = a.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["hdlc", "llc", "apdu AARQ"]);
    assert_eq!(a.layers[0].fields["source"], "16");
    assert_eq!(a.layers[1].fields["direction"], "command");
    // The APDU layer's byte range ends before the FCS and the closing flag.
    assert_eq!(a.layers[2].bytes.1, I_AARQ_GURUX.len() - 3);
}

#[test]
fn snrm_and_ua_show_parameters() {
    let a = analyse(SNRM_FOUR_BYTE_GURUX);
    assert!(a.ok);
    assert_eq!(a.layers[1].name, "parameters");
    assert!(a.layers[0].fields["destination"]
        .as_str()
        .unwrap()
        .contains("1/17"));
    assert!(analyse(UA_PARAMS_U9N).ok);
}

#[test]
fn several_frames_split_by_length_not_by_flag() {
    let mut two = I_SEGMENT_1_GURUX.to_vec();
    two.extend_from_slice(I_SEGMENT_2_GURUX);
    let a = analyse(&two);
    assert!(a.ok, "{a:#?}");
    assert_eq!(a.layers.iter().filter(|l| l.name == "hdlc").count(), 2);
    assert!(a.layers.iter().any(|l| l.name == "segment"));
}

#[test]
fn a_flipped_bit_is_reported_with_where_and_why() {
    let mut bad = I_AARQ_GURUX.to_vec();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x04;
    let a = analyse(&bad);
    assert!(!a.ok);
    let err = a.layers[0].error.as_deref().unwrap();
    assert!(err.contains("FCS"), "{err}");
    assert!(err.contains("never taken as data"), "{err}");
    assert_eq!(a.layers.len(), 1, "nothing past a damaged frame is decoded");
    let a = analyse(&I_AARQ_GURUX[..20]);
    assert!(a.layers[0].error.as_deref().unwrap().contains("truncated"));
}

/// An AARE with a long-form BER length (`61 82 00 ..`), as real meters send it.
#[test]
fn bare_aare_with_long_form_length_decodes() {
    #[rustfmt::skip]
    let aare: &[u8] = &[
        0x61, 0x82, 0x00, 0x29,             // AARE, long-form length 41
        0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01, // LN, no ciphering
        0xA2, 0x03, 0x02, 0x01, 0x00,       // result: accepted
        0xA3, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x00, // diagnostic: user null
        0xBE, 0x10, 0x04, 0x0E,             // user-information
        0x08, 0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00, 0x00, 0x10, 0x1D, 0x04, 0x00, 0x00, 0x07, // InitiateResponse
    ];
    let a = analyse(aare);
    assert_eq!(a.kind, "apdu");
    assert!(a.ok, "{a:#?}");
    assert_eq!(a.layers[0].name, "apdu AARE");
}

#[test]
fn wrapper_frame_decodes() {
    let get = [0xC0, 0x01, 0xC1, 0x00, 0x03, 1, 0, 1, 8, 0, 255, 0x02, 0x00];
    let w = crate::protocol::wrapper::WrapperFrame::new(16, 1, get.to_vec())
        .to_bytes()
        .unwrap();
    let a = analyse(&w);
    assert_eq!(a.kind, "wrapper");
    assert!(a.ok, "{a:#?}");
    assert_eq!(a.layers[0].fields["source_wport"], 16);
    assert_eq!(a.layers[1].name, "apdu GET-Request");
}

proptest! {
    #[test]
    fn any_bytes_give_an_analysis(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let a = analyse(&bytes);
        prop_assert!(!a.layers.is_empty() || bytes.is_empty());
    }

    #[test]
    fn any_frame_like_bytes_give_an_analysis(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = vec![0x7E, 0xA0];
        bytes.extend(tail);
        let _ = analyse(&bytes);
    }
}
