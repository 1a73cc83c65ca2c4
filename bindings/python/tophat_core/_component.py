"""The component backend: ``tophat-http.component.wasm`` through wasmtime's component API.

wasmtime-py lifts WIT records to ``wasmtime.component.Record`` objects with kebab-case
attributes and variants to ``Variant(tag, payload)``; this module turns them into the
dataclasses of :mod:`tophat_core.types` so that users never see either. It is the slow
backend (wasmtime-py lowers a ``list<u8>`` one byte at a time, in Python) and the reference
one: the component is the core's published artifact.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, Sequence

import wasmtime
from wasmtime.component import Component, Linker, Record, Variant

from ._backend import CoreTrap
from .types import (
    BodyFraming, BodyMode, ChunkedBody, ChunkedOutcome, ChunkedPhase, ChunkedProgress,
    ChunkedState, Complete, ContentLength, Field, FrameError, FrameErrorReason, FrameInvalid,
    FrameOutcome, Framed, FramedHead, Header, HttpVersion, Incomplete, Invalid, Limits, NoBody,
    ParseOutcome, Progress, RejectReason, Rejection, RequestContext, RequestHead, ResponseHead,
    Span, TrailerBytes, TrailerOutcome,
)

__all__ = ["ComponentBackend"]

_PARSER = "tophat:http/parser@0.2.0"
_CHUNKED = "tophat:http/chunked@0.2.0"
_FRAMER = "tophat:http/framer@0.2.0"


# ---- lowering (Python → wasmtime values) ------------------------------------------------

def _record(**fields: Any) -> Record:
    r = Record()
    for name, value in fields.items():
        setattr(r, name.replace("_", "-"), value)
    return r


def _limits(limits: Limits) -> Record:
    return _record(
        max_head_bytes=limits.max_head_bytes,
        max_headers=limits.max_headers,
        max_target_length=limits.max_target_length,
        max_chunk_extension_length=limits.max_chunk_extension_length,
    )


def _fields(fields: Sequence[Field]) -> List[Record]:
    return [_record(name=f.name, value=f.value) for f in fields]


# ---- lifting (wasmtime values → Python) -------------------------------------------------

def _get(r: Any, name: str) -> Any:
    return getattr(r, name)


def _case(value: Any) -> "tuple[str, Any]":
    if not isinstance(value, Variant):
        raise TypeError(f"expected a variant from the core, got {value!r}")
    return value.tag, value.payload


def _span(r: Any) -> Span:
    return Span(_get(r, "start"), _get(r, "len"))


def _opt_span(r: Any) -> Optional[Span]:
    return None if r is None else _span(r)


def _headers(rs: List[Any]) -> List[Header]:
    return [Header(_span(_get(h, "name")), _span(_get(h, "value"))) for h in rs]


def _rejection(r: Any) -> Rejection:
    return Rejection(RejectReason(_get(r, "reason")), _get(r, "status"), _get(r, "offset"))


def _body(v: Any) -> BodyFraming:
    tag, payload = _case(v)
    if tag == "none":
        return NoBody()
    if tag == "content-length":
        return ContentLength(int(payload))
    if tag == "chunked":
        return ChunkedBody()
    raise TypeError(f"unknown body-framing case {tag!r}")


def _request_head(r: Any) -> RequestHead:
    return RequestHead(
        method=_span(_get(r, "method")),
        target=_span(_get(r, "target")),
        path=_span(_get(r, "path")),
        query=_opt_span(_get(r, "query")),
        authority=_opt_span(_get(r, "authority")),
        version=HttpVersion(_get(r, "version")),
        headers=_headers(_get(r, "headers")),
        head_length=_get(r, "head-length"),
        body=_body(_get(r, "body")),
        keep_alive=_get(r, "keep-alive"),
        expect_continue=_get(r, "expect-continue"),
        upgrade=_get(r, "upgrade"),
    )


def _frame_error(r: Any) -> FrameError:
    return FrameError(FrameErrorReason(_get(r, "reason")), _get(r, "header-index"))


def _lift_parse(v: Any) -> ParseOutcome:
    tag, p = _case(v)
    if tag == "incomplete":
        return Incomplete(int(p))
    if tag == "complete":
        return Complete(_request_head(p))
    if tag == "invalid":
        return Invalid(_rejection(p))
    raise TypeError(f"unknown parse-outcome case {tag!r}")


def _lift_chunked(v: Any) -> ChunkedOutcome:
    tag, p = _case(v)
    if tag == "invalid":
        return Invalid(_rejection(p))
    if tag != "progress":
        raise TypeError(f"unknown chunked-outcome case {tag!r}")
    s = _get(p, "state")
    return Progress(ChunkedProgress(
        consumed=_get(p, "consumed"),
        data=[_span(d) for d in _get(p, "data")],
        trailers=_headers(_get(p, "trailers")),
        state=ChunkedState(
            ChunkedPhase(_get(s, "phase")), _get(s, "remaining"), _get(s, "trailer-bytes"), _get(s, "trailer-count"),
        ),
    ))


def _lift_frame(v: Any) -> FrameOutcome:
    tag, p = _case(v)
    if tag == "invalid":
        return FrameInvalid(_frame_error(p))
    if tag != "head":
        raise TypeError(f"unknown frame-outcome case {tag!r}")
    return Framed(FramedHead(
        bytes=bytes(_get(p, "bytes")),
        body=BodyMode(_get(p, "body")),
        content_length=_get(p, "content-length"),
        close=_get(p, "close"),
    ))


def _lift_trailer(v: Any) -> TrailerOutcome:
    # wasmtime-py lifts this variant untagged: its two cases have different Python classes.
    tag: str
    p: Any
    if isinstance(v, Variant):
        tag, p = v.tag, v.payload
    else:
        tag, p = ("bytes", v) if isinstance(v, bytes) else ("invalid", v)
    if tag == "bytes":
        return TrailerBytes(bytes(p))
    if tag == "invalid":
        return FrameInvalid(_frame_error(p))
    raise TypeError(f"unknown trailer-outcome case {tag!r}")


# ---- the backend -----------------------------------------------------------------------

class ComponentBackend:
    """One instance of the component; a trap starts a fresh store and instance."""

    def __init__(self, path: Path, engine: wasmtime.Engine) -> None:
        self.path = path
        self._engine = engine
        self._component = Component.from_file(engine, str(path))
        self.restarts = 0
        self._instantiate()

    def _instantiate(self) -> None:
        # A trapped component instance refuses every later call ("cannot enter component
        # instance"), so a fresh store and instance replace it; the compiled component is reused.
        self._store = wasmtime.Store(self._engine)
        instance = Linker(self._engine).instantiate(self._store, self._component)

        def export(interface: str, name: str) -> Any:
            iface = instance.get_export_index(self._store, interface)
            index = None if iface is None else instance.get_export_index(self._store, name, iface)
            fn = None if index is None else instance.get_func(self._store, index)
            if fn is None:
                raise LookupError(f"{self.path}: the component does not export {interface}#{name}")
            return fn

        self._parse_head = export(_PARSER, "parse-head")
        self._decode = export(_CHUNKED, "decode")
        self._frame_head = export(_FRAMER, "frame-head")
        self._chunk_size_line = export(_FRAMER, "chunk-size-line")
        self._last_chunk = export(_FRAMER, "last-chunk")

    def _call(self, name: str, fn: Any, *args: Any) -> Any:
        try:
            out = fn(self._store, *args)
            fn.post_return(self._store)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as error:
            # Argument type errors are Python exceptions raised before the call; a wasmtime
            # error from the call itself leaves the instance unusable.
            self.restarts += 1
            self._instantiate()
            raise CoreTrap(name, error) from error
        return out

    def parse_head(self, data: bytes, limits: Limits) -> ParseOutcome:
        return _lift_parse(self._call("parse-head", self._parse_head, data, _limits(limits)))

    def decode_chunked(self, data: bytes, state: ChunkedState, limits: Limits) -> ChunkedOutcome:
        st = _record(
            phase=state.phase.value, remaining=state.remaining,
            trailer_bytes=state.trailer_bytes, trailer_count=state.trailer_count,
        )
        return _lift_chunked(self._call("chunked.decode", self._decode, data, st, _limits(limits)))

    def frame_head(self, response: ResponseHead, request: RequestContext, date: Optional[str]) -> FrameOutcome:
        r = _record(status=response.status, reason=response.reason, headers=_fields(response.headers), body_length=response.body_length)
        q = _record(head=request.head, http10=request.http10, close=request.close, connect=request.connect)
        return _lift_frame(self._call("frame-head", self._frame_head, r, q, date))

    def chunk_size_line(self, size: int) -> bytes:
        return bytes(self._call("chunk-size-line", self._chunk_size_line, size))

    def last_chunk(self, trailers: Sequence[Field]) -> TrailerOutcome:
        return _lift_trailer(self._call("last-chunk", self._last_chunk, _fields(trailers)))
