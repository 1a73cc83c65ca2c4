"""A trap fails only the call that caused it: CoreTrap, then a fresh instance serves.

Uses a component of the test-only core that traps on method TRAP (dist/test/trap.core.wasm,
see guest/index.ts), built by make_trap_component.mjs: the release component has no
trigger, and its only other trap (an input near 128 MiB) is impractical to lower through
wasmtime-py, which copies a list<u8> one byte at a time.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tophat_core import Complete, Core, CoreTrap, Framed, HeadReader, Incomplete, ResponseHead


def test_trap_raises_core_trap_then_the_next_call_works(trap_component: Path) -> None:
    core = Core(trap_component)
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


def test_a_reader_survives_a_trap(trap_component: Path) -> None:
    core = Core(trap_component)
    reader = HeadReader(core)
    with pytest.raises(CoreTrap):
        reader.feed(b"TRAP / HTTP/1.1\r\n")  # the first read calls the core at once
    assert core.restarts == 1
    fresh = HeadReader(core)
    assert isinstance(fresh.feed(b"GET / HTTP/1.1\r\n"), Incomplete)
    assert isinstance(fresh.feed(b"Host: a\r\n\r\n"), Complete)


def test_the_release_component_has_no_trap_trigger() -> None:
    core = Core()
    assert isinstance(core.parse_head(b"TRAP / HTTP/1.1\r\nHost: a\r\n\r\n"), Complete)
    assert core.restarts == 0
