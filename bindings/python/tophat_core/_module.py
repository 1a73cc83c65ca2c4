"""The module backend: the core module's canonical-ABI exports, called directly.

This follows "Calling the core module directly" in docs/core.md (host/core/portable.ts is
the same in TypeScript): ``cabi_realloc`` room for the input, copy it in with one
``memmove``, call the export, read its return area with ``struct`` (lists it points to are
copied out before anything else runs), then ``cabi_post_<name>``, which resets the core's
arena allocator. Spans are offsets into the caller's bytes, so nothing else is copied.

Why not the component API: wasmtime-py lowers a ``list<u8>`` one byte at a time and lifts
records field by field in Python (3.4 ms for a 565-byte head). And why not
``wasmtime.Func.__call__`` for the core exports either, when it can be avoided: it reads the
function's type back and converts every argument through ``Val`` objects on every call
(about 100 µs a call on the machine this was measured on); see :class:`_RawExport`.
"""
from __future__ import annotations

import ctypes
import importlib
import struct
from pathlib import Path
from types import ModuleType
from typing import Dict, List, NoReturn, Optional, Sequence, Tuple, TypeVar, Union

import wasmtime

from ._backend import CoreTrap
from .types import (
    BodyFraming, BodyMode, ChunkedBody, ChunkedOutcome, ChunkedPhase, ChunkedProgress,
    ChunkedState, Complete, ContentLength, Field, FrameError, FrameErrorReason, FrameInvalid,
    FrameOutcome, Framed, FramedHead, Header, HttpVersion, Incomplete, Invalid, Limits, NoBody,
    ParseOutcome, Progress, RejectReason, Rejection, RequestContext, RequestHead, ResponseHead,
    Span, TrailerBytes, TrailerOutcome,
)

__all__ = ["ModuleBackend", "raw_calls_available"]

_PARSE_HEAD = "tophat:http/parser@0.2.0#parse-head"
_DECODE = "tophat:http/chunked@0.2.0#decode"
_FRAME_HEAD = "tophat:http/framer@0.2.0#frame-head"
_CHUNK_SIZE_LINE = "tophat:http/framer@0.2.0#chunk-size-line"
_LAST_CHUNK = "tophat:http/framer@0.2.0#last-chunk"

_I32 = "i32"
_I64 = "i64"

#: Every export the backend calls, with its wasm signature (parameters, results). Checked
#: when instantiating: the raw calls write arguments by these types, unchecked by wasmtime.
_SIGNATURES: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    "cabi_realloc": ((_I32,) * 4, (_I32,)),
    _PARSE_HEAD: ((_I32,) * 6, (_I32,)),
    _DECODE: ((_I32, _I32, _I32, _I64) + (_I32,) * 6, (_I32,)),
    _FRAME_HEAD: ((_I32,) * 7 + (_I64,) + (_I32,) * 7, (_I32,)),
    _CHUNK_SIZE_LINE: ((_I64,), (_I32,)),
    _LAST_CHUNK: ((_I32, _I32), (_I32,)),
}
for _name in (_PARSE_HEAD, _DECODE, _FRAME_HEAD, _CHUNK_SIZE_LINE, _LAST_CHUNK):
    _SIGNATURES[f"cabi_post_{_name}"] = ((_I32,), ())

# ---- return-area layouts (docs/core.md), little-endian; a variant's case is the u8 at 0 ---

