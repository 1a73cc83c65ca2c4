"""A trap fails only the call that caused it: CoreTrap, then a fresh instance serves.

Uses the test-only core that traps on method TRAP (dist/test/trap.core.wasm, see
guest/index.ts): as it is for the module backend, and as a component built by
make_trap_component.mjs for the component backend. The release core has no trigger; its
only other trap (an input near its memory's size) is impractical to lower through
wasmtime-py's component API, which copies a list<u8> one byte at a time.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from conftest import make_core
from tophat_core import Complete, Core, CoreTrap, Framed, HeadReader, Incomplete, ResponseHead


@pytest.fixture
def trap_core(backend: str, request: pytest.FixtureRequest) -> Core:
    """A Core of the trapping core on each backend."""
    if backend == "component":
        component: Path = request.getfixturevalue("trap_component")
        return Core(component)
    module: Path = request.getfixturevalue("trap_module")
    raw: Optional[bool] = False if backend == "module-func" else None
    return Core(module, raw_calls=raw)


def test_trap_raises_core_trap_then_the_next_call_works(trap_core: Core) -> None:
    core = trap_core
    assert isinstance(core.parse_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Complete)
    with pytest.raises(CoreTrap) as info:
        core.parse_head(b"TRAP / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert info.value.call == "parse-head"
    assert "trapped" in str(info.value)
    assert info.value.__cause__ is not None
    assert core.restarts == 1
    after = core.parse_head(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(after, Complete)
    assert after.head.target.start == 4 and after.head.target.len == 5
    # The other exports work on the new instance too.
    assert isinstance(core.frame_head(ResponseHead(204, body_length=0)), Framed)
    assert core.chunk_size_line(16) == b"10\r\n"
    # And a second trap is recovered from like the first.
    with pytest.raises(CoreTrap):
        core.parse_head(b"TRAP / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert core.restarts == 2
    assert isinstance(core.parse_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Complete)


def test_a_reader_survives_a_trap(trap_core: Core) -> None:
    core = trap_core
    reader = HeadReader(core)
    with pytest.raises(CoreTrap):
        reader.feed(b"TRAP / HTTP/1.1\r\n")  # the first read calls the core at once
    assert core.restarts == 1
    fresh = HeadReader(core)
    assert isinstance(fresh.feed(b"GET / HTTP/1.1\r\n"), Incomplete)
    assert isinstance(fresh.feed(b"Host: a\r\n\r\n"), Complete)


def test_the_release_core_has_no_trap_trigger(backend: str) -> None:
    core = make_core(backend)
    assert isinstance(core.parse_head(b"TRAP / HTTP/1.1\r\nHost: a\r\n\r\n"), Complete)
    assert core.restarts == 0
