// Observability: what each response really put on the wire, and a concurrency limit.
// `node examples/observability.js` (LIMIT=2 for at most two requests in handlers at once):
//   curl -s 'http://127.0.0.1:8080/download?size=10000000' -o /dev/null   # a download...
//   curl -s 'http://127.0.0.1:8080/download?size=999999999' | head -c 1000 >/dev/null   # ...one cut short
//   for i in 1 2 3; do curl -s -o /dev/null -w '%{http_code}\n' 'http://127.0.0.1:8080/slow?ms=2000' & done; wait
//   curl -s http://127.0.0.1:8080/metrics
// The use cases of hyper issue #2181: knowing when a response body was fully written (or
// that the client left first), how many bytes went out, and how long it took.
import { ClientClosedError, Glitch, serve } from "tophat";

const port = Number(process.env.PORT ?? 8080);
const limit = Number(process.env.LIMIT ?? 64);
const MAX_DOWNLOAD = 10 * 1024 * 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024).fill(120);

/**
 * A semaphore as middleware: at most `max` requests inside `next` at once. When it is
 * full the request is refused at once with 503 and Retry-After, rather than queued: a
 * server that queues without bound turns overload into latency for everybody.
 */
function limitConcurrency(max) {
  let active = 0;
  return (next) => async (req, res) => {
    if (active >= max) throw Glitch.serviceUnavailable(`busy: ${max} requests in progress`, 1);
    active++;
    try {
      return await next(req, res);
    } finally {
      active--;
    }
  };
}

/** Totals over every response, the library's own error responses included. */
const metrics = { responses: 0, bytesWritten: 0, byStatus: {}, byOutcome: {}, lastByteMs: [] };

function record(written) {
  metrics.responses++;
  metrics.bytesWritten += written.bytesWritten;
  metrics.byStatus[written.status] = (metrics.byStatus[written.status] ?? 0) + 1;
  metrics.byOutcome[written.outcome] = (metrics.byOutcome[written.outcome] ?? 0) + 1;
  metrics.lastByteMs.push(written.lastByteMs);
  if (metrics.lastByteMs.length > 10_000) metrics.lastByteMs.shift();
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function intParam(req, name, max) {
  const raw = req.query.get(name);
  const value = Number(raw);
  if (raw === null || !Number.isInteger(value) || value < 0 || value > max) {
    throw Glitch.badRequest(`${name} must be a whole number from 0 to ${max}`);
  }
  return value;
}

async function app(req, res) {
  switch (req.path) {
    case "/":
      return res.setText("try /download?size=N, /slow?ms=N and /metrics\n").send();
    case "/slow": {
      const ms = intParam(req, "ms", 10_000);
      await new Promise((resolve) => setTimeout(resolve, ms));
      return res.setText(`slept ${ms} ms\n`).send();
    }
    case "/download": {
      const size = intParam(req, "size", MAX_DOWNLOAD);
      const body = res.setHeader("Content-Type", "application/octet-stream").setHeader("Content-Length", size).stream();
      try {
        for (let sent = 0; sent < size; sent += CHUNK.length) await body.write(CHUNK.subarray(0, Math.min(CHUNK.length, size - sent)));
      } catch (error) {
        // The client left: the write rejected. end() still reports what was delivered.
        if (!(error instanceof ClientClosedError)) throw error;
      }
      const written = await body.end();
      // Here the response is really over: clean up, bill, log.
      console.log(`download of ${size} bytes: ${written.bodyBytes} body bytes sent, ${written.bytesWritten} bytes flushed, ${written.outcome}, last byte after ${written.lastByteMs.toFixed(1)} ms`);
      return written;
    }
    case "/metrics": {
      const sorted = [...metrics.lastByteMs].sort((a, b) => a - b);
      const { lastByteMs: _, ...totals } = metrics;
      return res.setJson({ ...totals, lastByteP50Ms: percentile(sorted, 50), lastByteP99Ms: percentile(sorted, 99) }).send();
    }
    default:
      throw Glitch.notFound();
  }
}

const server = await serve(limitConcurrency(limit)(app), {
  port,
  onResponse: (req, written) => {
    record(written);
    console.log(`${req?.method ?? "-"} ${req?.target ?? "-"} → ${written.status} ${written.bytesWritten}B first=${written.firstByteMs.toFixed(2)}ms last=${written.lastByteMs.toFixed(2)}ms ${written.outcome}`);
  },
});
console.log(`observability example on ${server.url}/ (at most ${limit} requests at once)`);
process.once("SIGINT", () => void server.close({ graceMs: 5_000 }));
process.once("SIGTERM", () => void server.close({ graceMs: 5_000 }));
