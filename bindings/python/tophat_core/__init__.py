"""Tophat's HTTP/1.1 protocol core (``tophat:http@0.2.0``) for Python, over wasmtime.

The core parses request heads, decodes chunked bodies and frames responses as pure
functions over bytes; this package loads it and gives typed results. By default
:class:`Core` calls the core module (``tophat-http.core.wasm``) directly; with
``backend="component"`` it runs the component (``tophat-http.component.wasm``) through
wasmtime's component API. Where they come from (see :func:`default_module_path` and
:func:`default_component_path`): the path given to :class:`Core`, else the
``TOPHAT_CORE_MODULE`` (``TOPHAT_COMPONENT``) environment variable, else the file shipped
beside this package, else the Tophat repository's ``dist/``.
"""
from .core import (
    COMPONENT_ENV, MODULE_ENV, BackendName, Core, CoreTrap, chunk_size_line, decode_chunked,
    default_component_path, default_core, default_module_path, frame_head, last_chunk, parse_head,
)
from .reader import ChunkedDecoder, HeadReader, decode_window, may_end_head
from .types import (
    DEFAULT_LIMITS, BodyFraming, BodyMode, ChunkedBody, ChunkedOutcome, ChunkedPhase,
    ChunkedProgress, ChunkedState, Complete, ContentLength, Field, FrameError, FrameErrorReason,
    FrameInvalid, FrameOutcome, Framed, FramedHead, Header, HttpVersion, Incomplete, Invalid,
    Limits, NoBody, ParseOutcome, Progress, RejectReason, Rejection, RequestContext, RequestHead,
    ResponseHead, Span, TrailerBytes, TrailerOutcome,
)

__version__ = "0.2.0"

__all__ = [
    "COMPONENT_ENV", "MODULE_ENV", "BackendName", "Core", "CoreTrap", "chunk_size_line", "decode_chunked",
    "default_component_path", "default_core", "default_module_path", "frame_head", "last_chunk", "parse_head",
    "ChunkedDecoder", "HeadReader", "decode_window", "may_end_head",
    "DEFAULT_LIMITS", "BodyFraming", "BodyMode", "ChunkedBody", "ChunkedOutcome", "ChunkedPhase",
    "ChunkedProgress", "ChunkedState", "Complete", "ContentLength", "Field", "FrameError", "FrameErrorReason",
    "FrameInvalid", "FrameOutcome", "Framed", "FramedHead", "Header", "HttpVersion", "Incomplete", "Invalid",
    "Limits", "NoBody", "ParseOutcome", "Progress", "RejectReason", "Rejection", "RequestContext", "RequestHead",
    "ResponseHead", "Span", "TrailerBytes", "TrailerOutcome",
]
