// A small Tophat app meant to run behind a reverse proxy (examples/deploy/nginx.conf):
// `PORT=8081 node examples/deploy/upstream.js` and `PORT=8082 node examples/deploy/upstream.js`,
// then nginx in front of both (examples/deploy/README.md). Each route exercises one thing a
// proxy can get wrong: forwarded headers, large request bodies, streamed and event-stream
// responses, and slow answers during a restart.
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Glitch, Router, serve } from "tophat";

/** An integer query parameter within [min, max], or `fallback` when absent. */
function intParam(req, name, fallback, min, max) {
  const raw = req.query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw Glitch.badRequest(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

const router = new Router()
  // Who answered, and what the proxy told it about the client: the app sees nginx's
  // address as remoteAddress, so the client's own address arrives only in these headers.
  .get("/whoami", async (req, res) =>
    res
      .setJson({
        pid: process.pid,
        remoteAddress: req.remoteAddress,
        host: req.headers.get("host") ?? null,
        xForwardedFor: req.headers.get("x-forwarded-for") ?? null,
        xForwardedProto: req.headers.get("x-forwarded-proto") ?? null,
        xRealIp: req.headers.get("x-real-ip") ?? null,
      })
      .send(),
  )
  // The body's length and SHA-256, hashed as it streams in: req.body isn't capped by
  // maxBodyBytes (1 MiB by default, which req.bytes() would enforce), and nothing is held
  // in memory, so a multi-megabyte upload costs nothing but the hashing.
  .post("/echo", async (req, res) => {
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of req.body) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return res.setJson({ pid: process.pid, bytes, sha256: hash.digest("hex") }).send();
  })
  // A chunked response written in pieces with pauses between them. X-Accel-Buffering: no
  // asks nginx to pass each piece on as it comes instead of collecting the response in
  // its buffers first (nginx honours it unless proxy_ignore_headers says otherwise).
  .get("/stream", async (req, res) => {
    const pieces = intParam(req, "pieces", 5, 1, 1000);
    const size = intParam(req, "size", 32, 0, 1 << 20);
    const delayMs = intParam(req, "delayMs", 200, 0, 10_000);
    const out = res.setHeader("Content-Type", "text/plain; charset=utf-8").setHeader("X-Accel-Buffering", "no").stream();
    for (let i = 0; i < pieces; i++) {
      if (i > 0) await sleep(delayMs);
      await out.write(streamPiece(i, size));
    }
    return out.end();
  })
  // Server-sent events: `n` events `intervalMs` apart, then the stream ends. The
  // EventSource reconnects after an end, sending the last id it saw; once it has seen
  // them all it gets 204, which tells an EventSource to stop reconnecting.
  .get("/events", async (req, res) => {
    const n = intParam(req, "n", 5, 1, 1000);
    const intervalMs = intParam(req, "intervalMs", 100, 0, 60_000);
    const from = Number(req.headers.get("last-event-id") ?? 0);
    if (!Number.isInteger(from) || from >= n) return res.sendCode(204);
    const events = res.setHeader("X-Accel-Buffering", "no").sse({ retryMs: 1_000 });
    for (let i = from + 1; i <= n; i++) {
      if (i > from + 1) await sleep(intervalMs);
      if (events.signal.aborted) break; // the client left: stop producing
      await events.send({ event: "tick", id: String(i), data: JSON.stringify({ i, pid: process.pid }) });
    }
    return events.close();
  })
  // Answers after `ms` milliseconds: an in-flight request to watch during a graceful
  // stop (it is finished, not dropped), or a slow backend to try proxy timeouts on.
  .get("/slow", async (req, res) => {
    const ms = intParam(req, "ms", 1_000, 0, 60_000);
    await sleep(ms);
    return res.setJson({ pid: process.pid, sleptMs: ms }).send();
  });

/** The i-th piece /stream writes: "piece <i>\n", `size` copies of a letter, "\n" (a client can rebuild and compare). */
function streamPiece(i, size) {
  return `piece ${i}\n${String.fromCharCode(97 + (i % 26)).repeat(size)}\n`;
}

// 127.0.0.1 (serve()'s default): only the proxy on this machine should reach the app; a
// proxy on another machine needs HOST=0.0.0.0 and a firewall.
const server = await serve(router.route, {
  port: Number(process.env.PORT ?? 8081),
  host: process.env.HOST ?? "127.0.0.1",
});
console.log(`upstream ${process.pid} on ${server.url}/`);

// Graceful stop, the half of a rolling restart this process does: stop accepting (nginx's
// connect is refused and it tries the other upstream), finish the requests in flight and
// answer the next one on a recently active keep-alive connection (with Connection: close),
// close the idle ones (nginx drops them from its cache), then exit so the next process can
// bind the same port.
const stop = async (signal) => {
  console.log(`upstream ${process.pid}: ${signal}, finishing in-flight requests`);
  await server.close({ graceMs: 10_000 });
  console.log(`upstream ${process.pid}: stopped`);
  process.exit(0);
};
process.once("SIGINT", () => void stop("SIGINT"));
process.once("SIGTERM", () => void stop("SIGTERM"));
