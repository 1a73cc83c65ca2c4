"""Choosing and locating a backend, and what the module backend must get right on its own.

The module backend reads the core's memory by the layouts of docs/core.md; the corpus
equivalence (test_equivalence.py) checks its outcomes on every backend. These tests cover
the rest: the enum orders it indexes by, memory growth, range checks, the SIMD fallback.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Dict, List, Type

import pytest
import wasmtime

from conftest import REPO_ROOT, make_core
from tophat_core import (
    BodyMode, ChunkedPhase, ChunkedState, Complete, Core, Field, FrameErrorReason, FrameInvalid,
    Framed, Header, HttpVersion, Invalid, Limits, Progress, RejectReason, RequestContext, ResponseHead,
    Span, TrailerBytes,
)
from tophat_core.types import FrameOutcome

DIST = REPO_ROOT / "dist"
MODULE = DIST / "tophat-http.core.wasm"
SCALAR = DIST / "tophat-http.scalar.core.wasm"
COMPONENT = DIST / "tophat-http.component.wasm"

ENUMS: Dict[str, Type[object]] = {
    "reject-reason": RejectReason, "http-version": HttpVersion, "chunked-phase": ChunkedPhase,
    "body-mode": BodyMode, "frame-error-reason": FrameErrorReason,
}


def test_enum_cases_are_in_the_wits_order() -> None:
    # The module backend turns an enum's index into its case by these orders.
    wit = (REPO_ROOT / "wit" / "tophat.wit").read_text(encoding="utf-8")
    for name, enum in ENUMS.items():
        m = re.search(r"enum " + name + r" \{(.*?)\}", wit, re.S)
        assert m is not None, name
        lines = [line.split("//")[0].strip() for line in m.group(1).splitlines()]
        cases = [line.rstrip(",") for line in lines if line]
        assert cases == [e.value for e in enum], name  # type: ignore[attr-defined]


def test_the_default_is_the_module_with_raw_calls() -> None:
    core = Core()
    assert core.backend == "module"
    assert core.path.name == "tophat-http.core.wasm"
    # The fast path is there with the wasmtime-py this is tested with: losing it (a
    # wasmtime-py without its C API bindings) would slow every call tenfold, silently.
    assert core.raw_calls


def test_the_backend_is_read_from_the_file() -> None:
    assert Core(COMPONENT).backend == "component"
    assert Core(SCALAR).backend == "module"
    assert Core(backend="component").path.name == "tophat-http.component.wasm"
    with pytest.raises(ValueError, match="is a module, not a component"):
        Core(MODULE, backend="component")
    with pytest.raises(ValueError, match="is a component, not a module"):
        Core(COMPONENT, backend="module")
    with pytest.raises(ValueError, match="raw_calls"):
        Core(backend="component", raw_calls=False)


def test_a_file_that_is_not_wasm_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "x.wasm"
    bogus.write_bytes(b"not wasm at all")
    with pytest.raises(ValueError, match="not a WebAssembly binary"):
        Core(bogus)


def test_the_environment_names_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPHAT_CORE_MODULE", str(SCALAR))
    assert Core().path == SCALAR
    monkeypatch.setenv("TOPHAT_COMPONENT", str(COMPONENT))
    assert Core(backend="component").path == COMPONENT


def no_simd_engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    config.wasm_simd = False
    config.wasm_relaxed_simd = False
    return wasmtime.Engine(config)


def test_an_engine_without_simd_gets_the_scalar_module() -> None:
    core = Core(engine=no_simd_engine())
    assert core.path.name == "tophat-http.scalar.core.wasm"
    out = core.parse_head(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
    assert isinstance(out, Complete) and out.head.head_length == 28
    # A module named explicitly is not swapped for another.
    with pytest.raises(wasmtime.WasmtimeError, match="SIMD"):
        Core(MODULE, engine=no_simd_engine())


@pytest.mark.parametrize("raw_calls", [None, False])
def test_memory_growth_is_followed(raw_calls: bool) -> None:
    # Inputs larger than the core's initial memory make cabi_realloc grow it (which may
    # move it): every read after a call must use the memory as it is then.
    core = Core(backend="module", raw_calls=raw_calls)
    big = b"GET / HTTP/1.1\r\nX: " + b"v" * (8 << 20)
    out = core.parse_head(big)
    assert isinstance(out, Invalid) and out.rejection.reason is RejectReason.HEAD_TOO_LARGE
    size = 3 << 20
    body = b"%x\r\n" % size + bytes(range(256)) * (size // 256) + b"\r\n0\r\n\r\n"
    got = b""
    state = ChunkedState()
    rest = body
    while state.phase is not ChunkedPhase.DONE:
        r = core.decode_chunked(rest, state)
        assert isinstance(r, Progress)
        got += b"".join(s.of(rest) for s in r.progress.data)
        state, rest = r.progress.state, rest[r.progress.consumed:]
    assert got == bytes(range(256)) * (size // 256)
    value = "w" * (2 << 20)
    framed = core.frame_head(ResponseHead(200, [Field("X-Big", value)], 0))
    assert isinstance(framed, Framed)
    assert framed.head.bytes.startswith(b"HTTP/1.1 200 OK\r\nX-Big: " + b"w" * (2 << 20) + b"\r\n")
    trailer = core.last_chunk([Field("T", value)])
    assert isinstance(trailer, TrailerBytes) and len(trailer.data) == len(value) + 10
    small = core.parse_head(b"GET /after HTTP/1.1\r\nHost: h\r\n\r\n")
    assert isinstance(small, Complete) and small.head.target.len == 6


def test_values_outside_the_wits_integers_are_refused() -> None:
    with pytest.raises(ValueError, match="status"):
        ResponseHead(70000)
    with pytest.raises(ValueError, match="body_length"):
        ResponseHead(200, body_length=-1)
    with pytest.raises(ValueError, match="body_length"):
        ResponseHead(200, body_length=2**64)
    with pytest.raises(ValueError, match="max_headers"):
        Limits(max_headers=2**32)
    with pytest.raises(ValueError, match="remaining"):
        ChunkedState(remaining=-1)
    with pytest.raises(TypeError, match="max_head_bytes"):
        Limits(max_head_bytes=1.5)  # type: ignore[arg-type]
    core = Core()
    with pytest.raises(ValueError):
        core.chunk_size_line(-1)
    with pytest.raises(ValueError):
        core.chunk_size_line(2**64)


def test_the_edges_of_the_integers_reach_the_core(core: Core) -> None:
    assert core.chunk_size_line(2**64 - 1) == b"ffffffffffffffff\r\n"
    assert core.chunk_size_line(0) == b"0\r\n"
    out = core.frame_head(ResponseHead(200, body_length=2**64 - 1))
    assert isinstance(out, FrameInvalid) and out.error.reason is FrameErrorReason.BAD_CONTENT_LENGTH
    out = core.frame_head(ResponseHead(200, body_length=2**53 - 1), RequestContext(head=True))
    assert isinstance(out, Framed) and out.head.content_length == 2**53 - 1
    wide = Limits(2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1)
    assert isinstance(core.parse_head(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", wide), Complete)
    r = core.decode_chunked(b"abc", ChunkedState(ChunkedPhase.DATA, 2**64 - 1))
    assert isinstance(r, Progress) and r.progress.state.remaining == 2**64 - 4


def test_bytes_like_inputs(core: Core) -> None:
    head = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
    for data in (bytearray(head), memoryview(head)):
        out = core.parse_head(data)  # type: ignore[arg-type]
        assert isinstance(out, Complete) and out.head.target.of(head) == b"/x"
    r = core.decode_chunked(bytearray(b"1\r\nz\r\n"))  # type: ignore[arg-type]
    assert isinstance(r, Progress) and r.progress.consumed == 6


def test_a_string_that_is_not_utf8_raises_and_the_core_goes_on(core: Core) -> None:
    with pytest.raises(UnicodeEncodeError):
        core.frame_head(ResponseHead(200, [Field("X", "\udc00")], 0))
    with pytest.raises(UnicodeEncodeError):
        core.last_chunk([Field("\ud800", "v")])
    assert core.restarts == 0
    assert isinstance(core.frame_head(ResponseHead(204, body_length=0)), Framed)


FRAMES: List[ResponseHead] = [
    ResponseHead(200, [Field("X-Ünï", "v")], 1),
    ResponseHead(200, [Field("X", "é ü")], 1),
    ResponseHead(200, [Field("X", "a\x00b")], 1),
    ResponseHead(299, [], None, "Fine ☃"),
    ResponseHead(200, [Field("X", "1")] * 50 + [Field("Content-Length", "7")], 7, ""),
    ResponseHead(200, [Field("", "v")], None, None),
]


@pytest.mark.parametrize("date", [None, "Sun, 06 Nov 1994 08:49:37 GMT", "é"])
def test_the_backends_frame_alike(date: str) -> None:
    # Non-ASCII text and odd inputs beside the JS cases of test_equivalence.py.
    outs: Dict[str, List[FrameOutcome]] = {}
    for backend in ("module", "module-func", "component"):
        core = make_core(backend)
        outs[backend] = [core.frame_head(r, RequestContext(), date) for r in FRAMES]
    assert outs["module"] == outs["component"]
    assert outs["module-func"] == outs["component"]


def test_outcome_objects_are_ordinary_dataclasses() -> None:
    # The module backend builds spans and headers without their __init__ (see _module.py):
    # they must be indistinguishable from ones built the ordinary way.
    assert not hasattr(Span, "__post_init__") and not hasattr(Header, "__post_init__")
    assert "__slots__" not in vars(Span) and "__slots__" not in vars(Header)
    head = b"GET /p?q HTTP/1.1\r\nHost: h\r\nA: 1\r\nB:  two \r\n\r\n"
    chunked = b"3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\nU: w\r\n\r\n"
    module, component = make_core("module"), make_core("component")
    for m, c in ((module.parse_head(head), component.parse_head(head)),
                 (module.decode_chunked(chunked), component.decode_chunked(chunked))):
        assert m == c and repr(m) == repr(c)
    got = module.parse_head(head)
    assert isinstance(got, Complete)
    h = got.head.headers[2]
    assert h == Header(Span(34, 1), Span(38, 3)) and h.of(head) == (b"B", b"two")
    assert hash(h) == hash(Header(Span(34, 1), Span(38, 3)))
    assert dataclasses.asdict(h) == {"name": {"start": 34, "len": 1}, "value": {"start": 38, "len": 3}}
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.name.start = 0  # type: ignore[misc]
    r = module.decode_chunked(chunked)
    assert isinstance(r, Progress)
    assert r.progress.data == [Span(7, 3), Span(15, 2)]
    assert [t.of(chunked) for t in r.progress.trailers] == [(b"T", b"v"), (b"U", b"w")]