#: parse-outcome `complete`: method, target, path spans; query and authority (flag, span);
#: version; headers (address, count); head-length; body (case, length); three bools.
_COMPLETE = struct.Struct("<8x6IB3x2IB3x2IB3x3IB7xQ3B")
#: parse-outcome `incomplete`: search-from.
_INCOMPLETE = struct.Struct("<8xI")
#: A rejection at 8: reason, status, offset.
_REJECTION = struct.Struct("<8xBxHI")
#: chunked-outcome `progress`: consumed; data (address, count); trailers (address, count);
#: state: phase, remaining, trailer-bytes, trailer-count.
_PROGRESS = struct.Struct("<8x5I4xB7xQ2I")
#: frame-outcome `head`: bytes (address, length), body mode, content-length, close.
_FRAMED = struct.Struct("<8x2IB7xQB")
#: frame-outcome `invalid`: reason, header-index (flag, index).
_FRAME_ERROR = struct.Struct("<8xB3xB3xI")
#: A list<u8> at 0 (chunk-size-line's result): address, length.
_LIST = struct.Struct("<2I")
#: trailer-outcome: `bytes` (address, length) at 4, or `invalid` (reason, flag, index) at 4.
_TRAILER_BYTES = struct.Struct("<4x2I")
_TRAILER_ERROR = struct.Struct("<4xB3xB3xI")

# The largest case of each variant: the return area always holds that many bytes.
_PARSE_AREA = max(_COMPLETE.size, _INCOMPLETE.size, _REJECTION.size)
_CHUNKED_AREA = max(_PROGRESS.size, _REJECTION.size)
_FRAME_AREA = max(_FRAMED.size, _FRAME_ERROR.size)
_TRAILER_AREA = max(_TRAILER_BYTES.size, _TRAILER_ERROR.size)

# Enum cases in the WIT's order (tests/test_reader.py checks types.py against wit/tophat.wit).
_REJECT_REASONS = tuple(RejectReason)
_VERSIONS = tuple(HttpVersion)
_PHASES = tuple(ChunkedPhase)
_PHASE_INDEX = {phase: i for i, phase in enumerate(_PHASES)}
_BODY_MODES = tuple(BodyMode)
_FRAME_ERROR_REASONS = tuple(FrameErrorReason)

_NO_BODY = NoBody()
_CHUNKED_BODY = ChunkedBody()

_E = TypeVar("_E")


def _case(table: Tuple[_E, ...], index: int, what: str) -> _E:
    if index >= len(table):
        raise RuntimeError(f"the core returned an unknown {what} ({index}): the module does not match this binding")
    return table[index]


# Spans and headers come by the dozen (a head with 70 fields: 210 objects), so they are
# made without their dataclass __init__, which sets each field of a frozen dataclass
# through object.__setattr__: written straight into the new instance's __dict__, a header
# costs half as much (66 µs instead of 120 for 70 fields, measured). That is sound while
# Span and Header are plain frozen dataclasses (no __slots__, no __post_init__);
# tests/test_backends.py checks the objects equal, hash and print like ordinary ones.
_new = object.__new__


def _spans(words: Sequence[int]) -> List[Span]:
    out: List[Span] = []
    it = iter(words)
    for start, length in zip(it, it):
        span = _new(Span)
        d = span.__dict__
        d["start"] = start
        d["len"] = length
        out.append(span)
    return out


def _headers(words: Sequence[int]) -> List[Header]:
    out: List[Header] = []
    it = iter(words)
    for a, b, c, d in zip(it, it, it, it):
        name = _new(Span)
        nd = name.__dict__
        nd["start"] = a
        nd["len"] = b
        value = _new(Span)
        vd = value.__dict__
        vd["start"] = c
        vd["len"] = d
        header = _new(Header)
        hd = header.__dict__
        hd["name"] = name
        hd["value"] = value
        out.append(header)
    return out


# ---- calling an export ------------------------------------------------------------------

def _wasmtime_ffi() -> Optional[ModuleType]:
    """wasmtime-py's ctypes bindings of wasmtime's C API, if this wasmtime-py has them."""
    try:
        ffi = importlib.import_module("wasmtime._bindings")
    except ImportError:
        return None
    needed = ("wasmtime_func_call_unchecked", "wasmtime_val_raw_t", "wasm_trap_t")
    if not all(hasattr(ffi, name) for name in needed):
        return None
    if not (hasattr(wasmtime.Store, "_context") and hasattr(wasmtime.Trap, "_from_ptr") and hasattr(wasmtime.WasmtimeError, "_from_ptr")):
        return None
    # A raw value is a 16-byte union (it holds a v128); _RawExport packs arguments by that.
    if ctypes.sizeof(ffi.wasmtime_val_raw_t) != 16:
        return None
    return ffi


