#!/usr/bin/env python3
"""An asyncio HTTP/1.1 server on Tophat's protocol core (the Python binding).

Every response says what the server read: ``<METHOD> <path> body=<bytes>``. It keeps
connections alive, answers pipelined requests in order, reads Content-Length and chunked
bodies (answering ``Expect: 100-continue``), and answers a request the core refuses with
the core's status and ``Connection: close``. Every response head is framed by the core.

Usage: python3 examples/server.py [--host 127.0.0.1] [--port 8080] [--backend module|component]
(prints ``listening on http://HOST:PORT`` once it accepts connections; port 0 picks one).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from email.utils import formatdate
from pathlib import Path
from typing import Optional

# Run from a checkout without installing: the package is one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tophat_core import (  # noqa: E402
    ChunkedBody, ChunkedDecoder, Complete, ContentLength, Core, CoreTrap, Field, Framed, HeadReader,
    HttpVersion, Incomplete, Invalid, NoBody, RequestContext, ResponseHead,
)

READ_SIZE = 64 * 1024


class DateCache:
    """The IMF-fixdate for the Date field, formatted at most once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self, loop: asyncio.AbstractEventLoop) -> str:
        second = int(loop.time())
        if second != self._second:
            self._second, self._text = second, formatdate(usegmt=True)
        return self._text


async def respond(writer: asyncio.StreamWriter, core: Core, dates: DateCache, status: int, text: str,
                  context: RequestContext) -> bool:
    """Writes one response; returns whether the connection must close after it."""
    body = text.encode("utf-8")
    head = ResponseHead(status, [Field("Content-Type", "text/plain; charset=utf-8")], len(body))
    framed = core.frame_head(head, context, dates.now(asyncio.get_running_loop()))
    if not isinstance(framed, Framed):
        raise RuntimeError(f"the core refused our own response head: {framed.error}")
    writer.write(framed.head.bytes)
    if framed.head.body.value != "none":
        writer.write(body)
    await writer.drain()
    return framed.head.close


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, core: Core) -> None:
    dates = DateCache()
    heads = HeadReader(core)
    pending = b""  # bytes read past the previous request: the start of the next one
    try:
        while True:
            # Read one head. Bytes left from the previous request count as a first read.
            outcome = heads.feed(pending) if pending else None
            while outcome is None or isinstance(outcome, Incomplete):
                data = await reader.read(READ_SIZE)
                if not data:
                    return  # the client closed between (or in the middle of) requests
                outcome = heads.feed(data)
            if isinstance(outcome, Invalid):
                r = outcome.rejection
                await respond(writer, core, dates, r.status, f"rejected: {r.reason.value}\n", RequestContext(close=True))
                return
            assert isinstance(outcome, Complete)
            head = outcome.head
            buf = heads.buffer
            method = head.method.of(buf).decode("ascii")
            path = head.path.of(buf).decode("latin-1") or "/"
            http10 = head.version is HttpVersion.HTTP10
            rest = heads.next_head()

            if head.expect_continue and not isinstance(head.body, NoBody):
                # The client waits for this before sending the body (curl does for large uploads).
                cont = core.frame_head(ResponseHead(100, body_length=0), RequestContext())
                if isinstance(cont, Framed):
                    writer.write(cont.head.bytes)

            # Read the body, counting its bytes; what follows it is the next request.
            received = 0
            failed: Optional[Invalid] = None
            if isinstance(head.body, ContentLength):
                length = head.body.length
                received = min(len(rest), length)
                pending = rest[length:]
                while received < length:
                    data = await reader.read(min(READ_SIZE, length - received))
                    if not data:
                        return
                    received += len(data)
            elif isinstance(head.body, ChunkedBody):
                decoder = ChunkedDecoder(core)
                data = rest
                while True:
                    got = decoder.feed(data)
                    if isinstance(got, Invalid):
                        failed = got
                        break
                    received += sum(len(piece) for piece in got)
                    if decoder.done:
                        break
                    data = await reader.read(READ_SIZE)
                    if not data:
                        return
                pending = decoder.leftover
            else:
                pending = rest

            if failed is not None:
                r = failed.rejection
                await respond(writer, core, dates, r.status, f"rejected: {r.reason.value}\n", RequestContext(close=True))
                return
            context = RequestContext(head=method == "HEAD", http10=http10, close=not head.keep_alive)
            if await respond(writer, core, dates, 200, f"{method} {path} body={received}\n", context):
                return
    except ConnectionError:
        pass  # the client went away: nothing to answer
    except CoreTrap as trap:
        # The binding has already replaced the instance; only this connection is lost.
        print(f"closing a connection: {trap}", file=sys.stderr)
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--backend", choices=["module", "component"], default="module",
                        help="the core module called directly (default, fast) or the component")
    args = parser.parse_args()
    # One instance serves every connection: the core keeps no state between calls.
    core = Core(backend="component" if args.backend == "component" else "module")
    server = await asyncio.start_server(lambda r, w: serve_connection(r, w, core), args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on http://{args.host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
