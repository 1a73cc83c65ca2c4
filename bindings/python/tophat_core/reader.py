"""Incremental reading on top of the stateless core: request heads and chunked bodies."""
from __future__ import annotations

from typing import List, Optional, Union

from .core import Core, default_core
from .types import DEFAULT_LIMITS, ChunkedPhase, ChunkedState, Complete, Incomplete, Invalid, Limits, ParseOutcome

__all__ = ["may_end_head", "HeadReader", "ChunkedDecoder", "decode_window"]

_LF = 0x0A
_CR = 0x0D


def may_end_head(data: Union[bytes, bytearray], start: int) -> bool:
    """Whether ``data`` holds ``LF CR LF`` or ``LF LF`` starting at or after ``start``.

    After ``Incomplete(search_from)``, that is the only way a longer input can end the head
    (or be refused for a bare LF), so a host calls the core again only when it is true.
    """
    i = data.find(b"\n", max(0, start))
    n = len(data)
    while i != -1:
        if i + 1 < n and (data[i + 1] == _LF or (data[i + 1] == _CR and i + 2 < n and data[i + 2] == _LF)):
            return True
        i = data.find(b"\n", i + 1)
    return False


class HeadReader:
    """Reads one request head from pieces, calling the core only when a call can give a new answer.

    The core parses from the start on every call, so calling it on every read would cost
    O(n²) for a client that sends a byte at a time. This follows the loop the WIT's
    ``parse-head`` gives: call on the first read; after ``Incomplete(search_from)``, search
    only the bytes not searched yet (from ``max(search_from, searched - 2)``) for
    ``LF CR LF`` or ``LF LF``, and call when one is there or when the buffer holds
    ``max_head_bytes``. At most ``max_head_bytes`` are handed to the core (it looks at no
    more), so each call costs O(``max_head_bytes``) however much was fed.

    Usage::

        reader = HeadReader(core)
        outcome = reader.feed(chunk)      # Incomplete, Complete or Invalid
        # on Complete: spans point into reader.buffer; the body starts at head.head_length
        rest = reader.next_head()         # bytes after the head; the reader starts over
    """

    def __init__(self, core: Optional[Core] = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.core = core if core is not None else default_core()
        self.limits = limits
        self._buf = bytearray()
        self._outcome: Optional[ParseOutcome] = None
        self._searched = 0

    @property
    def buffer(self) -> bytes:
        """Every byte fed since the head started (the spans of a ``Complete`` point into it)."""
        return bytes(self._buf)

    @property
    def outcome(self) -> Optional[ParseOutcome]:
        """The last outcome (``None`` before the first call)."""
        return self._outcome

    def feed(self, data: bytes) -> ParseOutcome:
        """Adds ``data`` and returns the head's outcome so far.

        Returns the previous ``Incomplete`` without calling the core when no new answer is
        possible. After ``Complete`` or ``Invalid``, feeding more is an error: call
        :meth:`next_head` (after a ``Complete``) to start the next head.
        """
        if isinstance(self._outcome, (Complete, Invalid)):
            raise RuntimeError("the head is already read: call next_head() before feeding more")
        self._buf += data
        last = self._outcome
        if isinstance(last, Incomplete):
            start = max(last.search_from, self._searched - 2)
            self._searched = len(self._buf)
            if len(self._buf) < self.limits.max_head_bytes and not may_end_head(self._buf, start):
                return last
        self._searched = len(self._buf)
        self._outcome = self.core.parse_head(bytes(self._buf[: self.limits.max_head_bytes]), self.limits)
        return self._outcome

    def next_head(self) -> bytes:
        """After ``Complete``: removes the head and returns the bytes after it; reading starts over.

        The returned bytes are the body's first bytes (or the next pipelined request); feed
        back what belongs to the next head with :meth:`feed`, which then calls the core at
        once (a first read).
        """
        if not isinstance(self._outcome, Complete):
            raise RuntimeError("next_head() needs a complete head")
        rest = bytes(self._buf[self._outcome.head.head_length:])
        self._buf = bytearray()
        self._outcome = None
        self._searched = 0
        return rest


def decode_window(limits: Limits) -> int:
    """How many bytes ``chunked.decode`` looks at per call under ``limits`` (see the WIT)."""
    return max(1 << 20, limits.max_head_bytes + 1024, limits.max_chunk_extension_length + 1024)


class ChunkedDecoder:
    """Decodes one chunked body fed in pieces; keeps the bytes the core did not consume.

    :meth:`feed` returns the body data decoded from what it was given (possibly nothing), or
    ``Invalid`` (answer ``rejection.status`` and close). When :attr:`done` is true the body
    has ended; :attr:`leftover` holds the bytes after it (the next pipelined request) and
    :attr:`trailers` the trailer fields as ``(name, value)`` bytes: keep them apart from the
    head's fields.
    """

    def __init__(self, core: Optional[Core] = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.core = core if core is not None else default_core()
        self.limits = limits
        self.state = ChunkedState()
        self.trailers: List["tuple[bytes, bytes]"] = []
        self._held = b""

    @property
    def done(self) -> bool:
        """The body (last chunk and trailer section) has been read."""
        return self.state.phase is ChunkedPhase.DONE

    @property
    def leftover(self) -> bytes:
        """Bytes held back: after :attr:`done`, the bytes that follow the body."""
        return self._held

    def feed(self, data: bytes) -> Union[List[bytes], Invalid]:
        """Decodes what ``data`` (after any held bytes) completes; returns the body data found."""
        if self.done:
            self._held += data
            return []
        buf = self._held + data
        out: List[bytes] = []
        window = decode_window(self.limits)
        while buf and not self.done:
            # The core looks at no more than its window, so that is all it needs to be given.
            piece = buf[:window]
            r = self.core.decode_chunked(piece, self.state, self.limits)
            if isinstance(r, Invalid):
                self._held = b""
                return r
            p = r.progress
            out.extend(s.of(piece) for s in p.data)
            self.trailers.extend(h.of(piece) for h in p.trailers)
            self.state = p.state
            buf = buf[p.consumed:]
            if p.consumed == 0:
                break  # an incomplete line: more bytes are needed
        self._held = buf
        return out


