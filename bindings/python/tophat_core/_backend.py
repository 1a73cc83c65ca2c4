"""What both backends (the core module, the component) provide to :class:`tophat_core.Core`."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional, Protocol, Sequence

from .types import (
    ChunkedOutcome, ChunkedState, Field, FrameOutcome, Limits, ParseOutcome, RequestContext,
    ResponseHead, TrailerOutcome,
)

__all__ = ["BackendName", "Backend", "CoreTrap"]

#: ``"module"``: the core module's canonical-ABI exports, called directly (fast);
#: ``"component"``: the component, through wasmtime's component API.
BackendName = Literal["module", "component"]


class CoreTrap(Exception):
    """The core trapped during ``call``; the binding has already started a fresh instance.

    Only the call that trapped fails: the next call runs on the new instance. The wasmtime
    error is the exception's ``__cause__``. The core never traps on valid use (see the WIT);
    a trap means a bug in the core or an input beyond its memory (over ~128 MiB).
    """

    def __init__(self, call: str, cause: BaseException) -> None:
        super().__init__(f"the protocol core trapped in {call} (a fresh instance serves the next call): {cause}")
        self.call = call


class Backend(Protocol):
    """One instance of the core, called with values already checked by ``Core``.

    A call that traps re-instantiates (counted in ``restarts``) and raises :class:`CoreTrap`.
    """

    path: Path
    restarts: int

    def parse_head(self, data: bytes, limits: Limits) -> ParseOutcome: ...

    def decode_chunked(self, data: bytes, state: ChunkedState, limits: Limits) -> ChunkedOutcome: ...

    def frame_head(self, response: ResponseHead, request: RequestContext, date: Optional[str]) -> FrameOutcome: ...

    def chunk_size_line(self, size: int) -> bytes: ...

    def last_chunk(self, trailers: Sequence[Field]) -> TrailerOutcome: ...
