"""An independent DLMS client, u9n's `dlms-cosem` (PyPI 25.1.0), reads calin-sim.

Run by tests/interop_u9n.rs as a separate process; never imported by the agent. One
argument, a JSON object saying where the meter is and what to read; one line "RESULT <JSON>" on
stdout with what the client decoded. The Rust test compares it with the scenario.

Known peer flaw, worked around here and only here: u9n's HDLC layer finds the end of a
frame by scanning for the next 0x7E, both in `HdlcTransport.recv_frame` (which reads
"until a flag") and in `HdlcConnection._find_frame`. DLMS HDLC has no byte stuffing
(Green Book 8.4.1.2: the frame length comes from the format field), so 0x7E may occur
inside a frame, in the HCS, the FCS or the data; u9n then waits for a closing flag that
already went by and stalls. `LengthFramedIO` and `LengthFramedConnection` below find
frame ends from the 11-bit length of the format field instead. Everything else
(frames, LLC, segmentation with RR, AARQ/AARE, GET, block transfer, A-XDR, RLRQ) is
u9n's own code.
"""

import json
import logging
import socket
import sys
from datetime import datetime

import structlog

# u9n logs every frame through structlog to stdout; keep stdout for the result line.
structlog.configure(
    wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    logger_factory=structlog.PrintLoggerFactory(sys.stderr),
)

from dlms_cosem import cosem, enumerations, utils
from dlms_cosem.client import DlmsClient
from dlms_cosem.cosem.capture_object import CaptureObject
from dlms_cosem.cosem.selective_access import RangeDescriptor
from dlms_cosem.hdlc import address as hdlc_address
from dlms_cosem.hdlc import connection as hdlc_connection
from dlms_cosem.hdlc import frames as hdlc_frames
from dlms_cosem.io import HdlcTransport, TcpTransport
from dlms_cosem.parsers import AssociationObjectListParser
from dlms_cosem.protocol.xdlms import GetResponseWithList
from dlms_cosem.security import (
    LowLevelSecurityAuthentication,
    NoSecurityAuthentication,
)
from dlms_cosem.time import datetime_from_bytes

FLAG = 0x7E


class LengthFramedIO:
    """Socket IO for u9n whose `recv_until(FLAG)` returns exactly one whole HDLC frame,
    flags included, delimited by the format field's length (see the module docstring).
    `recv(n)` returns exactly n bytes (used by the wrapper transport)."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = None
        self.pending = bytearray()
        # Frames received with 0x7E between their flags: each would have stalled u9n.
        self.inner_flag_frames = 0
        # Frames received with the segmentation bit (more segments follow).
        self.segmented_frames = 0

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)

    def disconnect(self):
        if self.sock:
            self.sock.close()
        self.sock = None

    def send(self, data):
        self.sock.sendall(bytes(data))

    def _fill(self, n):
        while len(self.pending) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("meter closed the connection")
            self.pending += chunk

    def recv(self, amount=1):
        self._fill(amount)
        out = bytes(self.pending[:amount])
        del self.pending[:amount]
        return out

    def recv_until(self, end):
        assert end == hdlc_frames.HDLC_FLAG, end
        # Skip to an opening flag; two flags in a row: the first was fill or a closing flag.
        while True:
            self._fill(2)
            if self.pending[0] == FLAG and self.pending[1] != FLAG:
                break
            del self.pending[:1]
        self._fill(3)
        length = ((self.pending[1] & 0x07) << 8) | self.pending[2]
        frame = self.recv(length + 2)
        if FLAG in frame[1:-1]:
            self.inner_flag_frames += 1
        if frame[1] & 0x08:
            self.segmented_frames += 1
        return frame


class LengthFramedConnection(hdlc_connection.HdlcConnection):
    """u9n's HDLC connection with `_find_frame` reading the format field's length
    (see the module docstring); all parsing and state handling stay u9n's."""

    def _find_frame(self):
        if len(self.buffer) < 3 or self.buffer[0] != FLAG:
            return None
        total = (((self.buffer[1] & 0x07) << 8) | self.buffer[2]) + 2
        if len(self.buffer) < total:
            return None
        self.buffer_search_position = total
        return self.buffer[:total]


def obis(text):
    a, b, c, d, e, f = (int(x) for x in text.split("."))
    return cosem.Obis(a, b, c, d, e, f)


