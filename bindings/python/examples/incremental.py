#!/usr/bin/env python3
"""The incremental loop of the README, run by tests/test_readme.py.

Reads request heads from pieces of bytes (as a socket would deliver them) with
HeadReader, which calls the core only when a call can give a new answer, then reads the
body (Content-Length or chunked) and moves on to the next pipelined request.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

# --- README sample start ---
from tophat_core import (
    ChunkedBody, ChunkedDecoder, Complete, ContentLength, Core, HeadReader, Incomplete, Invalid,
)


def serve_pieces(pieces: Iterable[bytes]) -> List[str]:
    """What each request in `pieces` asked for, or why it was refused."""
    core = Core()  # the core module: TOPHAT_CORE_MODULE, beside the package, or the repo's dist/
    answers: List[str] = []
    reader = HeadReader(core)
    body_left = 0                   # Content-Length bytes still to skip
    chunked = None                  # a ChunkedDecoder while reading a chunked body
    for piece in pieces:
        data = piece
        while data:
            if chunked is not None:  # inside a chunked body
                got = chunked.feed(data)
                if isinstance(got, Invalid):
                    return answers + [f"{got.rejection.status} {got.rejection.reason.value}"]
                data = chunked.leftover if chunked.done else b""
                chunked = None if chunked.done else chunked
                continue
            if body_left:            # inside a Content-Length body
                used = min(body_left, len(data))
                body_left, data = body_left - used, data[used:]
                continue
            outcome = reader.feed(data)
            data = b""
            if isinstance(outcome, Incomplete):
                break                # wait for more bytes
            if isinstance(outcome, Invalid):
                r = outcome.rejection  # answer r.status, then close the connection
                return answers + [f"{r.status} {r.reason.value} at byte {r.offset}"]
            assert isinstance(outcome, Complete)
            head, buf = outcome.head, reader.buffer  # spans point into reader.buffer
            answers.append(f"{head.method.of(buf).decode()} {head.target.of(buf).decode()}")
            data = reader.next_head()  # the bytes after the head: body, then the next request
            if isinstance(head.body, ContentLength):
                body_left = head.body.length
            elif isinstance(head.body, ChunkedBody):
                chunked = ChunkedDecoder(core)
    return answers
# --- README sample end ---


if __name__ == "__main__":
    wire = (b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            b"PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            b"GET /d HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
    for answer in serve_pieces(wire[i:i + 7] for i in range(0, len(wire), 7)):
        print(answer)
