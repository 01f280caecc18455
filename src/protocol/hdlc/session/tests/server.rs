//! The server alone, against byte-exact frames from gurux-dlms and hand-built polls.

use super::*;

#[test]
fn server_answers_snrm_with_negotiated_ua() {
    let mut config = ServerConfig::new(server_addr());
    config.params.max_info_tx = 256;
    config.params.max_info_rx = 256;
    let mut s = HdlcServer::new(config);
    s.handle_bytes(T0, SNRM_PARAMS_GURUX); // client proposes 32 / 32
    let actions = drain_server(&mut s);
    let ua = Frame::parse(&sends(&actions)[0]).unwrap();
    assert_eq!(ua.control, Control::Ua { poll: true });
    let expected = HdlcParameters {
        max_info_tx: 32,
        max_info_rx: 32,
        window_tx: 1,
        window_rx: 1,
    };
    assert_eq!(HdlcParameters::parse(&ua.info), Ok(expected));
    assert!(actions.contains(&Action::Connected(expected)));
    assert_eq!(s.client(), Some(client_addr()));
}

#[test]
fn server_reassembles_gurux_segments() {
    let mut s = server();
    s.handle_bytes(T0, SNRM_PARAMS_GURUX);
    drain_server(&mut s);
    s.handle_bytes(T0, I_SEGMENT_1_GURUX);
    let rr = sends(&drain_server(&mut s));
    assert_eq!(
        Frame::parse(&rr[0]).unwrap().control,
        Control::Rr { nr: 1, poll: true }
    );
    s.handle_bytes(T0, I_SEGMENT_2_GURUX);
    let mut aarq = I_SEGMENT_1_GURUX[11..37].to_vec();
    aarq.extend_from_slice(&I_SEGMENT_2_GURUX[8..38]);
    assert_eq!(drain_server(&mut s), vec![Action::Deliver(aarq)]);
    assert_eq!(s.state(), ServerState::Processing);
}

#[test]
fn server_segments_response_and_repeats_on_poll() {
    let mut config = ServerConfig::new(server_addr());
    config.params.max_info_tx = 32;
    let mut s = HdlcServer::new(config);
    s.handle_bytes(T0, SNRM_GURUX); // client proposes defaults: server sends 32, takes 128
    drain_server(&mut s);
    s.handle_bytes(T0, I_AARQ_GURUX);
    drain_server(&mut s);
    let response: Vec<u8> = (0..40).collect();
    s.send_apdu(T0, &response).unwrap();
    let seg1 = sends(&drain_server(&mut s));
    let f1 = Frame::parse(&seg1[0]).unwrap();
    assert!(f1.segmented);
    assert_eq!(
        f1.control,
        Control::I {
            ns: 0,
            nr: 1,
            poll: true
        }
    );
    // Poll with N(R)=0: segment 0 not received, so it comes again, byte for byte.
    let poll = |nr| {
        Frame::new(
            server_addr(),
            client_addr(),
            Control::Rr { nr, poll: true },
            vec![],
        )
        .to_bytes()
        .unwrap()
    };
    s.handle_bytes(T0, &poll(0));
    assert_eq!(sends(&drain_server(&mut s)), seg1);
    // N(R)=1 acknowledges it: the last segment follows.
    s.handle_bytes(T0, &poll(1));
    let f2 = Frame::parse(&sends(&drain_server(&mut s))[0]).unwrap();
    assert!(!f2.segmented);
    assert_eq!(f1.info.len() + f2.info.len(), 3 + 40);
    assert_eq!(s.state(), ServerState::Idle);
    // N(R)=5 acknowledges nothing we sent: frame reject.
    s.handle_bytes(T0, &poll(5));
    let frmr = Frame::parse(&sends(&drain_server(&mut s))[0]).unwrap();
    assert_eq!(frmr.control, Control::Frmr { poll: true });
    let reject = FrameReject::parse(&frmr.info).unwrap();
    assert_eq!(reject.reasons, FRMR_Z_INVALID_NR);
    assert_eq!(s.state(), ServerState::Rejected);
}

