//! Decoding throughput: HDLC frames per second through our `Deframer`, and APDUs per
//! second through `Apdu::decode` (a GET-Response carrying a register value, and a
//! GET-Response-With-Datablock carrying a 2 KiB slice of an object list). Each is
//! measured beside `dlms-cosem-rs` 0.1.0 on the same bytes, so `scripts/bench` can report
//! a ratio that does not depend on the machine.
//!
//! Run with `cargo bench --bench decode` (or `scripts/bench`); sample sizes are kept
//! modest for a shared machine.

use std::hint::black_box;
use std::time::Duration;

use calin_agent::protocol::apdu::{
    Apdu, DataBlockResult, GetDataResult, GetResponse, InvokeIdAndPriority,
};
use calin_agent::protocol::axdr::{Data, Limits};
use calin_agent::protocol::hdlc::{Control, Deframer, Frame, HdlcAddress};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dlms_cosem_rs::codec::Decode;
use dlms_cosem_rs::transport::hdlc::{Found, Framer};
use dlms_cosem_rs::xdlms::Apdu as TheirApdu;

/// HDLC traffic of a long read: I-frames with 128-byte segments of a block transfer
/// (the last of every three without the segmentation bit) and, every fourth frame, a
/// short RR, so both shapes are timed. Information bytes cycle through all values, 0x7E
/// included.
fn frame_stream(frames: usize) -> Vec<u8> {
    let client = HdlcAddress::client(0x10).unwrap();
    let server = HdlcAddress::server(1, Some(17)).unwrap();
    let mut out = Vec::new();
    for i in 0..frames {
        let frame = if i % 4 == 3 {
            Frame::new(
                client,
                server,
                Control::from_byte(0x11 | ((i as u8 & 7) << 5)),
                vec![],
            )
        } else {
            let info = (0..128).map(|k| (i * 131 + k * 7) as u8).collect();
            let mut f = Frame::new(client, server, Control::from_byte((i as u8 & 7) << 1), info);
            f.segmented = i % 4 != 2;
            f
        };
        out.extend(frame.to_bytes().unwrap());
    }
    out
}

/// Our deframer over the whole stream, fed in 64-byte reads; returns the frame count.
fn ours_deframe(stream: &[u8]) -> usize {
    let mut d = Deframer::new();
    let mut n = 0;
    for chunk in stream.chunks(64) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let taken = d.push(rest);
            rest = &rest[taken..];
            while let Ok(Some(f)) = d.next_frame() {
                black_box(&f);
                n += 1;
            }
        }
    }
    n
}

/// Their framer over the same stream, same reads, with a receive buffer as a caller
/// keeps one (append, find, drop what was consumed).
fn theirs_deframe(stream: &[u8]) -> usize {
    let mut framer = Framer::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut n = 0;
    for chunk in stream.chunks(64) {
        buf.extend_from_slice(chunk);
        loop {
            match framer.next_frame(&buf) {
                Ok(Found::Frame { frame, consumed }) => {
                    black_box(&frame);
                    n += 1;
                    buf.drain(..consumed);
                }
                Ok(Found::Incomplete { discard }) => {
                    buf.drain(..discard);
                    break;
                }
                Err(_) => break,
            }
        }
    }
    n
}

/// An object_list (Blue Book 4.4.3) of `n` objects, each with 3 attributes and 1 method.
fn object_list(n: usize) -> Data {
    let entry = |i: usize| {
        let attr = |a: i8| Data::Structure(vec![Data::Integer(a), Data::Enum(1), Data::NullData]);
        Data::Structure(vec![
            Data::LongUnsigned(if i % 3 == 0 { 3 } else { 1 }),
            Data::Unsigned(0),
            Data::OctetString(vec![1, 0, (i % 100) as u8, 8, 0, 255]),
            Data::Structure(vec![
                Data::Array(vec![attr(1), attr(2), attr(3)]),
                Data::Array(vec![Data::Structure(vec![Data::Integer(1), Data::Enum(1)])]),
            ]),
        ])
    };
    Data::Array((0..n).map(entry).collect())
}

fn bench_frames(c: &mut Criterion) {
    let frames = 256;
    let stream = frame_stream(frames);
    assert_eq!(ours_deframe(&stream), frames);
    assert_eq!(theirs_deframe(&stream), frames);
    let mut g = c.benchmark_group("hdlc_frames");
    g.throughput(Throughput::Elements(frames as u64));
    g.bench_function("ours_deframer", |b| {
        b.iter(|| ours_deframe(black_box(&stream)))
    });
    g.bench_function("theirs_framer", |b| {
        b.iter(|| theirs_deframe(black_box(&stream)))
    });
    g.finish();
}

fn bench_apdus(c: &mut Criterion) {
    let register = Apdu::GetResponse(GetResponse::Normal {
        invoke: InvokeIdAndPriority::default(),
        result: GetDataResult::Data(Data::DoubleLongUnsigned(1_234_567)),
    })
    .to_bytes();
    let list = object_list(60).to_bytes();
    assert!(list.len() > 2048, "{} bytes", list.len());
    let block = Apdu::GetResponse(GetResponse::WithDataBlock {
        invoke: InvokeIdAndPriority::default(),
        last_block: false,
        block_number: 1,
        result: DataBlockResult::RawData(list[..2048].to_vec()),
    })
    .to_bytes();
    for bytes in [&register, &block] {
        assert!(Apdu::decode(bytes).is_ok());
        assert!(TheirApdu::from_bytes(bytes).is_ok());
    }

    let mut g = c.benchmark_group("apdu_register");
    g.throughput(Throughput::Elements(1));
    g.bench_function("ours", |b| b.iter(|| Apdu::decode(black_box(&register))));
    g.bench_function("theirs", |b| {
        b.iter(|| TheirApdu::from_bytes(black_box(&register)).map(|a| black_box(a).tag()))
    });
    g.finish();

    let mut g = c.benchmark_group("apdu_object_list_block_2k");
    g.throughput(Throughput::Elements(1));
    g.bench_function("ours", |b| b.iter(|| Apdu::decode(black_box(&block))));
    g.bench_function("theirs", |b| {
        b.iter(|| TheirApdu::from_bytes(black_box(&block)).map(|a| black_box(a).tag()))
    });
    g.finish();

    // The reassembled object list itself (what the block slices carry), to a value.
    let mut g = c.benchmark_group("axdr_object_list_value");
    g.throughput(Throughput::Bytes(list.len() as u64));
    g.bench_function("ours", |b| {
        b.iter(|| Data::decode(black_box(&list), &Limits::default()))
    });
    g.bench_function("theirs_to_owned", |b| {
        b.iter(|| dlms_cosem_rs::axdr::DataBuf::parse(black_box(&list)))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_frames, bench_apdus
}
criterion_main!(benches);
