// A complete HTTP/1.1 host loop over the protocol core alone (`tophat/core`), with no
// Tophat server around it: what a host in any language does (docs/core.md walks through
// it). It answers every request with its method, path and body length:
//
//   node examples/core/server.js   then   curl -i http://127.0.0.1:8080/hello
//
// It reads heads with the linear feeding rule, reads Content-Length and chunked bodies
// (trailers kept apart from the headers), answers `Expect: 100-continue`, declines
// upgrades by serving the request as a normal one, and keeps connections alive. What a real
// server adds (timeouts, write backpressure, handlers) is left out to keep the loop visible.
import net from "node:net";
import { Core, DEFAULT_LIMITS, initialChunkedState, mayEndHead } from "tophat/core";

const core = Core.load();
const limits = DEFAULT_LIMITS;
const latin1 = (bytes, span) => Buffer.from(bytes.buffer, bytes.byteOffset + span.start, span.len).toString("latin1");

// docs:start connection
/** One connection: the bytes not consumed yet and where reading stands. */
function serveConnection(socket) {
  let buf = Buffer.alloc(0);
  let searchFrom = 0; // from the core's last `incomplete`
  let searched = 0; // bytes of `buf` already searched for the head's end
  let request; // the request whose body is being read, if any

  socket.on("data", (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    try {
      while (socket.writable && (request ? readBody() : readHead()));
    } catch (error) {
      // A trap (CoreTrapError) fails this connection only: Core made a new instance.
      console.error(error);
      socket.destroy();
    }
  });
  socket.on("error", () => socket.destroy());

  /** Parses a head when one may be complete; true when the loop should go on. */
  function readHead() {
    if (buf.length === 0) return false;
    const firstRead = searched === 0;
    const atLimit = buf.length >= limits.maxHeadBytes;
    if (!firstRead && !atLimit && !mayEndHead(buf, Math.max(searchFrom, searched - 2))) {
      searched = buf.length;
      return false;
    }
    const out = core.parseHead(buf, limits);
    searched = buf.length;
    if (out.tag === "incomplete") {
      searchFrom = out.val;
      return false;
    }
    if (out.tag === "invalid") {
      respond({ status: out.val.status, close: true, http10: false, head: false }, `${out.val.reason}\n`);
      return false;
    }
    const head = out.val;
    request = {
      method: latin1(buf, head.method),
      path: latin1(buf, head.path),
      http10: head.version === "http10",
      keepAlive: head.keepAlive,
      body: head.body,
      received: 0,
      chunked: initialChunkedState(),
      trailers: [],
    };
    // An Upgrade request is served as a normal one: not answering 101 declines it.
    if (head.expectContinue && head.body.tag !== "none") socket.write("HTTP/1.1 100 Continue\r\n\r\n");
    buf = buf.subarray(head.headLength);
    searchFrom = searched = 0;
    return true;
  }
  // docs:end connection

  // docs:start body
  /** Reads body bytes; true when the request is answered and the loop should go on. */
  function readBody() {
    const r = request;
    if (r.body.tag === "none") return finish();
    if (r.body.tag === "content-length") {
      const take = Math.min(buf.length, r.body.val - r.received);
      r.received += take;
      buf = buf.subarray(take);
      return r.received === r.body.val ? finish() : false;
    }
    for (;;) {
      const out = core.decodeChunked(buf, r.chunked, limits);
      if (out.tag === "invalid") {
        respond({ status: out.val.status, close: true, http10: r.http10, head: false }, `${out.val.reason}\n`);
        return false;
      }
      const p = out.val;
      for (const span of p.data) r.received += span.len;
      // Trailer fields are kept apart: they never join the request's headers.
      for (let i = 0; i < p.trailers.length; i += 4) {
        r.trailers.push([latin1(buf, { start: p.trailers[i], len: p.trailers[i + 1] }), latin1(buf, { start: p.trailers[i + 2], len: p.trailers[i + 3] })]);
      }
      buf = buf.subarray(p.consumed);
      r.chunked = p.state;
      if (p.state.phase === "done") return finish();
      // Nothing consumed: the rest is a partial line; wait for more bytes.
      if (p.consumed === 0 || buf.length === 0) return false;
    }
  }

  function finish() {
    const r = request;
    request = undefined;
    const trailers = r.trailers.map(([name, value]) => ` ${name}=${value}`).join("");
    respond({ status: 200, close: !r.keepAlive, http10: r.http10, head: r.method === "HEAD" }, `${r.method} ${r.path} ${r.received}${trailers}\n`);
    return r.keepAlive;
  }
  // docs:end body

  // docs:start respond
  /** Frames and writes a response; closes the connection when the framing says so. */
  function respond(context, text) {
    const body = Buffer.from(text);
    const out = core.frameHead(
      { status: context.status, headers: [{ name: "Content-Type", value: "text/plain; charset=utf-8" }], bodyLength: body.length },
      { head: context.head, http10: context.http10, close: context.close },
      new Date().toUTCString(),
    );
    if (out.tag === "invalid") throw new Error(`the response could not be framed: ${out.val.reason}`);
    socket.write(out.val.body === "none" ? out.val.bytes : Buffer.concat([out.val.bytes, body]));
    if (out.val.close) socket.end();
  }
  // docs:end respond
}

const server = net.createServer(serveConnection);
server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  console.log(`core-only server on http://127.0.0.1:${server.address().port}/`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
process.once("SIGINT", () => server.close(() => process.exit(0)));