#[test]
fn server_answers_dm_when_disconnected_and_handles_disc() {
    let mut s = server();
    s.handle_bytes(T0, RR_GURUX);
    let dm = Frame::parse(&sends(&drain_server(&mut s))[0]).unwrap();
    assert_eq!(dm.control, Control::Dm { poll: true });
    assert_eq!(dm.destination, client_addr());
    s.handle_bytes(T0, DISC_GURUX);
    assert_eq!(sends(&drain_server(&mut s)), vec![DM_SERVER.to_vec()]);
    s.handle_bytes(T0, SNRM_GURUX);
    drain_server(&mut s);
    s.handle_bytes(T0, DISC_GURUX);
    assert_eq!(
        drain_server(&mut s),
        vec![Action::Send(UA_PLAIN.to_vec()), Action::Disconnected]
    );
    assert_eq!(s.state(), ServerState::Disconnected);
}

#[test]
fn server_ignores_frames_for_other_meters() {
    let mut s = HdlcServer::new(ServerConfig::new(HdlcAddress::server(1, Some(17)).unwrap()));
    s.handle_bytes(T0, SNRM_GURUX); // addressed to server 1 (one byte)
    assert!(matches!(
        drain_server(&mut s)[..],
        [Action::Discarded(Discard::NotForUs { .. })]
    ));
    assert_eq!(s.state(), ServerState::Disconnected);
}

#[test]
fn server_inactivity_timeout_disconnects() {
    let mut config = ServerConfig::new(server_addr());
    config.inactivity_timeout = Some(ms(1000));
    let mut s = HdlcServer::new(config);
    s.handle_bytes(T0, SNRM_GURUX);
    assert_eq!(
        drain_server(&mut s).last(),
        Some(&Action::SetTimer(ms(1000)))
    );
    s.handle_timeout(ms(999));
    assert!(drain_server(&mut s).is_empty());
    s.handle_timeout(ms(1000));
    assert_eq!(drain_server(&mut s), vec![Action::Disconnected]);
}

/// AARE (association accepted), 43 bytes.
#[rustfmt::skip]
const AARE: &[u8] = &[
    0x61, 0x29, 0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01, 0xA2, 0x03,
    0x02, 0x01, 0x00, 0xA3, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x00, 0xBE, 0x10, 0x04, 0x0E, 0x08,
    0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00, 0x00, 0x10, 0x1D, 0x04, 0x00, 0x00, 0x07,
];

#[test]
fn server_segmented_aare_accepted_by_gurux() {
    // These exact frames were fed to a gurux-dlms 1.0.203 client (after its SNRM and AARQ):
    // it answered the first with RR N(R)=1 (RR_GURUX), reassembled both and parsed the AARE.
    #[rustfmt::skip]
    let seg1: &[u8] = &[
        0x7E,
        0xA8, 0x29,       // format type 3, S=1, length 41
        0x21,             // destination: client 0x10
        0x03,             // source: server 1
        0x30,             // I-frame: N(R)=1, F=1, N(S)=0
        0xAF, 0x4B,       // HCS
        0xE6, 0xE7, 0x00, // LLC response header
        // first 29 bytes of the AARE (32-byte information field)
        0x61, 0x29, 0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01, 0xA2, 0x03,
        0x02, 0x01, 0x00, 0xA3, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x00, 0xBE, 0x10, 0x04, 0x0E,
        0xF1, 0xFE,       // FCS
        0x7E,
    ];
    #[rustfmt::skip]
    let seg2: &[u8] = &[
        0x7E,
        0xA0, 0x17,       // format type 3, S=0 (last), length 23
        0x21,             // destination: client 0x10
        0x03,             // source: server 1
        0x32,             // I-frame: N(R)=1, F=1, N(S)=1
        0x2D, 0xD0,       // HCS
        // last 14 bytes of the AARE
        0x08, 0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00, 0x00, 0x10, 0x1D, 0x04, 0x00, 0x00, 0x07,
        0xB7, 0x2B,       // FCS
        0x7E,
    ];
    let mut config = ServerConfig::new(server_addr());
    config.params.max_info_tx = 32;
    let mut s = HdlcServer::new(config);
    s.handle_bytes(T0, SNRM_GURUX);
    drain_server(&mut s);
    s.handle_bytes(T0, I_AARQ_GURUX);
    drain_server(&mut s);
    s.send_apdu(T0, AARE).unwrap();
    assert_eq!(sends(&drain_server(&mut s)), vec![seg1.to_vec()]);
    s.handle_bytes(T0, RR_GURUX);
    assert_eq!(sends(&drain_server(&mut s)), vec![seg2.to_vec()]);
    assert_eq!(s.state(), ServerState::Idle);
}
