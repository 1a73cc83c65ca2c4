// Graceful shutdown: server.close({ graceMs }) stops accepting, closes idle keep-alive
// connections at once, lets in-flight requests finish (with Connection: close) and
// force-closes what is left after the grace period.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { serve, type Handler } from "../host/index.js";
import { RawClient, sleep, until, within } from "./support/limits-client.js";

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}

describe("server.close({ graceMs })", () => {
  it("under load: idle keep-alive closes at once, 20 slow in-flight requests finish with Connection: close, new connections are refused", async () => {
    let started = 0;
    let finished = 0;
    const handler: Handler = async (req, res) => {
      if (req.path === "/quick") return res.setText("quick").send();
      started++;
      await sleep(800);
      const w = await res.setText(`slow ${req.path}`).send();
      finished++;
      return w;
    };
    const server = await serve(handler);

    // An idle keep-alive connection (answered once), and one that never sent anything.
    const idle = await RawClient.connect(server.port);
    await idle.write("GET /quick HTTP/1.1\r\nHost: a\r\n\r\n");
    const first = await idle.response();
    expect(first.headers.connection).not.toBe("close");
    const silent = await RawClient.connect(server.port);

    const busy = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(server.port)));
    await Promise.all(busy.map((c, i) => c.write(`GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`)));
    await until(() => started === 20, 5000, "all 20 handlers to start");

    const t0 = performance.now();
    const closing = server.close({ graceMs: 5000 });
    let closedAt = 0;
    void closing.then(() => (closedAt = performance.now()));

    // Idle connections go at once, quietly.
    await idle.closed(1000);
    await silent.closed(1000);
    // Before any in-flight handler (800 ms) could have finished.
    expect((idle.endedAt ?? idle.closedAt)! - t0).toBeLessThan(600);
    expect(finished).toBe(0);
    expect(idle.unread.length).toBe(0);
    expect(silent.received.length).toBe(0);
    // No new connections.
    expect(await refused(server.port)).toBe(true);

    // In-flight requests finish, each told the connection closes.
    const responses = await Promise.all(busy.map((c) => c.response(5000)));
    responses.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(`slow /${i}`);
      expect(r.headers.connection).toBe("close");
    });
    await Promise.all(busy.map((c) => c.closed(3000)));
    await within(closing, 3000, "close() to resolve");
    expect(finished).toBe(20);
    // Well before the grace period ran out.
    expect(closedAt - t0).toBeLessThan(3000);
  });

  it("force-closes what is still running after graceMs; the handlers' req.signal fires", async () => {
    let started = 0;
    let aborted = 0;
    const server = await serve(async (req, res) => {
      started++;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 10_000);
        req.signal.addEventListener("abort", () => {
          aborted++;
          clearTimeout(t);
          resolve();
        });
      });
      return res.setText("too late").send();
    });
    const clients = await Promise.all(Array.from({ length: 5 }, () => RawClient.connect(server.port)));
    await Promise.all(clients.map((c) => c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
    await until(() => started === 5, 5000, "the handlers to start");
    const t0 = performance.now();
    await within(server.close({ graceMs: 300 }), 5000, "close() to resolve");
    const took = performance.now() - t0;
    expect(took).toBeGreaterThan(250);
    expect(took).toBeLessThan(2000);
    await Promise.all(clients.map((c) => c.closed(2000)));
    for (const c of clients) expect(c.received.toString()).not.toContain("200");
    await until(() => aborted === 5, 2000, "every req.signal to fire");
  });

  it("a connection in the middle of sending its head is let finish, and told to close", async () => {
    const server = await serve((req, res) => res.setText(`hi ${req.path}`).send());
    const c = await RawClient.connect(server.port);
    await c.write("GET /partial HTTP/1.1\r\nHost: a\r\n");
    await sleep(50);
    const closing = server.close({ graceMs: 3000 });
    await sleep(100);
    expect(c.gone).toBe(false);
    await c.write("\r\n");
    const res = await c.response();
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe("close");
    await c.closed();
    await within(closing, 3000, "close() to resolve");
  });

  it("a keep-alive connection that just got its answer closes at once rather than waiting for keepAliveTimeoutMs", async () => {
    const server = await serve((_req, res) => res.setText("x").send(), { keepAliveTimeoutMs: 60_000 });
    const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(server.port)));
    for (const c of clients) {
      await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      await c.response();
    }
    const t0 = performance.now();
    await within(server.close({ graceMs: 10_000 }), 3000, "close() to resolve");
    expect(performance.now() - t0).toBeLessThan(1000);
    for (const c of clients) expect(c.gone).toBe(true);
  });

  it("close() is idempotent, and aborting the signal option closes too", async () => {
    const ac = new AbortController();
    const server = await serve((_req, res) => res.setText("x").send(), { signal: ac.signal });
    const c = await RawClient.connect(server.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.response();
    ac.abort();
    await c.closed(2000);
    await within(Promise.all([server.close(), server.close({ graceMs: 10 })]), 3000, "close()");
    expect(await refused(server.port)).toBe(true);
  });
});
