//! A virtual optical link and clock driving a client and a meter session together.
//!
//! Bytes arrive at once (like a PTY) but only intact when both ends' line settings
//! agree at that moment; otherwise the receiver sees noise, as a UART would. No sleeps.

use core::time::Duration;

use super::super::client::ClientMode;
use super::super::server::{MeterEvent, SwitchCheck};
use super::super::*;

/// A DLMS client's first HDLC frame (SNRM) as the mode E hand-over test sends it.
#[rustfmt::skip]
pub const SNRM: &[u8] = &[0x7E, 0xA0, 0x07, 0x03, 0x21, 0x93, 0x0F, 0x01, 0x7E];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub baud: u32,
    pub framing: Framing,
}

const START: Line = Line {
    baud: 300,
    framing: Framing::SevenE1,
};

/// Everything that happened, with times, for assertions.
#[derive(Debug, Default)]
pub struct Log {
    pub client_sent: Vec<(Duration, Vec<u8>)>,
    pub client_switches: Vec<(Duration, u32, Framing)>,
    pub meter_sent: Vec<(Duration, Vec<u8>)>,
    pub meter_switches: Vec<(Duration, u32, Framing)>,
    pub events: Vec<MeterEvent>,
    pub outcome: Option<(Duration, ClientAction)>,
    pub meter_hdlc: Option<(u32, Vec<u8>)>,
}

impl Log {
    pub fn switch_checks(&self) -> Vec<SwitchCheck> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MeterEvent::SwitchChecked(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    pub fn readout(&self) -> &Readout {
        match &self.outcome {
            Some((_, ClientAction::Deliver(r))) => r,
            other => panic!("no readout: {other:?}"),
        }
    }

    pub fn failure(&self) -> &ClientFailure {
        match &self.outcome {
            Some((_, ClientAction::Fail(f))) => f,
            other => panic!("no failure: {other:?}"),
        }
    }
}

pub struct Sim {
    pub now: Duration,
    pub client: ClientSession,
    pub meter: MeterSession,
    /// The optical head echoes what the client sends.
    pub echo: bool,
    /// The harness reports the client's line change to the meter.
    pub report_switch: bool,
    /// On `EnterHdlc`, send an SNRM as the DLMS client would.
    pub hdlc_probe: bool,
    client_line: Line,
    meter_line: Line,
    pub log: Log,
}

impl Sim {
    pub fn new(opts: ClientOptions, meter: MeterConfig) -> Self {
        Sim {
            now: Duration::from_secs(1),
            client: ClientSession::new(opts),
            meter: MeterSession::new(meter).unwrap(),
            echo: false,
            report_switch: true,
            hdlc_probe: true,
            client_line: START,
            meter_line: START,
            log: Log::default(),
        }
    }

    fn carry(&self, bytes: &[u8]) -> Vec<u8> {
        if self.client_line == self.meter_line {
            bytes.to_vec()
        } else {
            vec![0x7F; bytes.len()] // framing errors: noise the framers drop
        }
    }

    /// Runs until both sides are idle with no timer, or `limit` of virtual time.
    pub fn run(&mut self, limit: Duration) -> &Log {
        self.client.start(self.now);
        let end = self.now + limit;
        for _ in 0..10_000 {
            let busy = self.pump();
            if busy {
                continue;
            }
            let next = [self.client.next_deadline(), self.meter.next_deadline()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.client.handle_timeout(self.now);
                    self.meter.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        &self.log
    }

    /// Carries out pending actions on both sides; returns whether there were any.
    fn pump(&mut self) -> bool {
        let mut any = false;
        while let Some(action) = self.client.poll_action() {
            any = true;
            match action {
                ClientAction::Send(bytes) => {
                    self.log.client_sent.push((self.now, bytes.clone()));
                    if self.echo {
                        self.client.handle_bytes(self.now, &bytes);
                    }
                    let carried = self.carry(&bytes);
                    self.meter.handle_bytes(self.now, &carried);
                }
                ClientAction::SetTimer(_) => {}
                ClientAction::SwitchLine { baud, framing } => {
                    self.client_line = Line { baud, framing };
                    self.log.client_switches.push((self.now, baud, framing));
                    if self.report_switch {
                        self.meter.handle_peer_switch(self.now);
                    }
                }
                ClientAction::EnterHdlc { .. } if self.hdlc_probe => {
                    self.log.outcome = Some((self.now, action));
                    let carried = self.carry(SNRM);
                    self.meter.handle_bytes(self.now, &carried);
                }
                done => self.log.outcome = Some((self.now, done)),
            }
        }
        while let Some(action) = self.meter.poll_action() {
            any = true;
            match action {
                MeterAction::Send(bytes) => {
                    self.log.meter_sent.push((self.now, bytes.clone()));
                    let carried = self.carry(&bytes);
                    self.client.handle_bytes(self.now, &carried);
                }
                MeterAction::SetTimer(_) => {}
                MeterAction::SwitchLine { baud, framing } => {
                    self.meter_line = Line { baud, framing };
                    self.log.meter_switches.push((self.now, baud, framing));
                }
                MeterAction::EnterHdlc { baud, pending } => {
                    self.log.meter_hdlc = Some((baud, pending))
                }
                MeterAction::Event(e) => self.log.events.push(e),
            }
        }
        any
    }
}

pub fn id(s: &str) -> DataId {
    DataId::new(s).unwrap()
}

pub fn meter_data() -> Vec<DataSet> {
    let v = |value: &str, unit: Option<&str>| Value::new(value, unit).unwrap();
    vec![
        DataSet::single(id("C.1.0"), v("45654", None)),
        DataSet::single(id("1.8.0"), v("0012345.678", Some("kWh"))),
        DataSet::single(id("1-0:2.8.0*255"), v("0000001.250", Some("kWh"))),
        DataSet {
            id: Some(id("P.01")),
            values: vec![v("2301011200", None), v("15", None)],
        },
        DataSet {
            id: None,
            values: vec![v("0.123", None), v("0.456", None)],
        },
        DataSet::single(id("F.F"), v("00000000", None)),
    ]
}

/// A meter offering 9600 baud; `mode_e` adds the `\2` marker.
pub fn meter(mode_e: bool) -> MeterConfig {
    let ident = Identification::new(
        Manufacturer::new(*b"CLN").unwrap(),
        BaudChar::mode_c(9600).unwrap(),
        mode_e.then_some(Enhanced::Hdlc),
        "CALIN-EM2",
    )
    .unwrap();
    MeterConfig::new(ident, meter_data())
}

pub fn client(mode: ClientMode) -> ClientOptions {
    ClientOptions::new(mode)
}
