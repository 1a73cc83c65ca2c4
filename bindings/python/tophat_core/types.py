"""The values exchanged with the protocol core, as Python dataclasses and enums.

They follow the WIT contract (``wit/tophat.wit``, package ``tophat:http@0.2.0``) one to
one, with snake_case attribute names; enums keep the WIT's kebab-case case names as their
values (``RejectReason.BAD_HOST.value == "bad-host"``). Variants are small dataclasses, one
per case, so an outcome is told apart with ``isinstance`` or ``match``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional, Tuple, Union

__all__ = [
    "Span", "Header", "Limits", "DEFAULT_LIMITS", "RejectReason", "Rejection", "HttpVersion",
    "NoBody", "ContentLength", "ChunkedBody", "BodyFraming", "RequestHead",
    "Incomplete", "Complete", "Invalid", "ParseOutcome",
    "ChunkedPhase", "ChunkedState", "ChunkedProgress", "Progress", "ChunkedOutcome",
    "Field", "RequestContext", "ResponseHead", "BodyMode", "FramedHead", "FrameErrorReason",
    "FrameError", "Framed", "FrameInvalid", "FrameOutcome", "TrailerBytes", "TrailerOutcome",
]


# ---- range checks ----------------------------------------------------------------------

def _check_range(owner: str, name: str, value: int, bits: int) -> None:
    # The WIT's integers are unsigned and sized; a value outside one is refused here, where
    # it was made, instead of being wrapped (wasmtime's component API wraps silently).
    if not isinstance(value, int):
        raise TypeError(f"{owner}.{name} must be an int, got {type(value).__name__}")
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{owner}.{name} must be 0 … 2**{bits} - 1, got {value}")


# ---- types -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    """A byte range ``[start, start + len)`` in the bytes passed to the call that returned it."""

    start: int
    len: int

    @property
    def end(self) -> int:
        """The offset just past the range."""
        return self.start + self.len

    def of(self, data: Union[bytes, bytearray, memoryview]) -> bytes:
        """The bytes of this range in ``data`` (the bytes the call was given)."""
        return bytes(data[self.start:self.start + self.len])


@dataclass(frozen=True)
class Header:
    """One header (or trailer) field line: name and value (without surrounding whitespace) as spans."""

    name: Span
    value: Span

    def of(self, data: Union[bytes, bytearray, memoryview]) -> Tuple[bytes, bytes]:
        """``(name, value)`` as bytes, taken from ``data`` (the bytes the call was given)."""
        return self.name.of(data), self.value.of(data)


@dataclass(frozen=True)
class Limits:
    """Limits chosen by the host; exceeding one is a rejection. Defaults: the WIT's suggestions."""

    #: Most bytes a request head may take (also bounds a chunked body's trailer section). Over it: 431.
    max_head_bytes: int = 16384
    #: Most header fields in a head (and trailer fields in a trailer section). Over it: 431.
    max_headers: int = 100
    #: Longest request-target, in bytes. Over it: 414.
    max_target_length: int = 8192
    #: Longest chunk extension, in bytes. Over it: 400.
    max_chunk_extension_length: int = 1024

    def __post_init__(self) -> None:
        for name in ("max_head_bytes", "max_headers", "max_target_length", "max_chunk_extension_length"):
            _check_range("Limits", name, getattr(self, name), 32)


#: The limits the WIT suggests.
DEFAULT_LIMITS = Limits()


