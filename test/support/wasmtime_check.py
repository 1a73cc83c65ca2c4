#!/usr/bin/env python3
"""Runs Tophat's protocol core component in wasmtime, with nothing linked.

Usage: wasmtime_check.py COMPONENT.wasm CASES.json

CASES.json is either a list of base64 request heads, or an object:

    {
      "requests":    ["<base64>", ...],                       # parser.parse-head, default limits
      "frames":      [{"status": 200, "reason": null,          # framer.frame-head
                       "headers": [["Name", "value"], ...],
                       "bodyLength": 5 | null,
                       "context": {"head": false, "http10": false, "close": false},
                       "date": "..." | null}, ...],
      "chunkSizes":  [0, 15, ...],                            # framer.chunk-size-line
      "trailers":    [[["Name", "value"], ...], ...]          # framer.last-chunk
    }

Prints one JSON object to stdout: {"wasmtime": VERSION, "imports": [...], "parse": [...],
"frames": [...], "chunkSizeLines": [...], "lastChunks": [...]}, each result normalised to
the shapes of the TypeScript thin binding (spans as [start, len], headers as a flat list of
four numbers per field, byte strings as base64). Exits non-zero (with a traceback on
stderr) on any failure, including a component that needs an import.
"""
import base64
import importlib.metadata
import json
import sys
from typing import Any, Dict, List, Optional

import wasmtime
from wasmtime.component import Component, Linker, Record, Variant

PARSER = "tophat:http/parser@0.2.0"
FRAMER = "tophat:http/framer@0.2.0"

DEFAULT_LIMITS = {
    "max-head-bytes": 16384,
    "max-headers": 100,
    "max-target-length": 8192,
    "max-chunk-extension-length": 1024,
}


def record(fields: Dict[str, Any]) -> Record:
    """A component-model record; WIT field names are kebab-case attributes."""
    r = Record()
    for name, value in fields.items():
        setattr(r, name, value)
    return r


def tagged(value: Any, cases: Dict[type, str]) -> "tuple[str, Any]":
    """(tag, payload) of a lifted variant, whether wasmtime tagged it or not.

    wasmtime-py lifts a variant to a `Variant(tag, payload)` when two cases share a Python
    class, and to the bare payload otherwise (e.g. `bytes` or `Record` for trailer-outcome).
    """
    if isinstance(value, Variant):
        return value.tag, value.payload
    for cls, tag in cases.items():
        if isinstance(value, cls):
            return tag, value
    raise TypeError(f"cannot tell the case of {value!r}")


def get(r: Record, name: str) -> Any:
    return getattr(r, name)


def span(s: Optional[Record]) -> Optional[List[int]]:
    if s is None:
        return None
    return [get(s, "start"), get(s, "len")]


def lift_parse(out: Any) -> Dict[str, Any]:
    tag, p = tagged(out, {})
    if tag == "incomplete":
        return {"tag": "incomplete", "search_from": p}
    if tag == "invalid":
        return {"tag": "invalid", "reason": get(p, "reason"), "status": get(p, "status"), "offset": get(p, "offset")}
    assert tag == "complete", tag
    headers: List[int] = []
    for h in get(p, "headers"):
        headers += span(get(h, "name")) or []
        headers += span(get(h, "value")) or []
    body_tag, body_val = tagged(get(p, "body"), {})
    body: Dict[str, Any] = {"tag": body_tag}
    if body_tag == "content-length":
        body["val"] = body_val
    return {
        "tag": "complete",
        "method": span(get(p, "method")),
        "target": span(get(p, "target")),
        "path": span(get(p, "path")),
        "query": span(get(p, "query")),
        "authority": span(get(p, "authority")),
        "version": get(p, "version"),
        "headers": headers,
        "headLength": get(p, "head-length"),
        "body": body,
        "keepAlive": get(p, "keep-alive"),
        "expectContinue": get(p, "expect-continue"),
        "upgrade": get(p, "upgrade"),
    }


def lift_frame_error(p: Record) -> Dict[str, Any]:
    return {"tag": "invalid", "reason": get(p, "reason"), "headerIndex": get(p, "header-index")}


def fields(pairs: List[List[str]]) -> List[Record]:
    return [record({"name": n, "value": v}) for n, v in pairs]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    component_path, cases_path = sys.argv[1], sys.argv[2]
    with open(cases_path, "r", encoding="utf-8") as f:
        cases = json.load(f)
    if isinstance(cases, list):
        cases = {"requests": cases}

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    component = Component.from_file(engine, component_path)
    imports = sorted(component.type.imports(engine).keys())
    # An empty linker: instantiation fails if the component imports anything at all.
    instance = Linker(engine).instantiate(store, component)

    def func(interface: str, name: str) -> Any:
        iface = instance.get_export_index(store, interface)
        if iface is None:
            raise LookupError(f"the component does not export {interface}")
        index = instance.get_export_index(store, name, iface)
        if index is None:
            raise LookupError(f"{interface} has no export {name}")
        fn = instance.get_func(store, index)
        if fn is None:
            raise LookupError(f"{interface}#{name} is not a function")
        return fn

    def call(fn: Any, *args: Any) -> Any:
        out = fn(store, *args)
        fn.post_return(store)
        return out

    result: Dict[str, Any] = {"wasmtime": importlib.metadata.version("wasmtime"), "imports": imports}

    parse_head = func(PARSER, "parse-head")
    limits = record(DEFAULT_LIMITS)
    result["parse"] = [lift_parse(call(parse_head, base64.b64decode(b64), limits)) for b64 in cases.get("requests", [])]

    frame_head = func(FRAMER, "frame-head")
    frames = []
    for c in cases.get("frames", []):
        response = record({
            "status": c["status"],
            "reason": c.get("reason"),
            "headers": fields(c.get("headers", [])),
            "body-length": c.get("bodyLength"),
        })
        ctx = c.get("context", {})
        request = record({"head": bool(ctx.get("head")), "http10": bool(ctx.get("http10")), "close": bool(ctx.get("close")), "connect": bool(ctx.get("connect"))})
        tag, p = tagged(call(frame_head, response, request, c.get("date")), {})
        if tag == "head":
            frames.append({
                "tag": "head",
                "bytes": base64.b64encode(get(p, "bytes")).decode("ascii"),
                "body": get(p, "body"),
                "contentLength": get(p, "content-length"),
                "close": get(p, "close"),
            })
        else:
            frames.append(lift_frame_error(p))
    result["frames"] = frames

    chunk_size_line = func(FRAMER, "chunk-size-line")
    result["chunkSizeLines"] = [
        base64.b64encode(call(chunk_size_line, n)).decode("ascii") for n in cases.get("chunkSizes", [])
    ]

    last_chunk = func(FRAMER, "last-chunk")
    lasts = []
    for t in cases.get("trailers", []):
        tag, p = tagged(call(last_chunk, fields(t)), {bytes: "bytes", Record: "invalid"})
        if tag == "bytes":
            lasts.append({"tag": "bytes", "bytes": base64.b64encode(p).decode("ascii")})
        else:
            lasts.append(lift_frame_error(p))
    result["lastChunks"] = lasts

    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
