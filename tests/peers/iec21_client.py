"""An independent IEC 62056-21 client for the interop tests: the `iec62056-21` package
(PyPI, pwitab) reads a meter's optical port and prints what it got, one record per line,
tab-separated, for the Rust test to check against the scenario:

    ident<TAB>manufacturer<TAB>baud char<TAB>identification
    set<TAB>address<TAB>value<TAB>unit ("-" when none)
    password-request<TAB>operand
    register<TAB>address<TAB>value<TAB>unit
    done

Usage:
    iec21_client.py readout tcp HOST PORT [DEVICE_ADDRESS]
    iec21_client.py readout serial PATH
    iec21_client.py program tcp HOST PORT PASSWORD REGISTER
"""

import sys

from iec62056_21 import messages
from iec62056_21.client import Iec6205621Client


def client(kind, args, device_address="", password="00000000"):
    if kind == "tcp":
        host, port = args[0], int(args[1])
        return Iec6205621Client.with_tcp_transport(
            (host, port), device_address=device_address, password=password
        )
    if kind == "serial":
        return Iec6205621Client.with_serial_transport(args[0], password=password)
    raise SystemExit(f"unknown transport {kind}")


def show_ident(c):
    print(
        "ident",
        c.manufacturer_id,
        c.switchover_baudrate_char,
        c.identification,
        sep="\t",
    )


def unit(u):
    return u if u else "-"


def readout(kind, args):
    address = args[2] if kind == "tcp" and len(args) > 2 else ""
    c = client(kind, args, device_address=address)
    c.connect()
    answer = c.standard_readout()
    show_ident(c)
    for s in answer.data:
        print("set", s.address, s.value, unit(s.unit), sep="\t")
    c.disconnect()


def program(kind, args):
    password, register = args[2], args[3]
    c = client(kind, args, password=password)
    c.connect()
    request = c.access_programming_mode()
    show_ident(c)
    print("password-request", request.data_set.value, sep="\t")
    # Design: the package's send_password builds a DataSet without its required address
    # (0.0.2), so the same P1 message is built here from the package's own types.
    p1 = messages.CommandMessage(
        command="P", command_type=1, data_set=messages.DataSet(address="", value=password)
    )
    c.transport.send(p1.to_bytes())
    ack = c._recv_ack()
    if ack != "\x06":
        raise SystemExit(f"password refused: {ack!r}")
    s = c.read_single_value(register)
    print("register", s.address, s.value, unit(s.unit), sep="\t")
    c.send_break()
    c.disconnect()


def main():
    what, kind, *rest = sys.argv[1:]
    {"readout": readout, "program": program}[what](kind, rest)
    print("done")


if __name__ == "__main__":
    main()