class RejectReason(str, Enum):
    """Why a request was refused; each maps to one status (see ``reject-reason`` in the WIT)."""

    BAD_LINE_ENDING = "bad-line-ending"
    BAD_METHOD = "bad-method"
    BAD_REQUEST_LINE = "bad-request-line"
    BAD_TARGET = "bad-target"
    FRAGMENT_IN_TARGET = "fragment-in-target"
    TARGET_TOO_LONG = "target-too-long"
    BAD_VERSION = "bad-version"
    UNSUPPORTED_VERSION = "unsupported-version"
    BAD_HEADER_NAME = "bad-header-name"
    SPACE_BEFORE_COLON = "space-before-colon"
    OBS_FOLD = "obs-fold"
    BAD_HEADER_VALUE = "bad-header-value"
    HEAD_TOO_LARGE = "head-too-large"
    TOO_MANY_HEADERS = "too-many-headers"
    MISSING_HOST = "missing-host"
    MULTIPLE_HOST = "multiple-host"
    BAD_HOST = "bad-host"
    BAD_CONTENT_LENGTH = "bad-content-length"
    CONFLICTING_CONTENT_LENGTH = "conflicting-content-length"
    BAD_TRANSFER_ENCODING = "bad-transfer-encoding"
    UNSUPPORTED_TRANSFER_CODING = "unsupported-transfer-coding"
    TRANSFER_ENCODING_IN_HTTP10 = "transfer-encoding-in-http10"
    CONTENT_LENGTH_WITH_TRANSFER_ENCODING = "content-length-with-transfer-encoding"
    UNSUPPORTED_EXPECTATION = "unsupported-expectation"
    BAD_CHUNK_SIZE = "bad-chunk-size"
    CHUNK_SIZE_OVERFLOW = "chunk-size-overflow"
    BAD_CHUNK_EXTENSION = "bad-chunk-extension"
    CHUNK_EXTENSION_TOO_LONG = "chunk-extension-too-long"
    BAD_CHUNK_TERMINATOR = "bad-chunk-terminator"


@dataclass(frozen=True)
class Rejection:
    """A refused request: why, the status to answer with (then close), and the offending byte's offset."""

    reason: RejectReason
    status: int
    offset: int


# ---- parser ----------------------------------------------------------------------------

class HttpVersion(str, Enum):
    """The HTTP version of a request (HTTP/1.2 to 1.9 are parsed as HTTP/1.1)."""

    HTTP10 = "http10"
    HTTP11 = "http11"


@dataclass(frozen=True)
class NoBody:
    """No body: neither Content-Length nor Transfer-Encoding was sent."""


@dataclass(frozen=True)
class ContentLength:
    """Exactly ``length`` body bytes follow the head (at most 2**53 - 1)."""

    length: int


@dataclass(frozen=True)
class ChunkedBody:
    """A chunked body follows the head: feed it to ``decode_chunked`` (or a ``ChunkedDecoder``)."""


#: How a request body is delimited (``body-framing`` in the WIT).
BodyFraming = Union[NoBody, ContentLength, ChunkedBody]


@dataclass(frozen=True)
class RequestHead:
    """A complete, valid request head; every span points into the bytes given to ``parse_head``."""

    #: The method token, case-sensitive as sent.
    method: Span
    #: The raw request-target as sent.
    target: Span
    #: The path part of the target (``*`` for asterisk-form, empty for authority-form).
    path: Span
    #: The query after ``?`` (without it), if the target has one.
    query: Optional[Span]
    #: The authority of an absolute-form or authority-form target; it overrides Host.
    authority: Optional[Span]
    version: HttpVersion
    #: Every field line in wire order, names in their original case.
    headers: List[Header]
    #: Bytes from the start of the input to the end of the head: the body starts here.
    head_length: int
    body: BodyFraming
    #: Whether the connection may stay open after this exchange.
    keep_alive: bool
    #: ``Expect: 100-continue`` was sent (HTTP/1.1 only).
    expect_continue: bool
    #: A non-empty Upgrade field was sent with the ``upgrade`` connection option.
    upgrade: bool


@dataclass(frozen=True)
class Incomplete:
    """The bytes are a valid prefix of a head; the head cannot end before ``search_from``."""

    search_from: int


@dataclass(frozen=True)
class Complete:
    """A whole, valid head."""

    head: RequestHead


@dataclass(frozen=True)
class Invalid:
    """Not a valid request (or chunked body): answer ``rejection.status`` and close."""

    rejection: Rejection


#: What ``parse_head`` returns.
ParseOutcome = Union[Incomplete, Complete, Invalid]


# ---- chunked ---------------------------------------------------------------------------

class ChunkedPhase(str, Enum):
    """Where the chunked decoder is in the body."""

    SIZE_LINE = "size-line"
    DATA = "data"
    DATA_END = "data-end"
    TRAILERS = "trailers"
    DONE = "done"


