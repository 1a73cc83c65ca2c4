// Every timeout, with small values, over raw sockets. Margins are generous: a 200 ms
// timeout must fire between 150 ms and 2 s after the moment it counts from.
import { describe, expect, it, vi } from "vitest";
import { resolveOptions } from "../host/connection/options.js";
import { Core } from "../host/core.js";
import { Glitch, type Handler, type ResponseWritten } from "../host/index.js";
import { acceptServers, RawClient, sleep, until } from "./support/limits-client.js";

const T = 200;
const LOW = 150;
const HIGH = 2000;

const hello: Handler = (req, res) => res.setText(`hello ${req.path}`).send();

const start = acceptServers();

describe("defaults", () => {
  it("are the documented ones", () => {
    const o = resolveOptions({});
    expect(o.headersTimeoutMs).toBe(30_000);
    expect(o.requestTimeoutMs).toBe(300_000);
    expect(o.keepAliveTimeoutMs).toBe(5_000);
    expect(o.bodyTimeoutMs).toBe(30_000);
    expect(o.writeTimeoutMs).toBe(30_000);
  });

  it("reject nonsense values", () => {
    expect(() => resolveOptions({ headersTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => resolveOptions({ writeTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => resolveOptions({ keepAliveTimeoutMs: Number.NaN })).toThrow(RangeError);
  });
});

describe("headersTimeoutMs", () => {
  it("a head that stops halfway gets 408 and the connection closes", async () => {
    const s = await start(hello, { headersTimeoutMs: T });
    const c = await RawClient.connect(s.port);
    const t0 = performance.now();
    await c.write("GET /slow HTTP/1.1\r\nHost: a\r\n");
    const res = await c.response(5000);
    const at = c.lastDataAt - t0;
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe("close");
    expect(at).toBeGreaterThan(LOW);
    expect(at).toBeLessThan(HIGH);
    await c.closed();
    const summary = await s.summary(0);
    expect(summary.closedBy).toBe("timeout");
    expect(summary.requests).toBe(0);
  });

  it("slowloris: a head trickled one byte at a time gets 408 at headersTimeoutMs, and the server stays idle meanwhile", async () => {
    const core = Core.load();
    const parse = vi.spyOn(core, "parseHead");
    const s = await start(hello, { headersTimeoutMs: 300, core });
    const c = await RawClient.connect(s.port);
    const head = `GET / HTTP/1.1\r\nHost: a\r\n${"X-Pad: 0123456789\r\n".repeat(50)}\r\n`;
    const t0 = performance.now();
    let sent = 0;
    // One byte every 5 ms: the whole head would take ~5 s.
    const trickle = (async () => {
      while (sent < head.length && !c.gone) {
        await c.write(head[sent]!).catch(() => undefined);
        sent++;
        await sleep(5);
      }
    })();
    // Meanwhile another client is served promptly.
    const other = await RawClient.connect(s.port);
    await other.write("GET /other HTTP/1.1\r\nHost: a\r\n\r\n");
    const otherRes = await other.response(1000);
    expect(otherRes.status).toBe(200);
    other.destroy();

    const res = await c.response(5000);
    const at = c.lastDataAt - t0;
    expect(res.status).toBe(408);
    expect(at).toBeGreaterThan(250);
    expect(at).toBeLessThan(HIGH);
    await c.closed();
    await trickle;
    expect(sent).toBeLessThan(head.length);
    // The head is re-parsed only when a line may have ended, not for every byte.
    const lines = head.slice(0, sent).split("\n").length;
    expect(parse.mock.calls.length).toBeLessThanOrEqual(lines + 4);
  });

  it("a connection that sends nothing is closed quietly at headersTimeoutMs", async () => {
    const s = await start(hello, { headersTimeoutMs: T, keepAliveTimeoutMs: 60_000 });
    const t0 = performance.now();
    const c = await RawClient.connect(s.port);
    const at = (await c.closed(5000)) - t0;
    expect(at).toBeGreaterThan(LOW);
    expect(at).toBeLessThan(HIGH);
    expect(c.received.length).toBe(0);
    expect((await s.summary(0)).closedBy).toBe("timeout");
  });

  it("a later request's head on a keep-alive connection gets 408 headersTimeoutMs after its first byte", async () => {
    const s = await start(hello, { headersTimeoutMs: T, keepAliveTimeoutMs: 5000 });
    const c = await RawClient.connect(s.port);
    await c.write("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
    expect((await c.response()).status).toBe(200);
    // Idle longer than headersTimeoutMs: only keepAliveTimeoutMs applies between requests.
    await sleep(T * 2);
    expect(c.gone).toBe(false);
    const t0 = performance.now();
    await c.write("GET /2 HTTP/1.1\r\n");
    const res = await c.response();
    expect(res.status).toBe(408);
    const at = c.lastDataAt - t0;
    expect(at).toBeGreaterThan(LOW);
    expect(at).toBeLessThan(HIGH);
    await c.closed();
    const summary = await s.summary(0);
    expect(summary.requests).toBe(1);
    expect(summary.closedBy).toBe("timeout");
  });
});

describe("requestTimeoutMs", () => {
  it("a body trickled steadily (never idle past bodyTimeoutMs) gets 408 once the whole request took too long", async () => {
    const s = await start((req, res) => req.bytes().then((b) => res.setText(`got ${b.length}`).send()), {
      requestTimeoutMs: 400,
      bodyTimeoutMs: 5000,
    });
    const c = await RawClient.connect(s.port);
    const t0 = performance.now();
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
    const trickle = (async () => {
      for (let i = 0; i < 1000 && !c.gone && c.received.length === 0; i++) {
        await c.write("x").catch(() => undefined);
        await sleep(20);
      }
    })();
    const res = await c.response(5000);
    const at = c.lastDataAt - t0;
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe("close");
    expect(at).toBeGreaterThan(300);
    expect(at).toBeLessThan(HIGH);
    await c.closed();
    await trickle;
    expect((await s.summary(0)).closedBy).toBe("timeout");
  });

  it("covers the head too: a head trickled for longer than requestTimeoutMs (but within headersTimeoutMs) gets 408", async () => {
    // The option says "Time for a whole request (head and body) to arrive".
    const s = await start(hello, { requestTimeoutMs: 300, headersTimeoutMs: 10_000 });
    const c = await RawClient.connect(s.port);
    const t0 = performance.now();
    const lines = ["GET / HTTP/1.1\r\n", "Host: a\r\n", ...Array.from({ length: 10 }, (_, i) => `X-${i}: v\r\n`)];
    for (const line of lines) {
      if (c.received.length > 0) break;
      await c.write(line);
      await sleep(80);
    }
    // ~960 ms into the request: the whole-request deadline (300 ms) has long passed.
    if (!c.gone) await c.write("\r\n").catch(() => undefined);
    const res = await c.response(5000);
    expect(res.status).toBe(408);
    expect(c.lastDataAt - t0).toBeLessThan(HIGH);
  });
});

describe("keepAliveTimeoutMs", () => {
  it("an idle keep-alive connection is closed quietly (no bytes) keepAliveTimeoutMs after the response", async () => {
    const s = await start(hello, { keepAliveTimeoutMs: T });
    const c = await RawClient.connect(s.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.headers.connection).not.toBe("close");
    const t0 = c.lastDataAt;
    const at = (await c.closed(5000)) - t0;
    expect(at).toBeGreaterThan(LOW);
    expect(at).toBeLessThan(HIGH);
    expect(c.unread.length).toBe(0);
    const summary = await s.summary(0);
    expect(summary.closedBy).toBe("timeout");
    expect(summary.requests).toBe(1);
  });

  it("a request arriving before the timeout keeps the connection open", async () => {
    const s = await start(hello, { keepAliveTimeoutMs: 1000 });
    const c = await RawClient.connect(s.port);
    for (let i = 0; i < 4; i++) {
      await c.write(`GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
      expect((await c.response()).status).toBe(200);
      await sleep(150);
    }
    expect(c.gone).toBe(false);
    c.destroy();
    expect((await s.summary(0)).requests).toBe(4);
  });
});

describe("bodyTimeoutMs", () => {
  it("a body that stalls gets 408 and the connection closes", async () => {
    let caught: unknown;
    const s = await start(
      async (req, res) => {
        try {
          await req.bytes();
        } catch (error) {
          caught = error;
          throw error;
        }
        return res.setText("unreachable").send();
      },
      { bodyTimeoutMs: T },
    );
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789");
    const t0 = performance.now();
    const res = await c.response();
    const at = c.lastDataAt - t0;
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe("close");
    expect(at).toBeGreaterThan(LOW);
    expect(at).toBeLessThan(HIGH);
    expect(caught).toBeInstanceOf(Glitch);
    expect((caught as Glitch).status).toBe(408);
    await c.closed();
    expect((await s.summary(0)).closedBy).toBe("timeout");
  });

  it("a chunked body whose pieces keep coming within bodyTimeoutMs is read to its end", async () => {
    const s = await start((req, res) => req.text().then((t) => res.setText(`got ${t}`).send()), { bodyTimeoutMs: 1000 });
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (let i = 0; i < 6; i++) {
      await c.write(`1\r\n${i}\r\n`);
      await sleep(100);
    }
    await c.write("0\r\n\r\n");
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("got 012345");
    c.destroy();
  });

  it("a handler streaming a body iterator sees the 408 as an Glitch and the client gets 408", async () => {
    const s = await start(
      async (req, res) => {
        let n = 0;
        for await (const chunk of req.body) n += chunk.length;
        return res.setText(`got ${n}`).send();
      },
      { bodyTimeoutMs: T },
    );
    const c = await RawClient.connect(s.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    const res = await c.response();
    expect(res.status).toBe(408);
    await c.closed();
  });
});

describe("writeTimeoutMs", () => {
  it("a client that stops reading is cut off writeTimeoutMs after the writes stall; the ResponseWritten says client-closed", async () => {
    const seen: ResponseWritten[] = [];
    let handlerResult: ResponseWritten | undefined;
    let lastWriteResolvedAt = 0;
    let doneAt = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        yield chunk;
        lastWriteResolvedAt = performance.now();
      }
    }
    const s = await start(
      async (_req, res) => {
        handlerResult = await res.setBody(endless()).send();
        doneAt = performance.now();
        return handlerResult;
      },
      { writeTimeoutMs: T, onResponse: (_req, w) => seen.push(w) },
    );
    const c = await RawClient.connect(s.port);
    c.socket.pause();
    await c.write("GET /endless HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(() => handlerResult !== undefined, 10_000, "the handler to finish");
    // The last write that went through was writeTimeoutMs before the cut.
    const stalledFor = doneAt - lastWriteResolvedAt;
    expect(stalledFor).toBeGreaterThan(LOW);
    expect(stalledFor).toBeLessThan(HIGH);
    expect(handlerResult!.outcome).toBe("client-closed");
    expect(seen.map((w) => w.outcome)).toEqual(["client-closed"]);
    const summary = await s.summary(0);
    expect(summary.closedBy).toBe("timeout");
    c.destroy();
  });
});
