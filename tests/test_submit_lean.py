"""The shortcuts that keep a served submit cheap, held to what they replace.

Request ids draw their random bits from an ``os.urandom`` pool (one system call per 409
ids, each byte handed out once, none shared with a forked child); the queue skips its
event loop while nothing is due; the strict JSON parse reads a body once unless it holds
a non-finite number; a text-to-image submit resolves no inputs.
"""

from __future__ import annotations

import os
import random

import pytest

from mock_gateway.core.ids import POOL_BYTES, IdSource, new_request_id, uuid7

PATTERN = bytes(range(256)) * 64  # what a fake os.urandom hands out, from its start


def fake_urandom(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def urandom(size: int) -> bytes:
        calls.append(size)
        return (PATTERN * (size // len(PATTERN) + 1))[:size]

    monkeypatch.setattr(os, "urandom", urandom)
    return calls


def test_a_pool_hands_out_each_byte_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_urandom(monkeypatch)
    source = IdSource(None)
    drawn = bytes(source.getrandbits(8) for _ in range(POOL_BYTES))
    assert drawn == PATTERN[:POOL_BYTES] and calls == [POOL_BYTES]  # exactly one pool
    assert source.getrandbits(16) == 0x0001  # the next pool starts afresh
    assert calls == [POOL_BYTES, POOL_BYTES]


def test_bits_are_the_top_bits_of_whole_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_urandom(monkeypatch)
    source = IdSource(None)
    assert source.getrandbits(12) == 0x000  # bytes 00 01: their top 12 bits
    assert source.getrandbits(4) == 0x0  # byte 02's top 4 bits
    assert source.getrandbits(74) == int.from_bytes(PATTERN[3:13]) >> 6
    assert source.getrandbits(0) == 0


def test_a_draw_larger_than_a_pool_gets_all_its_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_urandom(monkeypatch)
    size = POOL_BYTES + 904
    assert IdSource(None).getrandbits(8 * size) == int.from_bytes(PATTERN[:size])
    assert calls == [size]


def test_a_cryptographic_id_is_74_pooled_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_urandom(monkeypatch)
    value = uuid7(1.5, IdSource(None)).int
    bits = int.from_bytes(PATTERN[:10]) >> 6
    assert (value >> 64) & 0xFFF == bits >> 62 and value & ((1 << 62) - 1) == bits & (2**62 - 1)
    assert value >> 80 == 1500 and (value >> 76) & 0xF == 7 and (value >> 62) & 0b11 == 0b10


def test_a_seeded_source_does_not_touch_the_os(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_urandom(monkeypatch)
    made = new_request_id("s", 1.0, IdSource(3))
    drawn = random.Random("request-ids/3")
    assert made == f"s_{uuid7(1.0, drawn)}" and calls == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_repeats_its_parents_ids() -> None:
    source = IdSource(None)
    source.getrandbits(74)  # the parent holds a pool with bytes left
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.write(writer, source.getrandbits(74).to_bytes(10))
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    theirs = int.from_bytes(os.read(reader, 10))
    os.close(reader)
    assert theirs != source.getrandbits(74)  # the child fetched its own bytes
