"""HeadReader keeps incremental feeding linear; the typed API gives what the WIT says.

Every test that calls the core runs on each backend (conftest.BACKENDS).
"""
from __future__ import annotations

import pytest

from conftest import make_core
from tophat_core import (
    DEFAULT_LIMITS, ChunkedDecoder, Complete, ContentLength, Core, Field, Framed, HeadReader,
    HttpVersion, Incomplete, Invalid, Limits, NoBody, RejectReason, RequestContext, ResponseHead, BodyMode,
    may_end_head,
)

HEAD_SIZE = 16 * 1024


def big_head(size: int) -> bytes:
    """A valid head of exactly `size` bytes: fields of 64-byte lines, padded by the last one."""
    start = b"GET /big HTTP/1.1\r\nHost: example\r\n"
    lines = b""
    i = 0
    while len(start) + len(lines) + 64 + 2 <= size:
        lines += b"X-F%05d: " % i + b"v" * (64 - 11 - 2) + b"\r\n"
        i += 1
    pad = size - len(start) - len(lines) - 2 - len(b"X-Pad: \r\n")
    head = start + lines + b"X-Pad: " + b"p" * pad + b"\r\n\r\n"
    assert len(head) == size
    return head


def test_defaults_are_the_wits() -> None:
    assert DEFAULT_LIMITS == Limits(16384, 100, 8192, 1024)
    assert RejectReason.HEAD_TOO_LARGE.value == "head-too-large"


def test_a_16_kib_head_a_byte_at_a_time_costs_linear_core_work(backend: str) -> None:
    core = make_core(backend)
    head = big_head(HEAD_SIZE)
    limits = Limits(max_head_bytes=HEAD_SIZE, max_headers=1000)
    reader = HeadReader(core, limits)
    outcome = None
    for i in range(len(head)):
        outcome = reader.feed(head[i:i + 1])
        if not isinstance(outcome, Incomplete):
            assert i == len(head) - 1, f"the head ended early, at byte {i}: {outcome}"
    assert isinstance(outcome, Complete), outcome
    assert outcome.head.head_length == HEAD_SIZE
    assert len(outcome.head.headers) > 200
    n = len(head)
    naive = n * (n + 1) // 2  # what calling on every read hands the core
    # The first read, then the read that brings LF CR LF: n + 1 bytes in all.
    assert core.parse_head_calls == 2
    assert core.parse_head_bytes == n + 1
    assert core.parse_head_bytes * 1000 < naive


def test_the_byte_counter_sees_the_naive_loop_quadratic(backend: str) -> None:
    # The counter the linear test relies on does count what each call is given.
    core = make_core(backend)
    head = big_head(512)
    for i in range(1, len(head) + 1):
        out = core.parse_head(head[:i])
    assert isinstance(out, Complete)
    assert core.parse_head_bytes == 512 * 513 // 2


def test_reader_calls_again_for_a_bare_lf_lf_and_at_the_limit(backend: str) -> None:
    core = make_core(backend)
    reader = HeadReader(core)
    assert isinstance(reader.feed(b"GET / HTTP/1.1\r\nHost: a\n"), Invalid)  # refused at once

    limits = Limits(max_head_bytes=64)
    reader = HeadReader(core, limits)
    assert isinstance(reader.feed(b"GET / HTTP/1.1\r\n"), Incomplete)
    calls = core.parse_head_calls
    out = reader.feed(b"X: " + b"y" * 100)  # past max-head-bytes: the core must answer
    assert core.parse_head_calls == calls + 1
    assert isinstance(out, Invalid) and out.rejection.reason is RejectReason.HEAD_TOO_LARGE
    assert out.rejection.status == 431


def test_the_lf_cr_lf_split_across_reads_is_found(backend: str) -> None:
    # searched - 2: the terminator's first bytes were searched in the previous read.
    core = make_core(backend)
    reader = HeadReader(core)
    assert isinstance(reader.feed(b"GET / HTTP/1.1\r\nHost: a\r"), Incomplete)
    assert isinstance(reader.feed(b"\n"), Incomplete)
    assert isinstance(reader.feed(b"\r"), Incomplete)
    out = reader.feed(b"\nrest")
    assert isinstance(out, Complete)
    assert reader.next_head() == b"rest"


def test_may_end_head() -> None:
    assert may_end_head(b"a\r\n\r\n", 0)
    assert may_end_head(b"a\n\n", 0)
    assert not may_end_head(b"a\r\n\r\n", 3)
    assert not may_end_head(b"a\r\nb\r\n", 0)


def test_typed_head(core: Core) -> None:
    data = b"POST http://h.example/p?q HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc"
    out = core.parse_head(data)
    assert isinstance(out, Complete)
    h = out.head
    assert h.method.of(data) == b"POST"
    assert h.path.of(data) == b"/p"
    assert h.query is not None and h.query.of(data) == b"q"
    assert h.authority is not None and h.authority.of(data) == b"h.example"
    assert h.version is HttpVersion.HTTP10
    assert h.body == ContentLength(3)
    assert h.keep_alive and not h.expect_continue and not h.upgrade
    assert [x.of(data) for x in h.headers] == [(b"Connection", b"keep-alive"), (b"Content-Length", b"3")]
    assert data[h.head_length:] == b"abc"
    nobody = core.parse_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(nobody, Complete) and nobody.head.body == NoBody()


def test_chunked_decoder_in_pieces(core: Core) -> None:
    body = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nChecksum: abc\r\n\r\nNEXT"
    decoder = ChunkedDecoder(core)
    data = b""
    for i in range(0, len(body), 3):
        got = decoder.feed(body[i:i + 3])
        assert not isinstance(got, Invalid)
        data += b"".join(got)
    assert decoder.done
    assert data == b"hello world"
    assert decoder.trailers == [(b"Checksum", b"abc")]
    assert decoder.leftover == b"NEXT"
    bad = ChunkedDecoder(core).feed(b"zz\r\n")
    assert isinstance(bad, Invalid) and bad.rejection.reason is RejectReason.BAD_CHUNK_SIZE


def test_framing(core: Core) -> None:
    out = core.frame_head(ResponseHead(200, [Field("X", "1")], None), RequestContext(close=True), "Sun, 06 Nov 1994 08:49:37 GMT")
    assert isinstance(out, Framed)
    assert out.head.body is BodyMode.CHUNKED and out.head.close
    assert out.head.bytes.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close\r\n" in out.head.bytes
    assert core.chunk_size_line(4096) == b"1000\r\n"


@pytest.mark.parametrize("fed", [b"", b"GET"])
def test_next_head_needs_a_complete_head(fed: bytes, core: Core) -> None:
    reader = HeadReader(core)
    reader.feed(fed)
    with pytest.raises(RuntimeError):
        reader.next_head()


