//! The client alone, against byte-exact frames from independent peers or built here.

use super::*;

#[test]
fn client_snrm_matches_gurux_and_ua_connects() {
    let mut c = client();
    c.connect(T0).unwrap();
    assert_eq!(
        drain_client(&mut c),
        vec![
            Action::Send(SNRM_GURUX.to_vec()),
            Action::SetTimer(ms(3000))
        ]
    );
    c.handle_bytes(ms(10), UA_PLAIN);
    assert_eq!(
        drain_client(&mut c),
        vec![
            Action::CancelTimer,
            Action::Connected(HdlcParameters::default())
        ]
    );
    assert_eq!(c.connect(ms(20)), Err(SessionError::AlreadyConnected));
}

#[test]
fn client_proposal_and_ua_parameters_are_negotiated() {
    let server = HdlcAddress::server(1, Some(17)).unwrap();
    let mut config = ClientConfig::new(client_addr(), server);
    config.params.max_info_tx = 512;
    config.params.max_info_rx = 512;
    let mut c = HdlcClient::new(config);
    c.connect(T0).unwrap();
    let snrm = sends(&drain_client(&mut c));
    assert_eq!(
        Frame::parse(&snrm[0]).unwrap().info,
        SNRM_FOUR_BYTE_GURUX[11..22]
    );
    // u9n UA: 128 both ways.
    c.handle_bytes(T0, UA_PARAMS_U9N);
    let expected = HdlcParameters::default();
    assert!(drain_client(&mut c).contains(&Action::Connected(expected)));
    assert_eq!(c.parameters(), Some(expected));
}

#[test]
fn client_refused_by_dm() {
    let mut c = client();
    c.connect(T0).unwrap();
    drain_client(&mut c);
    c.handle_bytes(T0, DM_SERVER);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::CancelTimer, Action::Fail(FailReason::Refused)]
    );
    assert_eq!(c.state(), ClientState::Disconnected);
}

#[test]
fn client_first_i_frame_matches_gurux_aarq() {
    let mut c = connected_client();
    let aarq = &I_AARQ_GURUX[11..42];
    c.send_apdu(ms(5), aarq).unwrap();
    assert_eq!(
        drain_client(&mut c),
        vec![
            Action::Send(I_AARQ_GURUX.to_vec()),
            Action::SetTimer(ms(3005))
        ]
    );
    assert_eq!(c.send_apdu(ms(6), aarq), Err(SessionError::Busy));
}

#[test]
fn client_delivers_response_without_llc() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0, 0x01]).unwrap();
    drain_client(&mut c);
    let control = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    c.handle_bytes(
        T0,
        &from_server(control, &[0xE6, 0xE7, 0x00, 0xC4, 0x01], false),
    );
    assert_eq!(
        drain_client(&mut c),
        vec![Action::CancelTimer, Action::Deliver(vec![0xC4, 0x01])]
    );
    assert_eq!(c.state(), ClientState::Idle);
}

#[test]
fn client_acknowledges_each_response_segment_with_gurux_rr() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let seg1 = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    c.handle_bytes(ms(1), &from_server(seg1, &[0xE6, 0xE7, 0x00, 0xAA], true));
    // RR N(R)=1, P=1: the same bytes gurux-dlms sends.
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Send(RR_GURUX.to_vec()), Action::SetTimer(ms(3001))]
    );
    let seg2 = Control::I {
        ns: 1,
        nr: 1,
        poll: true,
    };
    c.handle_bytes(ms(2), &from_server(seg2, &[0xBB], false));
    assert_eq!(
        drain_client(&mut c),
        vec![Action::CancelTimer, Action::Deliver(vec![0xAA, 0xBB])]
    );
}

