"""Every outcome of the Python binding equals the thin (JS) binding's.

The expected outcomes come from test/binding-python.test.ts, which writes them (with the
inputs) to the JSON file named by TOPHAT_PY_EXPECTED; this file computes the same calls
here and compares them in the normalized shape of test/support/normalize.ts.
"""
from __future__ import annotations

import base64
import json
import os
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import unavailable
from tophat_core import (
    ChunkedBody, ChunkedPhase, ChunkedState, ContentLength, Core, Field,
    FrameInvalid, HeadReader, Header, Incomplete, Invalid, Limits, ParseOutcome, Progress,
    RequestContext, ResponseHead, Span, TrailerBytes,
)
from tophat_core.types import ChunkedOutcome, FrameOutcome, TrailerOutcome

MAX_SAFE_INTEGER = 2**53 - 1

Json = Dict[str, Any]


@pytest.fixture(scope="module")
def expected() -> Json:
    path = os.environ.get("TOPHAT_PY_EXPECTED")
    if not path:
        unavailable(
            "corpus equivalence needs the thin binding's outcomes: run `npx vitest run "
            "test/binding-python.test.ts` from the repository root (it sets TOPHAT_PY_EXPECTED)"
        )
    with open(path, "r", encoding="utf-8") as f:
        data: Json = json.load(f)
    return data


# ---- normalizing, as test/support/normalize.ts does ------------------------------------

def u64(v: int) -> Any:
    return v if v <= MAX_SAFE_INTEGER else str(v)


def latin1(b: bytes) -> str:
    return b.decode("latin-1")


def n_span(s: Span) -> Json:
    return {"start": s.start, "len": s.len}


def n_headers(hs: List[Header]) -> List[Json]:
    return [{"name": n_span(h.name), "value": n_span(h.value)} for h in hs]


def n_parse(o: ParseOutcome) -> Json:
    if isinstance(o, Incomplete):
        return {"tag": "incomplete", "val": o.search_from}
    if isinstance(o, Invalid):
        r = o.rejection
        return {"tag": "invalid", "val": {"reason": r.reason.value, "status": r.status, "offset": r.offset}}
    h = o.head
    if isinstance(h.body, ContentLength):
        body: Json = {"tag": "content-length", "val": u64(h.body.length)}
    else:
        body = {"tag": "chunked" if isinstance(h.body, ChunkedBody) else "none"}
    return {"tag": "complete", "val": {
        "method": n_span(h.method), "target": n_span(h.target), "path": n_span(h.path),
        "query": None if h.query is None else n_span(h.query),
        "authority": None if h.authority is None else n_span(h.authority),
        "version": h.version.value, "headers": n_headers(h.headers), "headLength": h.head_length,
        "body": body, "keepAlive": h.keep_alive, "expectContinue": h.expect_continue, "upgrade": h.upgrade,
    }}


def n_chunked(o: ChunkedOutcome) -> Json:
    if isinstance(o, Invalid):
        r = o.rejection
        return {"tag": "invalid", "val": {"reason": r.reason.value, "status": r.status, "offset": r.offset}}
    p = o.progress
    s = p.state
    return {"tag": "progress", "val": {
        "consumed": p.consumed, "data": [n_span(d) for d in p.data], "trailers": n_headers(p.trailers),
        "state": {"phase": s.phase.value, "remaining": u64(s.remaining), "trailerBytes": s.trailer_bytes,
                  "trailerCount": s.trailer_count},
    }}


def n_frame(o: FrameOutcome) -> Json:
    if isinstance(o, FrameInvalid):
        return {"tag": "invalid", "val": {"reason": o.error.reason.value, "headerIndex": o.error.header_index}}
    f = o.head
    return {"tag": "head", "val": {"bytes": latin1(f.bytes), "body": f.body.value,
                                   "contentLength": u64(f.content_length), "close": f.close}}


def n_trailer(o: TrailerOutcome) -> Json:
    if isinstance(o, FrameInvalid):
        return {"tag": "invalid", "val": {"reason": o.error.reason.value, "headerIndex": o.error.header_index}}
    return {"tag": "bytes", "val": latin1(o.data)}


def limits_of(j: Json) -> Limits:
    return Limits(j["maxHeadBytes"], j["maxHeaders"], j["maxTargetLength"], j["maxChunkExtensionLength"])


