// Resource exhaustion: huge heads, too many headers, long targets, endless bodies and
// endless header streams are refused with the right status, and the server reads (and
// keeps) only a bounded amount meanwhile.
import { describe, expect, it } from "vitest";
import { type Handler, type ResponseWritten } from "../host/index.js";
import { acceptServers, pushUntilAnswered, RawClient, sleep, type AcceptServer } from "./support/limits-client.js";

const KiB = 1024;
const MiB = 1024 * KiB;

const start = acceptServers();

const hello: Handler = (req, res) => res.setText(`hello ${req.path}`).send();

/** Sends `request`, expects one response with `status`, then the server closing. */
async function expectRefused(port: number, request: string, status: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.write(request).catch(() => undefined);
  const res = await c.response(5000);
  expect(res.status).toBe(status);
  expect(res.headers.connection).toBe("close");
  await c.closed(5000);
  return c;
}

describe("limits on the head", () => {
  it("a head larger than maxHeadBytes (default 16 KiB) gets 431", async () => {
    const s = await start(hello);
    await expectRefused(s.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20 * KiB)}\r\n\r\n`, 431);
    const summary = await s.summary(0);
    expect(summary.requests).toBe(0);
  });

  it("a head just under maxHeadBytes is served", async () => {
    const s = await start(hello, { maxHeadBytes: 4 * KiB });
    const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: `;
    const pad = 4 * KiB - head.length - 4;
    const c = await RawClient.connect(s.port);
    await c.write(`${head}${"a".repeat(pad)}\r\n\r\n`);
    expect((await c.response()).status).toBe(200);
    c.destroy();
  });

  it("a custom maxHeadBytes is honoured", async () => {
    const s = await start(hello, { maxHeadBytes: 1024 });
    await expectRefused(s.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(1100)}\r\n\r\n`, 431);
  });

  it("more than maxHeaders (default 100) fields get 431", async () => {
    const s = await start(hello);
    const fields = Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join("");
    await expectRefused(s.port, `GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`, 431);
  });

  it("exactly maxHeaders fields are served", async () => {
    const s = await start(hello, { maxHeaders: 20 });
    const fields = Array.from({ length: 19 }, (_, i) => `X-${i}: v\r\n`).join("");
    const c = await RawClient.connect(s.port);
    await c.write(`GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`);
    expect((await c.response()).status).toBe(200);
    c.destroy();
  });

  it("a request-target longer than maxTargetLength (default 8 KiB) gets 414", async () => {
    const s = await start(hello);
    await expectRefused(s.port, `GET /${"a".repeat(9 * KiB)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414);
  });

  it("a custom maxTargetLength is honoured", async () => {
    const s = await start(hello, { maxTargetLength: 100 });
    await expectRefused(s.port, `GET /${"a".repeat(150)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414);
    const c = await RawClient.connect(s.port);
    await c.write(`GET /${"a".repeat(50)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect((await c.response()).status).toBe(200);
    c.destroy();
  });

  it("a request line that never ends (no LF) gets 414 or 431 once it passes the limits, not a hang", async () => {
    const s = await start(hello, { headersTimeoutMs: 10_000 });
    const c = await RawClient.connect(s.port);
    const t0 = performance.now();
    await c.write("GET /");
    await pushUntilAnswered(c, "a".repeat(4 * KiB), 4 * MiB);
    const res = await c.response(5000);
    expect([414, 431]).toContain(res.status);
    expect(performance.now() - t0).toBeLessThan(3000);
    c.destroy();
  });

  it("an endless header stream gets 431 and the server stops there (bytes read stay bounded)", async () => {
    // maxHeaders at its ceiling so the byte limit is the one that trips.
    const s = await start(hello, { maxHeaders: 10_000 });
    const c = await RawClient.connect(s.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n");
    const t0 = performance.now();
    await pushUntilAnswered(c, "X-Endless: 0123456789abcdef\r\n".repeat(64), 64 * MiB);
    const res = await c.response(5000);
    expect(res.status).toBe(431);
    expect(performance.now() - t0).toBeLessThan(3000);
    c.destroy();
    const summary = await s.summary(0);
    // What the client managed to send before it saw the answer is far beyond the limit;
    // what the server read before answering is near it (plus whatever arrived while lingering).
    expect(summary.requests).toBe(0);
    expect(summary.bytesRead).toBeLessThan(8 * MiB);
  });

  it("an oversized head pipelined behind a good request: the first is answered, the second gets 431, then close", async () => {
    const s = await start(hello);
    const c = await RawClient.connect(s.port);
    await c.write(`GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20 * KiB)}\r\n\r\n`);
    const first = await c.response(3000);
    expect(first.status).toBe(200);
    const second = await c.response(3000);
    expect(second.status).toBe(431);
    await c.closed(3000);
  });

  it("an endless header stream with default limits gets 431 (too many fields)", async () => {
    const s = await start(hello);
    const c = await RawClient.connect(s.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n");
    await pushUntilAnswered(c, "X-A: b\r\n", 8000);
    expect((await c.response(5000)).status).toBe(431);
    c.destroy();
  });
});

describe("endless bodies", () => {
  it("an endless chunked body read with req.bytes() gets 413 at maxBodyBytes; the server doesn't keep reading it", async () => {
    const reported: ResponseWritten[] = [];
    let handlerError: unknown;
    const s = await start(
      async (req, res) => {
        try {
          await req.bytes();
        } catch (error) {
          handlerError = error;
          throw error;
        }
        return res.setText("unreachable").send();
      },
      { maxBodyBytes: 256 * KiB, maxDrainBytes: 64 * KiB, onResponse: (_req, w) => reported.push(w) },
    );
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    // The client keeps sending until it sees an answer (or up to 256 MiB).
    const sent = await pushUntilAnswered(c, `4000\r\n${"z".repeat(0x4000)}\r\n`, 256 * MiB);
    const res = await c.response(5000);
    expect(res.status).toBe(413);
    expect((handlerError as { status?: number }).status).toBe(413);
    expect(reported[0]?.status).toBe(413);
    // The connection can't be reused: the rest of the body is unread.
    await c.closed(5000);
    const summary = await s.summary(0);
    console.log(`[limits] endless chunked body: client sent ${(sent / MiB).toFixed(1)} MiB before the 413, server read ${(summary.bytesRead / MiB).toFixed(2)} MiB in all`);
    expect(summary.bytesRead).toBeLessThan(8 * MiB);
  });

  it("a Content-Length above maxBodyBytes + maxDrainBytes gets 413 with Connection: close, and the connection closes at once", async () => {
    // The body can never be drained (10 GiB > maxDrainBytes), so there is nothing to wait for:
    // waiting bodyTimeoutMs for body bytes that the server will discard anyway only holds the socket.
    const s = await start(async (req, res) => res.setText(`${(await req.bytes()).length}`).send(), { maxBodyBytes: 1024, bodyTimeoutMs: 3000 });
    const c = await RawClient.connect(s.port);
    await c.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${10 * 1024 * 1024 * 1024}\r\n\r\n`);
    const res = await c.response(5000);
    expect(res.status).toBe(413);
    const t0 = performance.now();
    await c.closed(5000);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(res.headers.connection).toBe("close");
  });

  it("an endless chunked body that the handler streams (req.body) is read only as fast as the handler reads", async () => {
    let consumed = 0;
    const s = await start(async (req, res) => {
      for await (const chunk of req.body) {
        consumed += chunk.length;
        if (consumed > 1 * MiB) break;
        await sleep(1);
      }
      return res.setText(`stopped at ${consumed}`).send();
    });
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    await pushUntilAnswered(c, `4000\r\n${"y".repeat(0x4000)}\r\n`, 256 * MiB);
    const res = await c.response(5000);
    expect(res.status).toBe(200);
    c.destroy();
    const summary = await s.summary(0);
    expect(summary.bytesRead).toBeLessThan(16 * MiB);
  });

  // Endless pieces of chunked framing: each is refused at its limit, never buffered whole.
  const framing: [string, string, string, number][] = [
    ["an endless chunk extension", "5;ext=", "a".repeat(1024), 400],
    ["an endless chunk-size line", "", "0".repeat(1024), 400],
    ["endless trailer fields", "5\r\nhello\r\n0\r\n", "X-T: 0123456789abcdef\r\n".repeat(40), 431],
    ["one endless trailer line", "5\r\nhello\r\n0\r\nX-T: ", "a".repeat(1024), 431],
  ];
  for (const [name, start, piece, status] of framing) {
    it(`${name} in a chunked body gets ${status}`, async () => {
      const s = await start2();
      const c = await RawClient.connect(s.port);
      await c.write(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${start}`);
      await pushUntilAnswered(c, piece, 64 * MiB);
      const res = await c.response(5000);
      expect(res.status).toBe(status);
      await c.closed(5000);
      expect((await s.summary(0)).bytesRead).toBeLessThan(16 * MiB);
    });
  }

  function start2(): Promise<AcceptServer> {
    return start(async (req, res) => res.setText(`${(await req.bytes()).length}`).send());
  }
});