_FFI = _wasmtime_ffi()


def raw_calls_available() -> bool:
    """Whether the installed wasmtime-py lets the module backend make raw calls (the fast path)."""
    return _FFI is not None


class _RawExport:
    """One export, called through wasmtime's C API ``wasmtime_func_call_unchecked``.

    The arguments are packed into a reused ``wasmtime_val_raw_t`` array (16 bytes a value,
    little-endian, as wasmtime defines raw values) with one ``struct.pack_into``, and the
    call is one ctypes call: about 2 µs, where ``Func.__call__`` costs about 100. Unchecked
    means wasmtime trusts the array to fit the function's signature:
    :meth:`ModuleBackend._instantiate` checked it against ``_SIGNATURES`` first. The C API
    comes through wasmtime-py's own ctypes bindings (``wasmtime._bindings``); when a
    wasmtime-py lacks them, :class:`_CheckedExport` is used instead.
    """

    __slots__ = ("_ffi", "_context", "_func", "_values", "_count", "_pack", "_trap", "_trap_ref")

    def __init__(self, ffi: ModuleType, store: wasmtime.Store, func: wasmtime.Func, params: Tuple[str, ...], results: Tuple[str, ...]) -> None:
        self._ffi = ffi
        self._context = store._context()
        # The Func (and the wasmtime_func_t it holds) lives as long as the backend's instance.
        self._func = ctypes.byref(func._func)
        self._count = max(len(params), len(results), 1)
        self._values = (ffi.wasmtime_val_raw_t * self._count)()
        self._pack = struct.Struct("<" + "".join("I12x" if p == _I32 else "Q8x" for p in params)).pack_into
        self._new_trap()

    def _new_trap(self) -> None:
        # Where wasmtime stores a trap: NULL until one happens, so it is reused until then.
        self._trap = ctypes.POINTER(self._ffi.wasm_trap_t)()
        self._trap_ref = ctypes.byref(self._trap)

    def __call__(self, *args: int) -> int:
        values = self._values
        self._pack(values, 0, *args)
        error = self._ffi.wasmtime_func_call_unchecked(self._context, self._func, values, self._count, self._trap_ref)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        if self._trap:
            trap = self._trap
            self._new_trap()  # the Trap object takes this one over (and deletes it)
            raise wasmtime.Trap._from_ptr(trap)
        # The result (an i32 address) is in the first value; functions without one leave it.
        result: int = _U32.unpack_from(values, 0)[0]
        return result


_U32 = struct.Struct("<I")


class _CheckedExport:
    """One export, called through ``wasmtime.Func.__call__`` (public API, slower)."""

    __slots__ = ("_store", "_func", "_bounds")

    def __init__(self, store: wasmtime.Store, func: wasmtime.Func, params: Tuple[str, ...]) -> None:
        self._store = store
        self._func = func
        # wasmtime values are signed: u32 and u64 arguments above the signed range wrap.
        self._bounds = tuple(1 << 31 if p == _I32 else 1 << 63 for p in params)

    def __call__(self, *args: int) -> int:
        signed = [a - 2 * b if a >= b else a for a, b in zip(args, self._bounds)]
        out = self._func(self._store, *signed)
        return 0 if out is None else int(out) & 0xFFFFFFFF


_Export = Union[_RawExport, _CheckedExport]

#: What a call that traps raises (then the instance is unusable).
_TRAPS = (wasmtime.Trap, wasmtime.WasmtimeError)


# ---- the backend -----------------------------------------------------------------------

