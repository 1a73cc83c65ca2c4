"""Per-call cost of parse_head through the Python binding, on each of its backends (the core
module called directly, the default; the same through wasmtime.Func, its fallback; the
component through wasmtime's component API), and of Python's own head parsing
(http.client.parse_headers over the request line split by hand, as http.server does), on
the request heads in the files named on the command line. Prints one JSON line per
request and parser. Run by bench/core-bindings.js; a benchmark, not a test."""
import functools
import http.client
import io
import json
import statistics
import sys
import time
from typing import Callable, List, Tuple

from tophat_core import Complete, Core, DEFAULT_LIMITS


def python_http(data: bytes) -> int:
    """What http.server does with a head: split the request line, parse the fields."""
    fp = io.BytesIO(data)
    method, target, version = fp.readline().split(b" ", 2)
    headers = http.client.parse_headers(fp)
    return len(method) + len(headers)


Parser = Callable[[bytes], object]

ROUNDS = 5


def iterations(fn: Parser, data: bytes) -> int:
    """How many calls take about 300 ms."""
    n = 10
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn(data)
        dt = time.perf_counter_ns() - t0
        if dt > 30_000_000:
            return max(1, int(n * 300_000_000 / dt))
        n *= 4


def once(fn: Parser, data: bytes, n: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn(data)
    return (time.perf_counter_ns() - t0) / n


def main() -> None:
    cores = {
        "Python binding, core module (default)": Core(backend="module"),
        "Python binding, core module via wasmtime.Func": Core(backend="module", raw_calls=False),
        "Python binding, component API": Core(backend="component"),
    }
    for name in sys.argv[1:]:
        with open(name, "rb") as f:
            data = f.read()
        for label, core in cores.items():
            if not isinstance(core.parse_head(data, DEFAULT_LIMITS), Complete):
                raise SystemExit(f"{name}: not a complete head for {label}")
        # Each timed function is one call, as the binding's users make it.
        parsers: List[Tuple[str, Parser]] = [
            (label, functools.partial(core.parse_head, limits=DEFAULT_LIMITS)) for label, core in cores.items()
        ]
        parsers.append(("http.client.parse_headers", python_http))
        counts = [iterations(fn, data) for _, fn in parsers]
        # Rounds interleave the parsers, so that a change in the machine's load (it is
        # shared) falls on all of them rather than on whichever ran then.
        samples: List[List[float]] = [[] for _ in parsers]
        for _ in range(ROUNDS):
            for (_, fn), n, into in zip(parsers, counts, samples):
                into.append(once(fn, data, n))
        for (parser, _), got in zip(parsers, samples):
            print(json.dumps({"file": name, "parser": parser, "ns": statistics.median(got)}), flush=True)


if __name__ == "__main__":
    main()