#[test]
fn client_waits_for_rr_between_request_segments() {
    let mut config = ClientConfig::new(client_addr(), server_addr());
    config.params.max_info_tx = 32;
    let mut c = HdlcClient::new(config);
    c.connect(T0).unwrap();
    // The server accepts 32 bytes: UA with max receive 32 (server view).
    let ua_params = HdlcParameters {
        max_info_rx: 32,
        ..Default::default()
    };
    c.handle_bytes(
        T0,
        &from_server(Control::Ua { poll: true }, &ua_params.encode_full(), false),
    );
    drain_client(&mut c);
    let apdu: Vec<u8> = (0..70).collect();
    c.send_apdu(T0, &apdu).unwrap();
    let first = sends(&drain_client(&mut c));
    assert_eq!(first.len(), 1, "one segment, then wait");
    let f1 = Frame::parse(&first[0]).unwrap();
    assert!(f1.segmented);
    assert_eq!(f1.info.len(), 32);
    assert_eq!(&f1.info[..3], &[0xE6, 0xE6, 0x00]);
    c.handle_bytes(
        T0,
        &from_server(Control::Rr { nr: 1, poll: true }, &[], false),
    );
    let f2 = Frame::parse(&sends(&drain_client(&mut c))[0]).unwrap();
    assert!(f2.segmented);
    assert_eq!(
        f2.control,
        Control::I {
            ns: 1,
            nr: 0,
            poll: true
        }
    );
    c.handle_bytes(
        T0,
        &from_server(Control::Rr { nr: 2, poll: true }, &[], false),
    );
    let f3 = Frame::parse(&sends(&drain_client(&mut c))[0]).unwrap();
    assert!(!f3.segmented, "last segment clears the segmentation bit");
    assert_eq!(f3.info.len(), 73 - 64);
    let mut all = f1.info.clone();
    all.extend(&f2.info);
    all.extend(&f3.info);
    assert_eq!(&all[3..], &apdu[..]);
    assert_eq!(c.state(), ClientState::AwaitingResponse);
}

#[test]
fn client_polls_on_timeout_then_fails_after_bounded_retries() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    // Early timer calls do nothing.
    c.handle_timeout(ms(2999));
    assert!(drain_client(&mut c).is_empty());
    let mut now = ms(3000);
    for _ in 0..3 {
        c.handle_timeout(now);
        let actions = drain_client(&mut c);
        let polls = sends(&actions);
        assert_eq!(polls.len(), 1);
        assert_eq!(
            Frame::parse(&polls[0]).unwrap().control,
            Control::Rr { nr: 0, poll: true }
        );
        now += ms(3000);
        assert_eq!(actions.last(), Some(&Action::SetTimer(now)));
    }
    c.handle_timeout(now);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Fail(FailReason::NoResponse { attempts: 4 })]
    );
    assert_eq!(c.state(), ClientState::Disconnected);
}

#[test]
fn client_resends_i_frame_when_rr_says_it_was_not_received() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    let sent = sends(&drain_client(&mut c));
    c.handle_timeout(ms(3000));
    drain_client(&mut c);
    // Server answers the poll with N(R)=0: it never got N(S)=0.
    c.handle_bytes(
        ms(3001),
        &from_server(Control::Rr { nr: 0, poll: true }, &[], false),
    );
    assert_eq!(sends(&drain_client(&mut c)), sent);
}

#[test]
fn client_ignores_a_stale_rr_it_did_not_poll_for() {
    let mut config = ClientConfig::new(client_addr(), server_addr());
    config.params.max_info_tx = 32;
    let mut c = HdlcClient::new(config);
    c.connect(T0).unwrap();
    let ua_params = HdlcParameters {
        max_info_rx: 32,
        ..Default::default()
    };
    c.handle_bytes(
        T0,
        &from_server(Control::Ua { poll: true }, &ua_params.encode_full(), false),
    );
    c.send_apdu(T0, &[0; 100]).unwrap();
    drain_client(&mut c);
    let rr1 = from_server(Control::Rr { nr: 1, poll: true }, &[], false);
    c.handle_bytes(T0, &rr1);
    assert_eq!(sends(&drain_client(&mut c)).len(), 1, "second segment");
    // The same RR again (line duplicate): N(R)=1 no longer acknowledges our last frame, but we
    // did not poll, so it is stale: no retransmission.
    c.handle_bytes(T0, &rr1);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Discarded(Discard::Duplicate(Control::Rr {
            nr: 1,
            poll: true
        }))]
    );
    assert_eq!(c.state(), ClientState::Sending);
}