@dataclass(frozen=True)
class ChunkedState:
    """The decoder state: start with ``ChunkedState()`` and pass back what each call returns."""

    phase: ChunkedPhase = ChunkedPhase.SIZE_LINE
    #: Data bytes left in the current chunk.
    remaining: int = 0
    #: Bytes of trailer section consumed so far.
    trailer_bytes: int = 0
    #: Trailer fields seen so far.
    trailer_count: int = 0

    def __post_init__(self) -> None:
        _check_range("ChunkedState", "remaining", self.remaining, 64)
        _check_range("ChunkedState", "trailer_bytes", self.trailer_bytes, 32)
        _check_range("ChunkedState", "trailer_count", self.trailer_count, 32)


@dataclass(frozen=True)
class ChunkedProgress:
    """What one ``decode_chunked`` call decoded; spans point into the bytes it was given."""

    #: Bytes of the input used; pass the rest again (with more bytes after it) next time.
    consumed: int
    #: The body data, in order.
    data: List[Span]
    #: Trailer fields completed in this call (never to be merged into the head's fields).
    trailers: List[Header]
    #: The state for the next call.
    state: ChunkedState


@dataclass(frozen=True)
class Progress:
    """``decode_chunked`` made progress (possibly none: ``consumed == 0`` means more bytes are needed)."""

    progress: ChunkedProgress


#: What ``decode_chunked`` returns.
ChunkedOutcome = Union[Progress, Invalid]


# ---- framer ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """A response header (or trailer) field set by the application."""

    name: str
    value: str


@dataclass(frozen=True)
class RequestContext:
    """What the framer needs to know about the request being answered."""

    #: The request was HEAD: send the head only.
    head: bool = False
    #: The request was HTTP/1.0.
    http10: bool = False
    #: The connection closes after this response.
    close: bool = False
    #: The request was CONNECT: a 2xx opens a tunnel (no framing fields, body mode none,
    #: close False; RFC 9110 §9.3.6).
    connect: bool = False


@dataclass(frozen=True)
class ResponseHead:
    """The response to frame."""

    #: 100-999.
    status: int
    #: Fields in the order to send them.
    headers: List[Field] = field(default_factory=list)
    #: The body length when known (at most 2**53 - 1); ``None`` for a streamed body.
    #: Statuses without content (1xx, 204, 205, 304) need 0.
    body_length: Optional[int] = None
    #: Reason phrase; ``None`` for the standard one.
    reason: Optional[str] = None

    def __post_init__(self) -> None:
        _check_range("ResponseHead", "status", self.status, 16)
        if self.body_length is not None:
            _check_range("ResponseHead", "body_length", self.body_length, 64)


class BodyMode(str, Enum):
    """How the host must write the body after a framed head."""

    NONE = "none"
    CONTENT_LENGTH = "content-length"
    CHUNKED = "chunked"
    CLOSE_DELIMITED = "close-delimited"


@dataclass(frozen=True)
class FramedHead:
    """A framed response head."""

    #: Status line, fields and the empty line, ready for the wire.
    bytes: bytes
    body: BodyMode
    #: The body length for ``content-length`` mode (also what a HEAD response announces).
    content_length: int
    #: The connection must close after this response.
    close: bool


class FrameErrorReason(str, Enum):
    """Why a response could not be framed."""

    BAD_STATUS = "bad-status"
    BAD_REASON = "bad-reason"
    BAD_HEADER_NAME = "bad-header-name"
    BAD_HEADER_VALUE = "bad-header-value"
    BAD_CONTENT_LENGTH = "bad-content-length"
    BAD_TRANSFER_ENCODING = "bad-transfer-encoding"
    BODY_NOT_ALLOWED = "body-not-allowed"


@dataclass(frozen=True)
class FrameError:
    """A response the framer refused, and the index of the offending field if one is."""

    reason: FrameErrorReason
    header_index: Optional[int]


@dataclass(frozen=True)
class Framed:
    """``frame_head`` framed the response."""

    head: FramedHead


@dataclass(frozen=True)
class FrameInvalid:
    """``frame_head`` or ``last_chunk`` refused: nothing was produced."""

    error: FrameError


#: What ``frame_head`` returns.
FrameOutcome = Union[Framed, FrameInvalid]


@dataclass(frozen=True)
class TrailerBytes:
    """The last chunk, the trailer fields and the final CRLF."""

    data: bytes


#: What ``last_chunk`` returns.
TrailerOutcome = Union[TrailerBytes, FrameInvalid]