class ModuleBackend:
    """One instance of the core module; a trap starts a fresh store and instance.

    ``raw_calls`` (default: when available) makes the fast calls of :class:`_RawExport`;
    ``False`` calls through ``wasmtime.Func`` (tests use it to cover that path).
    """

    def __init__(self, path: Path, engine: wasmtime.Engine, module: Optional[wasmtime.Module] = None, *, raw_calls: Optional[bool] = None) -> None:
        self.path = path
        self._engine = engine
        self._module = module if module is not None else wasmtime.Module.from_file(engine, str(path))
        if raw_calls and _FFI is None:
            raise RuntimeError("raw calls need wasmtime-py's C API bindings (wasmtime._bindings), which this wasmtime lacks")
        self.raw_calls = _FFI is not None if raw_calls is None else raw_calls
        self.restarts = 0
        self._instantiate()

    def _instantiate(self) -> None:
        # A trap leaves the instance in an unknown state, so a new store and instance
        # replace it; the compiled module is reused.
        store = wasmtime.Store(self._engine)
        instance = wasmtime.Instance(store, self._module, [])
        exports = instance.exports(store)

        def export(name: str) -> _Export:
            fn = exports.get(name)
            if not isinstance(fn, wasmtime.Func):
                raise LookupError(f"{self.path}: the core module does not export the function {name!r}")
            params, results = _SIGNATURES[name]
            ty = fn.type(store)
            got = (tuple(str(t) for t in ty.params), tuple(str(t) for t in ty.results))
            if got != (params, results):
                raise TypeError(f"{self.path}: {name} has the signature {got}, not {(params, results)}: not this binding's core")
            if self.raw_calls and _FFI is not None:
                return _RawExport(_FFI, store, fn, params, results)
            return _CheckedExport(store, fn, params)

        memory = exports.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            raise LookupError(f"{self.path}: the core module does not export its memory")
        self._store = store
        self._instance = instance  # keeps the instance (and its functions) alive
        self._memory = memory
        self._size = -1
        self._base = 0
        self._realloc = export("cabi_realloc")
        self._parse_head = export(_PARSE_HEAD)
        self._post_parse_head = export(f"cabi_post_{_PARSE_HEAD}")
        self._decode = export(_DECODE)
        self._post_decode = export(f"cabi_post_{_DECODE}")
        self._frame_head = export(_FRAME_HEAD)
        self._post_frame_head = export(f"cabi_post_{_FRAME_HEAD}")
        self._chunk_size_line = export(_CHUNK_SIZE_LINE)
        self._post_chunk_size_line = export(f"cabi_post_{_CHUNK_SIZE_LINE}")
        self._last_chunk = export(_LAST_CHUNK)
        self._post_last_chunk = export(f"cabi_post_{_LAST_CHUNK}")
        self._refresh()

    # ---- memory ----

    def _refresh(self) -> None:
        """Takes the memory's base again if it grew (any call may grow it; growing may move it).

        Memory never shrinks, so an unchanged size means no growth and an unchanged base.
        """
        size = self._memory.data_len(self._store)
        if size != self._size:
            self._base = ctypes.addressof(self._memory.data_ptr(self._store).contents)
            self._size = size

    def _check(self, at: int, length: int) -> None:
        # Raw addresses are only read and written inside the memory: an address from a
        # core that does not match this binding must not touch the process's own memory.
        if at + length > self._size:
            raise RuntimeError(f"the core gave the range {at}+{length}, outside its memory ({self._size} bytes)")

    def _read(self, at: int, length: int) -> bytes:
        self._check(at, length)
        return ctypes.string_at(self._base + at, length)

    def _put(self, data: bytes, align: int = 1) -> int:
        """``cabi_realloc`` room for ``data`` and copies it there; returns its address."""
        ptr = self._realloc(0, 0, align, len(data))
        self._refresh()
        self._check(ptr, len(data))
        ctypes.memmove(self._base + ptr, data, len(data))
        return ptr

    def _words(self, at: int, count: int) -> Tuple[int, ...]:
        """``count`` u32 words at ``at``, copied out."""
        if count == 0:
            return ()
        return struct.unpack(f"<{count}I", self._read(at, 4 * count))

    def _trapped(self, call: str, error: Exception) -> NoReturn:
        self.restarts += 1
        self._instantiate()
        raise CoreTrap(call, error) from error

    def _post(self, call: str, post: _Export, ret: int) -> None:
        try:
            post(ret)
        except _TRAPS as error:
            self._trapped(call, error)

    # ---- the calls ----

    def parse_head(self, data: bytes, limits: Limits) -> ParseOutcome:
        try:
            ptr = self._put(data)
            ret = self._parse_head(
                ptr, len(data), limits.max_head_bytes, limits.max_headers, limits.max_target_length,
                limits.max_chunk_extension_length,
            )
        except _TRAPS as error:
            self._trapped("parse-head", error)
        try:
            self._refresh()
            area = self._read(ret, _PARSE_AREA)
            case = area[0]
            if case == 1:
                return Complete(self._request_head(area))
            if case == 0:
                return Incomplete(_INCOMPLETE.unpack_from(area)[0])
            return Invalid(_rejection(area))
        finally:
            self._post("parse-head", self._post_parse_head, ret)

    def _request_head(self, area: bytes) -> RequestHead:
        (m0, m1, t0, t1, p0, p1, has_query, q0, q1, has_authority, a0, a1, version,
         headers_at, header_count, head_length, body_case, body_length,
         keep_alive, expect_continue, upgrade) = _COMPLETE.unpack_from(area)
        body: BodyFraming
        if body_case == 0:
            body = _NO_BODY
        elif body_case == 1:
            body = ContentLength(body_length)
        elif body_case == 2:
            body = _CHUNKED_BODY
        else:
            raise RuntimeError(f"the core returned an unknown body-framing case ({body_case})")
        return RequestHead(
            method=Span(m0, m1),
            target=Span(t0, t1),
            path=Span(p0, p1),
            query=Span(q0, q1) if has_query else None,
            authority=Span(a0, a1) if has_authority else None,
            version=_case(_VERSIONS, version, "http-version"),
            headers=_headers(self._words(headers_at, 4 * header_count)),
            head_length=head_length,
            body=body,
            keep_alive=keep_alive != 0,
            expect_continue=expect_continue != 0,
            upgrade=upgrade != 0,
        )

    def decode_chunked(self, data: bytes, state: ChunkedState, limits: Limits) -> ChunkedOutcome:
        try:
            ptr = self._put(data)
            ret = self._decode(
                ptr, len(data), _PHASE_INDEX[state.phase], state.remaining, state.trailer_bytes,
                state.trailer_count, limits.max_head_bytes, limits.max_headers, limits.max_target_length,
                limits.max_chunk_extension_length,
            )
        except _TRAPS as error:
            self._trapped("chunked.decode", error)
        try:
            self._refresh()
            area = self._read(ret, _CHUNKED_AREA)
            if area[0] != 0:
                return Invalid(_rejection(area))
            (consumed, data_at, data_count, trailers_at, trailer_count, phase, remaining,
             trailer_bytes, trailers_seen) = _PROGRESS.unpack_from(area)
            return Progress(ChunkedProgress(
                consumed=consumed,
                data=_spans(self._words(data_at, 2 * data_count)),
                trailers=_headers(self._words(trailers_at, 4 * trailer_count)),
                state=ChunkedState(_case(_PHASES, phase, "chunked-phase"), remaining, trailer_bytes, trailers_seen),
            ))
        finally:
            self._post("chunked.decode", self._post_decode, ret)

    def _put_fields(self, fields: Sequence[Field], *extra: bytes) -> Tuple[int, List[int]]:
        """Writes a ``list<field>`` (16 bytes an element: name and value address and length)
        and the UTF-8 strings it points to, then the ``extra`` strings, in one block.

        Returns the list's address and the address of each extra string.
        """
        # Encoded before anything is allocated: a string that is not UTF-8 (a lone
        # surrogate) raises UnicodeEncodeError here, as the component API does.
        strings = [s.encode("utf-8") for f in fields for s in (f.name, f.value)]
        strings.extend(extra)
        table = 16 * len(fields)
        size = table + sum(len(s) for s in strings)
        list_at = self._realloc(0, 0, 4, size)
        words: List[int] = []
        at = list_at + table
        for s in strings:
            words.append(at)
            words.append(len(s))
            at += len(s)
        entries = struct.pack(f"<{4 * len(fields)}I", *words[:4 * len(fields)])
        block = entries + b"".join(strings)
        self._refresh()
        self._check(list_at, len(block))
        ctypes.memmove(self._base + list_at, block, len(block))
        return list_at, words[4 * len(fields)::2]

    def frame_head(self, response: ResponseHead, request: RequestContext, date: Optional[str]) -> FrameOutcome:
        reason = b"" if response.reason is None else response.reason.encode("utf-8")
        date_bytes = b"" if date is None else date.encode("utf-8")
        length = response.body_length
        try:
            fields_at, (reason_at, date_at) = self._put_fields(response.headers, reason, date_bytes)
            ret = self._frame_head(
                response.status, response.reason is not None, reason_at, len(reason),
                fields_at, len(response.headers), length is not None, 0 if length is None else length,
                request.head, request.http10, request.close, request.connect,
                date is not None, date_at, len(date_bytes),
            )
        except _TRAPS as error:
            self._trapped("frame-head", error)
        try:
            self._refresh()
            area = self._read(ret, _FRAME_AREA)
            if area[0] != 0:
                reason_index, has_index, index = _FRAME_ERROR.unpack_from(area)
                return FrameInvalid(_frame_error(reason_index, has_index, index))
            bytes_at, bytes_len, mode, content_length, close = _FRAMED.unpack_from(area)
            return Framed(FramedHead(
                bytes=self._read(bytes_at, bytes_len),
                body=_case(_BODY_MODES, mode, "body-mode"),
                content_length=content_length,
                close=close != 0,
            ))
        finally:
            self._post("frame-head", self._post_frame_head, ret)

    def chunk_size_line(self, size: int) -> bytes:
        try:
            ret = self._chunk_size_line(size)
        except _TRAPS as error:
            self._trapped("chunk-size-line", error)
        try:
            self._refresh()
            at, length = _LIST.unpack_from(self._read(ret, _LIST.size))
            return self._read(at, length)
        finally:
            self._post("chunk-size-line", self._post_chunk_size_line, ret)

    def last_chunk(self, trailers: Sequence[Field]) -> TrailerOutcome:
        try:
            fields_at, _ = self._put_fields(trailers)
            ret = self._last_chunk(fields_at, len(trailers))
        except _TRAPS as error:
            self._trapped("last-chunk", error)
        try:
            self._refresh()
            area = self._read(ret, _TRAILER_AREA)
            if area[0] != 0:
                return FrameInvalid(_frame_error(*_TRAILER_ERROR.unpack_from(area)))
            at, length = _TRAILER_BYTES.unpack_from(area)
            return TrailerBytes(self._read(at, length))
        finally:
            self._post("last-chunk", self._post_last_chunk, ret)


def _rejection(area: bytes) -> Rejection:
    reason, status, offset = _REJECTION.unpack_from(area)
    return Rejection(_case(_REJECT_REASONS, reason, "reject-reason"), status, offset)


def _frame_error(reason: int, has_index: int, index: int) -> FrameError:
    return FrameError(_case(_FRAME_ERROR_REASONS, reason, "frame-error-reason"), index if has_index else None)