#[test]
fn client_fails_on_dm_frmr_and_bad_nr() {
    let mut c = connected_client();
    c.handle_bytes(T0, DM_SERVER);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Fail(FailReason::PeerDisconnected)]
    );

    let mut c = connected_client();
    let reject = [0x10, 0x00, FRMR_Z_INVALID_NR];
    c.handle_bytes(
        T0,
        &from_server(Control::Frmr { poll: true }, &reject, false),
    );
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Fail(FailReason::FrameRejected(FrameReject::parse(
            &reject
        )))]
    );
    let mut c = connected_client();
    c.handle_bytes(T0, FRMR_SERVER);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Fail(FailReason::FrameRejected(None))]
    );

    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let wrong_nr = Control::I {
        ns: 0,
        nr: 3,
        poll: true,
    };
    c.handle_bytes(T0, &from_server(wrong_nr, &[0xE6, 0xE7, 0x00, 0x01], false));
    assert_eq!(
        drain_client(&mut c),
        vec![
            Action::CancelTimer,
            Action::Fail(FailReason::SequenceError {
                expected: 1,
                found: 3
            })
        ]
    );
}

#[test]
fn client_rejects_response_without_llc() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let i = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    c.handle_bytes(T0, &from_server(i, &[0xC4, 0x01, 0x00, 0x01], false));
    let actions = drain_client(&mut c);
    assert!(matches!(
        actions.last(),
        Some(Action::Fail(FailReason::BadLlc(_)))
    ));
    assert!(!actions.iter().any(|a| matches!(a, Action::Deliver(_))));
}

#[test]
fn client_skips_its_own_echo() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0, 0x01]).unwrap();
    let sent = sends(&drain_client(&mut c));
    c.handle_bytes(T0, &sent[0]);
    assert_eq!(drain_client(&mut c), vec![Action::Discarded(Discard::Echo)]);
    assert_eq!(c.state(), ClientState::AwaitingResponse);
    // With echo skipping off, the same frame is simply not for us.
    let mut config = ClientConfig::new(client_addr(), server_addr());
    config.skip_echo = false;
    let mut c = HdlcClient::new(config);
    c.connect(T0).unwrap();
    let snrm = sends(&drain_client(&mut c));
    c.handle_bytes(T0, &snrm[0]);
    assert!(matches!(
        drain_client(&mut c)[..],
        [Action::Discarded(Discard::NotForUs { .. })]
    ));
}

#[test]
fn client_ignores_other_meters_on_the_bus() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let other = HdlcAddress::server(1, Some(18)).unwrap();
    let i = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    let f = Frame::new(client_addr(), other, i, vec![0xE6, 0xE7, 0x00, 0x01]);
    c.handle_bytes(T0, &f.to_bytes().unwrap());
    assert!(matches!(
        drain_client(&mut c)[..],
        [Action::Discarded(Discard::NotForUs { .. })]
    ));
    assert_eq!(c.state(), ClientState::AwaitingResponse);
}

#[test]
fn client_damaged_frame_is_reported_not_delivered() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let i = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    let mut bytes = from_server(i, &[0xE6, 0xE7, 0x00, 0x01, 0x02], false);
    bytes[10] ^= 0x04;
    c.handle_bytes(T0, &bytes);
    assert!(matches!(
        drain_client(&mut c)[..],
        [Action::Discarded(Discard::Damaged(DeframeError {
            kind: FrameError::BadFcs { .. },
            ..
        }))]
    ));
    assert_eq!(c.state(), ClientState::AwaitingResponse);
}

#[test]
fn client_disconnect_matches_gurux_disc() {
    let mut c = connected_client();
    c.disconnect(T0).unwrap();
    assert_eq!(sends(&drain_client(&mut c)), vec![DISC_GURUX.to_vec()]);
    c.handle_bytes(T0, UA_PLAIN);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::CancelTimer, Action::Disconnected]
    );
    assert_eq!(c.disconnect(T0), Err(SessionError::NotConnected));
    assert_eq!(c.send_apdu(T0, &[1]), Err(SessionError::NotConnected));
}

#[test]
fn client_to_four_byte_server_disconnects() {
    let server = HdlcAddress::server_sized(1, Some(17), AddressSize::Four).unwrap();
    let mut c = HdlcClient::new(ClientConfig::new(client_addr(), server));
    c.connect(T0).unwrap();
    drain_client(&mut c);
    c.handle_bytes(T0, UA_FOUR_BYTE);
    drain_client(&mut c);
    c.disconnect(T0).unwrap();
    assert_eq!(sends(&drain_client(&mut c)), vec![DISC_FOUR_BYTE.to_vec()]);
}