def obis_text(o):
    return f"{o.a}.{o.b}.{o.c}.{o.d}.{o.e}.{o.f}"


def attribute(interface, ln, attr):
    return cosem.CosemAttribute(
        interface=enumerations.CosemInterface(interface), instance=obis(ln), attribute=attr
    )


def transport_for(cfg, io):
    if cfg["framing"] == "wrapper":
        return TcpTransport(
            client_logical_address=cfg["client"],
            server_logical_address=cfg["logical"],
            io=io,
        )
    extended = cfg["address_size"] == 4
    server = hdlc_address.HdlcAddress(
        logical_address=cfg["logical"],
        physical_address=cfg["physical"],
        address_type="server",
        extended_addressing=extended,
    )
    client = hdlc_address.HdlcAddress(
        logical_address=cfg["client"], address_type="client"
    )
    return HdlcTransport(
        client_logical_address=cfg["client"],
        server_logical_address=cfg["logical"],
        server_physical_address=cfg["physical"],
        extended_addressing=extended,
        io=io,
        hdlc_connection=LengthFramedConnection(client_address=client, server_address=server),
    )


def main():
    cfg = json.loads(sys.argv[1])
    io = LengthFramedIO(cfg["host"], cfg["port"], cfg.get("timeout", 10))
    transport = transport_for(cfg, io)
    if cfg.get("password") is None:
        auth = NoSecurityAuthentication()
    else:
        auth = LowLevelSecurityAuthentication(secret=cfg["password"].encode())
    client = DlmsClient(transport=transport, authentication=auth, block_transfer=True)
    out = {}

    client.connect()
    aare = client.associate()
    out["associated"] = aare.result == enumerations.AssociationResult.ACCEPTED

    reg = cfg["register"]
    value = utils.parse_as_dlms_data(client.get(attribute(3, reg, 2)))
    scaler, unit = utils.parse_as_dlms_data(client.get(attribute(3, reg, 3)))
    out["register"] = {"value": value, "scaler": scaler, "unit": unit}

    out["status"] = utils.parse_as_dlms_data(client.get(attribute(1, cfg["status"], 2)))

    # GET-with-list: status and serial in one request.
    listed = client.get_many(
        [
            cosem.CosemAttributeWithSelection(attribute(1, cfg["status"], 2), None),
            cosem.CosemAttributeWithSelection(attribute(1, cfg["serial"], 2), None),
        ]
    )
    assert isinstance(listed, GetResponseWithList), listed
    status, serial = listed.result
    out["list"] = {"status": status, "serial": bytes(serial).decode("ascii")}

    # The object list: block transfer (max_pdu) over segmented HDLC frames (max_info).
    raw = client.get(attribute(15, "0.0.40.0.0.255", 2))
    out["object_list_bytes"] = len(raw)
    out["object_list"] = [
        [int(o.interface), o.version, obis_text(o.logical_name)]
        for o in AssociationObjectListParser.parse_bytes(raw)
    ]

    # An event log by range of its clock column (u9n's EntryDescriptor.to_bytes raises
    # NotImplementedError, so selection by entry is not possible with this client).
    log = cfg["log"]
    out["log_entries_in_use"] = utils.parse_as_dlms_data(client.get(attribute(7, log, 7)))
    clock = CaptureObject(attribute(8, "0.0.1.0.0.255", 2), data_index=0)
    selection = RangeDescriptor(
        restricting_object=clock,
        from_value=datetime.fromisoformat(cfg["range"][0]),
        to_value=datetime.fromisoformat(cfg["range"][1]),
    )
    rows = utils.parse_as_dlms_data(client.get(attribute(7, log, 2), selection))
    # u9n reads a deviation of 0 as "no time zone" (a naive datetime), so the deviation
    # is printed from the wire bytes beside the local time u9n decoded.
    out["log_rows"] = [
        [
            datetime_from_bytes(bytes(row[0]))[0].replace(tzinfo=None).isoformat(),
            int.from_bytes(bytes(row[0])[9:11], "big", signed=True),
            row[1],
        ]
        for row in rows
    ]

    rlre = client.release_association()
    out["released"] = rlre is not None and type(rlre).__name__ == "ReleaseResponse"
    client.disconnect()
    out["inner_flag_frames"] = io.inner_flag_frames
    out["segmented_frames"] = io.segmented_frames
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