def report(mismatches: List[Tuple[str, Any, Any]], total: int) -> None:
    if mismatches:
        lines = [f"{len(mismatches)} of {total} differ; first ones:"]
        for what, py, js in mismatches[:10]:
            lines.append(f"- {what}\n    python: {json.dumps(py)}\n    js:     {json.dumps(js)}")
        pytest.fail("\n".join(lines))


# ---- the comparisons -------------------------------------------------------------------

def test_parse_head_whole_inputs(expected: Json, core: Core) -> None:
    cases = expected["parse"]
    assert len(cases) > 4000
    bad = []
    for c in cases:
        got = n_parse(core.parse_head(base64.b64decode(c["input"]), limits_of(c["limits"])))
        if got != c["expected"]:
            bad.append((c["what"], got, c["expected"]))
    report(bad, len(cases))


def test_head_reader_fed_a_byte_at_a_time(expected: Json, core: Core) -> None:
    """HeadReader calls the core at the same points as the WIT's loop, with the same answers."""
    cases = expected["incremental"]
    assert cases
    bad = []
    for c in cases:
        data = base64.b64decode(c["input"])
        reader = HeadReader(core, limits_of(c["limits"]))
        calls: List[Json] = []
        for i in range(len(data)):
            before = core.parse_head_calls
            out = reader.feed(data[i:i + 1])
            if core.parse_head_calls != before:
                calls.append({"held": i + 1, "expected": n_parse(out)})
            if not isinstance(out, Incomplete):
                break
        if calls != c["calls"]:
            bad.append((c["what"], calls, c["calls"]))
    report(bad, len(cases))


def test_chunked_decode(expected: Json, core: Core) -> None:
    cases = expected["chunked"]
    assert cases
    bad = []
    for c in cases:
        body = base64.b64decode(c["body"])
        limits = limits_of(c["limits"])
        got: List[Json] = []
        if c["mode"] == "whole":
            got.append(n_chunked(core.decode_chunked(body, ChunkedState(), limits)))
        else:
            state = ChunkedState()
            held = b""
            for i in range(len(body)):
                buf = held + body[i:i + 1]
                r = core.decode_chunked(buf, state, limits)
                got.append(n_chunked(r))
                if not isinstance(r, Progress):
                    break
                state = r.progress.state
                held = buf[r.progress.consumed:]
                if state.phase is ChunkedPhase.DONE:
                    break
        if got != c["expected"]:
            bad.append((c["what"], got, c["expected"]))
    report(bad, len(cases))


def test_frame_head(expected: Json, core: Core) -> None:
    cases = expected["frames"]
    bad = []
    tags = set()
    for c in cases:
        r = c["response"]
        response = ResponseHead(r["status"], [Field(n, v) for n, v in r["headers"]], r["bodyLength"], r["reason"])
        q = c["context"]
        got = n_frame(core.frame_head(response, RequestContext(q["head"], q["http10"], q["close"], q.get("connect", False)), c["date"]))
        tags.add(got["tag"] + ":" + (got["val"]["body"] if got["tag"] == "head" else got["val"]["reason"]))
        if got != c["expected"]:
            bad.append((c["what"], got, c["expected"]))
    report(bad, len(cases))
    # The cases reach every body mode and every frame error.
    assert {"head:none", "head:content-length", "head:chunked", "head:close-delimited", "invalid:bad-status",
            "invalid:bad-reason", "invalid:bad-header-name", "invalid:bad-header-value",
            "invalid:bad-content-length", "invalid:bad-transfer-encoding", "invalid:body-not-allowed"} <= tags


def test_chunk_size_line_and_last_chunk(expected: Json, core: Core) -> None:
    bad: List[Tuple[str, Any, Any]] = []
    for c in expected["chunkSizes"]:
        got: Optional[str] = latin1(core.chunk_size_line(c["size"]))
        if got != c["expected"]:
            bad.append((f"chunk-size-line {c['size']}", got, c["expected"]))
    for c in expected["trailers"]:
        t = n_trailer(core.last_chunk([Field(n, v) for n, v in c["fields"]]))
        if t != c["expected"]:
            bad.append((f"last-chunk {c['what']}", t, c["expected"]))
    report(bad, len(expected["chunkSizes"]) + len(expected["trailers"]))
    assert isinstance(core.last_chunk(), TrailerBytes)


