"""The :class:`Core`: Tophat's protocol core with typed calls, over one of two backends.

``backend="module"`` (the default) calls the core module's canonical-ABI exports directly
(:mod:`tophat_core._module`); ``backend="component"`` runs the component through wasmtime's
component API (:mod:`tophat_core._component`). Both give the same outcomes (the test suite
compares both with the TypeScript binding's); the module backend is about a hundred times
faster, because wasmtime-py's component API converts a ``list<u8>`` one byte at a time.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import wasmtime

from ._backend import Backend, BackendName, CoreTrap
from ._component import ComponentBackend
from ._module import ModuleBackend
from .types import (
    DEFAULT_LIMITS, ChunkedOutcome, ChunkedState, Field, FrameOutcome, Limits, ParseOutcome,
    RequestContext, ResponseHead, TrailerOutcome,
)

__all__ = [
    "Core", "CoreTrap", "BackendName", "default_component_path", "default_module_path", "COMPONENT_ENV",
    "MODULE_ENV", "parse_head", "decode_chunked", "frame_head", "chunk_size_line", "last_chunk", "default_core",
]

PathLike = Union[str, "os.PathLike[str]"]

#: The environment variable that names the component when no path is given.
COMPONENT_ENV = "TOPHAT_COMPONENT"
COMPONENT_FILE = "tophat-http.component.wasm"
#: The environment variable that names the core module when no path is given.
MODULE_ENV = "TOPHAT_CORE_MODULE"
MODULE_FILE = "tophat-http.core.wasm"
#: The core module built without SIMD: the fallback for an engine that has SIMD turned off.
SCALAR_MODULE_FILE = "tophat-http.scalar.core.wasm"

_MAX_U64 = 2**64 - 1


def _locate(env: str, file: str) -> Path:
    value = os.environ.get(env)
    if value:
        return Path(value)
    here = Path(__file__).resolve().parent
    shipped = here / file
    if shipped.is_file():
        return shipped
    repo = here.parent.parent.parent / "dist" / file
    if repo.is_file():
        return repo
    raise FileNotFoundError(
        f"no {file}: pass its path to Core(), set {env}, "
        f"ship it beside the package ({shipped}) or build the repository ({repo})"
    )


def default_component_path() -> Path:
    """Where the component is loaded from when ``Core(backend="component")`` gets no path.

    In order: the ``TOPHAT_COMPONENT`` environment variable; the component shipped beside
    this package (``tophat_core/tophat-http.component.wasm``); the ``dist/`` folder of the
    Tophat repository this package sits in (``bindings/python/tophat_core`` → ``dist/``).
    """
    return _locate(COMPONENT_ENV, COMPONENT_FILE)


def default_module_path() -> Path:
    """Where the core module is loaded from when ``Core()`` gets no path.

    In order: the ``TOPHAT_CORE_MODULE`` environment variable; the module shipped beside
    this package (``tophat_core/tophat-http.core.wasm``); the repository's ``dist/``. When
    the engine cannot compile that (SIMD) build and it was not named by the environment
    variable, ``Core`` loads ``tophat-http.scalar.core.wasm`` from the same folder.
    """
    return _locate(MODULE_ENV, MODULE_FILE)


def wasm_kind(path: Path) -> BackendName:
    """``"module"`` or ``"component"``: what the WebAssembly binary at ``path`` is (by its header)."""
    with open(path, "rb") as f:
        header = f.read(8)
    if header[:4] != b"\0asm" or len(header) < 8:
        raise ValueError(f"{path} is not a WebAssembly binary")
    if header[4:8] == b"\x01\x00\x00\x00":
        return "module"
    if header[6:8] == b"\x01\x00":  # layer 1: a component
        return "component"
    raise ValueError(f"{path}: unknown WebAssembly binary version {header[4:8].hex()}")


def _compile_module(path: Optional[Path], engine: wasmtime.Engine) -> Tuple[Path, wasmtime.Module]:
    if path is not None:
        return path, wasmtime.Module.from_file(engine, str(path))
    located = default_module_path()
    try:
        return located, wasmtime.Module.from_file(engine, str(located))
    except wasmtime.WasmtimeError as error:
        scalar = located.with_name(SCALAR_MODULE_FILE)
        if os.environ.get(MODULE_ENV) or located.name != MODULE_FILE or not scalar.is_file():
            raise
        # An engine with SIMD turned off (Config.wasm_simd = False) cannot compile the SIMD
        # build; the scalar build gives the same outcomes, a little slower on long inputs.
        try:
            return scalar, wasmtime.Module.from_file(engine, str(scalar))
        except wasmtime.WasmtimeError as scalar_error:
            raise scalar_error from error


def _check_u64(what: str, value: int) -> None:
    if not 0 <= value <= _MAX_U64:
        raise ValueError(f"{what} must be 0 … 2**64 - 1, got {value}")


# ---- the core --------------------------------------------------------------------------

class Core:
    """One instance of the protocol core, with typed calls.

    Not thread-safe (a wasmtime store is not): use one ``Core`` per thread. Every call is
    stateless in the core, so one ``Core`` serves any number of connections.

    Args:
        path: The core module (``tophat-http.core.wasm`` or ``tophat-http.scalar.core.wasm``)
            or the component (``tophat-http.component.wasm``); which one it is is read from
            the file. Default: see :func:`default_module_path` (or
            :func:`default_component_path` with ``backend="component"``).
        backend: ``"module"`` (the default: the core module's exports called directly) or
            ``"component"`` (the component through wasmtime's component API: the
            published artifact, a hundred times slower). Default: what ``path`` is, else
            ``"module"``.
        engine: A wasmtime engine to compile it with (default: a new one).
        raw_calls: Module backend only. ``None`` (default): call the exports through
            wasmtime's C API directly when wasmtime-py's bindings of it are there (the fast
            path); ``False``: through ``wasmtime.Func`` (public API only, ~10 times slower).
    """

    def __init__(
        self, path: Optional[PathLike] = None, *, backend: Optional[BackendName] = None,
        engine: Optional[wasmtime.Engine] = None, raw_calls: Optional[bool] = None,
    ) -> None:
        given = Path(path) if path is not None else None
        if given is not None:
            kind = wasm_kind(given)
            if backend is not None and backend != kind:
                raise ValueError(f"{given} is a {kind}, not a {backend}")
            backend = kind
        if backend is None:
            backend = "module"
        if backend not in ("module", "component"):
            raise ValueError(f'backend must be "module" or "component", got {backend!r}')
        if raw_calls is not None and backend != "module":
            raise ValueError("raw_calls applies to the module backend only")
        self._engine = engine if engine is not None else wasmtime.Engine()
        #: Which backend this core runs on: ``"module"`` or ``"component"``.
        self.backend: BackendName = backend
        self._impl: Backend
        if backend == "component":
            self.path = given if given is not None else default_component_path()
            self._impl = ComponentBackend(self.path, self._engine)
            #: Whether calls go through wasmtime's C API directly (module backend, fast path).
            self.raw_calls = False
        else:
            self.path, module = _compile_module(given, self._engine)
            impl = ModuleBackend(self.path, self._engine, module, raw_calls=raw_calls)
            self._impl = impl
            self.raw_calls = impl.raw_calls
        #: Total input bytes handed to ``parse_head`` (lets a host check its feeding is linear).
        self.parse_head_bytes = 0
        #: How many ``parse_head`` calls were made.
        self.parse_head_calls = 0

    @property
    def restarts(self) -> int:
        """How many times a trap made the binding start a fresh instance."""
        return self._impl.restarts

    def __repr__(self) -> str:
        return f"Core({str(self.path)!r}, backend={self.backend!r})"

    def parse_head(self, data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParseOutcome:
        """Parses the request head at the start of ``data`` (``parser.parse-head``).

        Each call parses from the start of ``data``: to read a head in pieces, use
        :class:`tophat_core.HeadReader`, which calls only when a call can give a new answer.
        """
        if type(data) is not bytes:
            data = bytes(data)
        self.parse_head_calls += 1
        self.parse_head_bytes += len(data)
        return self._impl.parse_head(data, limits)

    def decode_chunked(self, data: bytes, state: ChunkedState = ChunkedState(), limits: Limits = DEFAULT_LIMITS) -> ChunkedOutcome:
        """Decodes as much of a chunked body as ``data`` holds (``chunked.decode``).

        When ``consumed`` is above 0 and below ``len(data)``, pass the rest again at once;
        when it is 0, the rest is an incomplete line: wait for more bytes.
        """
        if type(data) is not bytes:
            data = bytes(data)
        return self._impl.decode_chunked(data, state, limits)

    def frame_head(self, response: ResponseHead, request: RequestContext = RequestContext(), date: Optional[str] = None) -> FrameOutcome:
        """Frames a response head (``framer.frame-head``); ``date`` is an IMF-fixdate the host caches."""
        return self._impl.frame_head(response, request, date)

    def chunk_size_line(self, size: int) -> bytes:
        """The chunk-size line (hex size and CRLF) to write before ``size`` bytes of chunk data."""
        _check_u64("chunk_size_line: size", size)
        return self._impl.chunk_size_line(size)

    def last_chunk(self, trailers: Sequence[Field] = ()) -> TrailerOutcome:
        """The last chunk, the trailer fields and the final CRLF that end a chunked body."""
        return self._impl.last_chunk(trailers)


# ---- module-level calls on a per-thread default core -----------------------------------

_local = threading.local()


def default_core() -> Core:
    """This thread's default :class:`Core`, loaded on first use from :func:`default_component_path`."""
    core: Optional[Core] = getattr(_local, "core", None)
    if core is None:
        core = Core()
        _local.core = core
    return core


def parse_head(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParseOutcome:
    """:meth:`Core.parse_head` on :func:`default_core`."""
    return default_core().parse_head(data, limits)


def decode_chunked(data: bytes, state: ChunkedState = ChunkedState(), limits: Limits = DEFAULT_LIMITS) -> ChunkedOutcome:
    """:meth:`Core.decode_chunked` on :func:`default_core`."""
    return default_core().decode_chunked(data, state, limits)


def frame_head(response: ResponseHead, request: RequestContext = RequestContext(), date: Optional[str] = None) -> FrameOutcome:
    """:meth:`Core.frame_head` on :func:`default_core`."""
    return default_core().frame_head(response, request, date)


def chunk_size_line(size: int) -> bytes:
    """:meth:`Core.chunk_size_line` on :func:`default_core`."""
    return default_core().chunk_size_line(size)


def last_chunk(trailers: Sequence[Field] = ()) -> TrailerOutcome:
    """:meth:`Core.last_chunk` on :func:`default_core`."""
    return default_core().last_chunk(trailers)


