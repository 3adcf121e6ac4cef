"""Length-prefixed framing: partial reads, bursts, the size cap, field splitting."""

import struct

import pytest

from fake_tws.protocol.errors import FrameTooLarge, MalformedFrame
from fake_tws.protocol.framing import FrameBuffer, frame, join_fields, split_fields


def test_frame_prefixes_the_big_endian_length():
    assert frame(b"49\x001\x00") == b"\x00\x00\x00\x0549\x001\x00"


def test_a_frame_fed_byte_by_byte_completes_only_on_its_last_byte():
    data = frame(b"hello\x00")
    buffer = FrameBuffer()
    for byte in data[:-1]:
        assert buffer.feed(bytes([byte])) == []
    assert buffer.feed(data[-1:]) == [b"hello\x00"]
    assert buffer.pending == 0


def test_several_frames_in_one_read_come_out_in_order():
    payloads = [b"a\x00", b"bb\x00", b"\x00", b"ccc\x00"]
    buffer = FrameBuffer()
    assert buffer.feed(b"".join(frame(p) for p in payloads)) == payloads


def test_a_read_ending_mid_frame_keeps_the_tail_for_the_next_read():
    data = frame(b"first\x00") + frame(b"second\x00")
    buffer = FrameBuffer()
    assert buffer.feed(data[:13]) == [b"first\x00"]
    assert buffer.pending == 13 - len(frame(b"first\x00"))
    assert buffer.feed(data[13:]) == [b"second\x00"]


def test_a_long_burst_across_the_compaction_threshold_loses_nothing():
    payloads = [f"{i}\x00".encode() for i in range(30_000)]
    data = b"".join(frame(p) for p in payloads)
    buffer = FrameBuffer()
    out = []
    for start in range(0, len(data), 70_001):  # reads that split frames anywhere
        out += buffer.feed(data[start : start + 70_001])
    assert out == payloads
    assert buffer.pending == 0


def test_an_oversized_header_is_refused_before_its_body_arrives():
    buffer = FrameBuffer(max_frame=100)
    with pytest.raises(FrameTooLarge) as info:
        buffer.feed(struct.pack("!I", 101))
    assert (info.value.size, info.value.limit) == (101, 100)


def test_a_frame_exactly_at_the_cap_is_accepted():
    buffer = FrameBuffer(max_frame=4)
    assert buffer.feed(frame(b"abc\x00")) == [b"abc\x00"]


def test_take_raw_waits_for_enough_bytes():
    buffer = FrameBuffer()
    buffer.append(b"AP")
    assert buffer.take_raw(4) is None
    buffer.append(b"I\x00" + frame(b"x\x00"))
    assert buffer.take_raw(4) == b"API\x00"
    assert buffer.drain() == [b"x\x00"]


def test_fields_split_on_nul_and_round_trip():
    payload = join_fields(["71", "2", "7", ""])
    assert payload == b"71\x002\x007\x00\x00"
    assert split_fields(payload) == [b"71", b"2", b"7", b""]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [(b"", "empty frame"), (b"49\x001", "does not end with a NUL")],
)
def test_payloads_that_are_not_nul_terminated_fields_are_malformed(payload, problem):
    with pytest.raises(MalformedFrame, match=problem):
        split_fields(payload)
