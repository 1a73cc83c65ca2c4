// A handler's lifetime, bounded: handlerTimeoutMs (a handler that makes no progress gets a
// 503 in its place, or its response cut off), a client that leaves while its handler is
// pending (the connection is freed at once after a reset; after a FIN the answer is still
// written), server.close() that resolves at its deadline whatever handlers do, and the
// shutdown race on keep-alive (a request that was read is answered, never dropped).
// Over real sockets.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HandlerTimeoutError, accept, serve, type Handler, type Request, type ResponseWritten, type Server, type ServeOptions } from "../host/index.js";
import { RawClient, acceptServers, sleep, until, within } from "./support/limits-client.js";
import { captureLogger, curl, gate, type CapturingLogger } from "./support/server-harness.js";
import { skipWithout } from "./support/tools.js";

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close({ graceMs: 100 })));
  servers = [];
});

async function start(handler: Handler, options: ServeOptions = {}): Promise<{ server: Server; log: CapturingLogger; written: ResponseWritten[] }> {
  const log = captureLogger();
  const written: ResponseWritten[] = [];
  const server = await serve(handler, { port: 0, logger: log, onResponse: (_req, w) => written.push(w), ...options });
  servers.push(server);
  return { server, log, written };
}

const never = (): Promise<never> => new Promise<never>(() => {});

/** A handler that never settles, with the times its requests' `req.signal` aborted. */
function stuck(): { handler: Handler; started: () => number; aborted: number[] } {
  let started = 0;
  const aborted: number[] = [];
  const handler: Handler = async (req) => {
    started++;
    req.signal.addEventListener("abort", () => aborted.push(performance.now()));
    return never();
  };
  return { handler, started: () => started, aborted };
}

/** `n` clients, each with a GET that a `stuck()` handler is now holding. */
async function stuckClients(port: number, n: number, started: () => number): Promise<RawClient[]> {
  const clients = await Promise.all(Array.from({ length: n }, () => RawClient.connect(port)));
  await Promise.all(clients.map((c) => c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
  await until(() => started() === n, 3000, `${n} handlers to start`);
  return clients;
}

describe("handlerTimeoutMs", () => {
  it("a handler that never settles: the client gets 503 with Connection: close, req.signal aborts, the late send rejects, one error is logged", async () => {
    let request: Request | undefined;
    let late: Promise<unknown> | undefined;
    const { server, log, written } = await start(
      async (req, res) => {
        request = req;
        req.signal.addEventListener("abort", () => {
          // The handler learns it is over, and tries to answer anyway.
          late = (async () => res.setText("too late").send())().then(
            () => "sent",
            (error: unknown) => error,
          );
        });
        return never();
      },
      { handlerTimeoutMs: 300 },
    );
    const c = await RawClient.connect(server.port);
    const t0 = performance.now();
    await c.write("GET /stuck HTTP/1.1\r\nHost: a\r\n\r\n");
    const res = await c.response(3000);
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(503);
    expect(res.headers["connection"]).toBe("close");
    expect(res.body.toString()).toBe("the server did not answer in time\n");
    expect(elapsed).toBeGreaterThan(250);
    expect(elapsed).toBeLessThan(2000);
    await c.closed(2000);
    expect(c.unread.length).toBe(0);

    expect(request!.signal.aborted).toBe(true);
    expect(request!.signal.reason).toBeInstanceOf(HandlerTimeoutError);
    const lateError = await late;
    expect(lateError).toBeInstanceOf(HandlerTimeoutError);
    expect((lateError as Error).message).toMatch(/no progress for 300 ms \(handlerTimeoutMs\)/);

    expect(written.map((w) => [w.status, w.outcome])).toEqual([[503, "complete"]]);
    expect(log.errors.map((e) => e.message)).toEqual(["tophat: the handler for GET /stuck made no progress for 300 ms (handlerTimeoutMs); sent 503 and closed the connection"]);
    expect(log.warnings).toEqual([]);
  });

  it("a streamed response that stalls after its head: the connection ends without the last chunk; ResponseWritten says error, once; the late write and end reject", async () => {
    const late: unknown[] = [];
    const { server, log, written } = await start(
      async (req, res) => {
        const out = res.stream();
        await out.write("first part\n");
        await new Promise((resolve) => req.signal.addEventListener("abort", resolve));
        // Past its deadline, the handler tries to go on.
        for (const attempt of [() => out.write("more"), () => out.end()]) late.push(await attempt().then(() => "ok", (error: unknown) => error));
        return never();
      },
      { handlerTimeoutMs: 300 },
    );
    const c = await RawClient.connect(server.port);
    await c.write("GET /stall HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.closed(3000);
    const text = c.received.toString("latin1");
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
    expect(text).toContain("first part\n");
    // No last chunk: the client can tell the body was cut short.
    expect(text.endsWith("0\r\n\r\n")).toBe(false);
    await until(() => written.length === 1 && late.length === 2, 2000, "the report and the late attempts");
    await sleep(100);
    expect(written.length).toBe(1);
    expect(written[0]!.outcome).toBe("error");
    expect(written[0]!.error).toBeInstanceOf(HandlerTimeoutError);
    expect(late.map((e) => e instanceof HandlerTimeoutError)).toEqual([true, true]);
    // Logged once, by the report of the cut-off response (issue 12: a failure after the
    // head says the request line and what was written), no longer by the timer as well.
    expect(log.errors.length).toBe(1);
    expect(log.errors[0]!.message).toMatch(/^tophat: the response to GET "\/stall" failed after its head was sent \(error\): status 200, \d+ bytes written; the connection was closed: the handler made no progress for 300 ms/);
    expect(log.errors[0]!.rest[0]).toBeInstanceOf(HandlerTimeoutError);
  });

  it("progress keeps a handler alive: a response written a piece every 100 ms for 1.2 s, and a body uploaded slowly for 1.2 s", async () => {
    const { server, log } = await start(
      async (req, res) => {
        if (req.method === "POST") return res.setText(`got ${(await req.text()).length}`).send();
        const out = res.stream();
        for (let i = 0; i < 12; i++) {
          await sleep(100);
          await out.write(`${i},`);
        }
        return out.end();
      },
      { handlerTimeoutMs: 300 },
    );
    const down = await RawClient.connect(server.port);
    await down.write("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    const r = await down.response(5000);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe("0,1,2,3,4,5,6,7,8,9,10,11,");

    const up = await RawClient.connect(server.port);
    await up.write("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n");
    for (let i = 0; i < 12; i++) {
      await sleep(100);
      await up.write("x");
    }
    const u = await up.response(5000);
    expect(u.status).toBe(200);
    expect(u.body.toString()).toBe("got 12");
    expect(log.entries).toEqual([]);
    down.destroy();
    up.destroy();
  });

  it("time a write spends waiting for a slow reader doesn't count: the handler's clock starts again when the client reads", async () => {
    const { server, log } = await start(
      async (_req, res) => {
        const out = res.stream();
        await out.write(Buffer.alloc(8 << 20, 97)); // waits until the client reads
        await sleep(800); // then 800 ms of the handler's own work, under its 1500 ms
        await out.write("tail");
        return out.end();
      },
      { handlerTimeoutMs: 1500, writeTimeoutMs: 5000 },
    );
    const c = await RawClient.connect(server.port);
    c.socket.pause();
    await c.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    await sleep(1200); // the write waits for 1.2 s: with the handler's 0.8 s, past 1.5 s in all
    c.socket.resume();
    const res = await c.response(5000);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe((8 << 20) + 4);
    expect(log.entries).toEqual([]);
    c.destroy();
  });

  it("a server-sent-events stream lives on through its heartbeats", async () => {
    const { server, log } = await start(
      async (_req, res) => {
        const events = res.sse({ heartbeatMs: 100 });
        await sleep(1200);
        await events.send({ data: "still here" });
        return events.close();
      },
      { handlerTimeoutMs: 300 },
    );
    const c = await RawClient.connect(server.port);
    await c.write("GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.wait(() => c.received.includes("data: still here\n\n"), 5000, "the event after 1.2 s");
    expect(log.entries).toEqual([]);
    c.destroy();
  });

  it("Infinity turns it off; other values are checked when the server starts", async () => {
    await expect(serve(async (_req, res) => res.sendCode(204), { port: 0, handlerTimeoutMs: 0 })).rejects.toThrow(/handlerTimeoutMs must be a positive number/);
    await expect(serve(async (_req, res) => res.sendCode(204), { port: 0, handlerTimeoutMs: Number.NaN })).rejects.toThrow(/handlerTimeoutMs/);
    const { server } = await start(async (_req, res) => res.sendCode(204), { handlerTimeoutMs: Infinity });
    expect((await fetch(server.url)).status).toBe(204);
  });
});

describe("a client that leaves while its handler is pending", () => {
  const acceptServer = acceptServers();

  it("a reset aborts req.signal at once and frees the connection (its summary arrives), though the handler never settles", async () => {
    const { handler, started, aborted } = stuck();
    const server = await acceptServer(handler, { handlerTimeoutMs: Infinity });
    const clients = await stuckClients(server.port, 20, started);
    const t0 = performance.now();
    for (const c of clients) c.socket.resetAndDestroy();
    for (let i = 0; i < 20; i++) expect((await server.summary(i, 2000)).closedBy).toBe("error");
    expect(aborted.length).toBe(20);
    expect(Math.max(...aborted) - t0).toBeLessThan(1000);
  });

  it("a handler that fails after the client reset is still logged (its leaving isn't the failure)", async () => {
    const log = captureLogger();
    const server = await acceptServer(
      async () => {
        await sleep(200);
        throw new TypeError("a bug in the handler");
      },
      { logger: log },
    );
    const c = await RawClient.connect(server.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await sleep(50);
    c.socket.resetAndDestroy();
    await server.summary(0, 2000);
    await until(() => log.errors.length === 1, 2000, "the error");
    expect(log.errors[0]!.message).toBe("tophat: the handler for GET / failed after the client left");
    expect(log.errors[0]!.rest[0]).toBeInstanceOf(TypeError);
  });

  it("a Web Streams client whose stream errors right behind its request frees the connection at once", async () => {
    const request = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    let pulls = 0;
    const readable = new ReadableStream<Uint8Array>({
      pull(controller) {
        // The request, then at once (the next read) the error.
        if (pulls++ === 0) controller.enqueue(request);
        else controller.error(new Error("the peer went away"));
      },
    });
    const writable = new WritableStream<Uint8Array>();
    const t0 = performance.now();
    const summary = await within(accept({ readable, writable }, async () => never(), { handlerTimeoutMs: Infinity, logger: captureLogger() }), 2000, "accept() to resolve");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(summary.requests).toBe(1);
  });

  it("after a FIN the response is still written when the handler answers, then the connection is freed", async () => {
    const answer = gate();
    let signalled = false;
    const server = await acceptServer(async (req, res) => {
      req.signal.addEventListener("abort", () => (signalled = true));
      await answer.promise;
      return res.setText("worth the wait").send();
    });
    const c = await RawClient.connect(server.port, { allowHalfOpen: true });
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    c.socket.end();
    await sleep(200);
    // A half-close is not leaving: the client may still read.
    expect(signalled).toBe(false);
    answer.open();
    const res = await c.response(2000);
    expect(res.body.toString()).toBe("worth the wait");
    const summary = await server.summary(0, 2000);
    expect(summary.closedBy).toBe("client");
    expect(summary.requests).toBe(1);
  });

  it("after a FIN, a handler that never answers is cut off at its deadline (the 503 is written to the half-closed client) and the connection freed", async () => {
    const server = await acceptServer(async () => never(), { handlerTimeoutMs: 300, logger: captureLogger() });
    const c = await RawClient.connect(server.port, { allowHalfOpen: true });
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    c.socket.end();
    const res = await c.response(3000);
    expect(res.status).toBe(503);
    const summary = await server.summary(0, 3000);
    expect(summary.requests).toBe(1);
  });
});

describe("a client that half-closes in the middle of its request body (how fetch and curl abort an upload)", () => {
  it("is a cancelled request: reported client-closed, nothing sent, nothing above debug logged, the connection closes", async () => {
    const log = captureLogger();
    const written: ResponseWritten[] = [];
    const server = await serve(async (req, res) => res.setText(`read ${(await req.bytes()).length}`).send(), { port: 0, logger: log, onResponse: (_req, w) => written.push(w) });
    servers.push(server);
    for (const request of [
      "POST /cl HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + "x".repeat(50),
      "POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ]) {
      const c = await RawClient.connect(server.port, { allowHalfOpen: true });
      await c.write(request);
      c.socket.end();
      await c.closed(3000);
      expect(c.received.toString("latin1")).toBe("");
    }
    await until(() => written.length === 2, 3000, "both reports");
    expect(written.map((w) => [w.outcome, w.bytesWritten])).toEqual([
      ["client-closed", 0],
      ["client-closed", 0],
    ]);
    expect(log.entries.filter((e) => e.level === "warn" || e.level === "error")).toEqual([]);
  });

  it.skipIf(skipWithout("curl", "the aborted curl upload test"))("an upload curl abandons (--max-time) is reported client-closed, not a server error", async () => {
    const log = captureLogger();
    const written: ResponseWritten[] = [];
    const server = await serve(async (req, res) => res.setText(`read ${(await req.bytes()).length}`).send(), { port: 0, logger: log, onResponse: (_req, w) => written.push(w) });
    servers.push(server);
    // A 1 MB upload sent at 64 KB/s, which curl gives up on after a second.
    const dir = mkdtempSync(path.join(tmpdir(), "tophat-abort-"));
    const file = path.join(dir, "upload.bin");
    writeFileSync(file, Buffer.alloc(1_000_000, 0x61));
    const r = await curl(["-T", file, "--limit-rate", "64k", "--max-time", "1", `http://127.0.0.1:${server.port}/upload`]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(28); // curl: operation timed out
    await until(() => written.length === 1, 5000, "the report");
    expect(written[0]!.outcome).toBe("client-closed");
    expect(log.entries.filter((e) => e.level === "warn" || e.level === "error")).toEqual([]);
  });
});

describe("server.close() with handlers that never settle", () => {
  it("resolves at the grace deadline; the handlers' req.signal aborts; the sockets are gone", async () => {
    const { handler, started, aborted } = stuck();
    const { server } = await start(handler, { handlerTimeoutMs: Infinity });
    const clients = await stuckClients(server.port, 10, started);
    const t0 = performance.now();
    await within(server.close({ graceMs: 300 }), 3000, "server.close() to resolve");
    const took = performance.now() - t0;
    expect(took).toBeGreaterThan(250);
    expect(took).toBeLessThan(1500);
    expect(aborted.length).toBe(10);
    await Promise.all(clients.map((c) => c.closed(1000)));
  });
});

describe("the shutdown race on keep-alive", () => {
  it("requests already read behind the one in flight are answered (the last with Connection: close), not dropped", async () => {
    const release = gate();
    let started = 0;
    const { server } = await start(async (req, res) => {
      started++;
      if (req.path === "/first") await release.promise;
      return res.setText(`answer ${req.path}`).send();
    });
    const c = await RawClient.connect(server.port);
    // Three pipelined requests: the first is in its handler when close() takes effect.
    await c.write("GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\nGET /third HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(() => started === 1, 2000, "the first handler");
    await sleep(50);
    const closing = server.close({ graceMs: 3000 });
    await sleep(50);
    release.open();
    const answers = [await c.response(2000), await c.response(2000), await c.response(2000)];
    expect(answers.map((r) => r.body.toString())).toEqual(["answer /first", "answer /second", "answer /third"]);
    expect(answers.map((r) => r.headers["connection"])).toEqual([undefined, undefined, "close"]);
    await c.closed(2000);
    await closing;
  });

  it("empty lines after the last request are not another request: the response closes and close() doesn't wait", async () => {
    const release = gate();
    let started = 0;
    const { server } = await start(async (_req, res) => {
      started++;
      await release.promise;
      return res.setText("done").send();
    });
    const c = await RawClient.connect(server.port);
    await c.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok\r\n");
    await until(() => started === 1, 2000, "the handler");
    const t0 = performance.now();
    const closing = server.close({ graceMs: 2500 });
    await sleep(50);
    release.open();
    const res = await c.response(2000);
    expect(res.headers["connection"]).toBe("close");
    await closing;
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it("under keep-alive load, every request whose bytes the server read is answered", async () => {
    let served = 0;
    const { server } = await start(async (req, res) => {
      served++;
      return res.setText(`ok ${req.path}`).send();
    });
    // 20 clients sending requests back to back on keep-alive connections.
    let answered = 0;
    let unanswered = 0;
    let stop = false;
    const loops = Array.from({ length: 20 }, async (_, i) => {
      const c = await RawClient.connect(server.port);
      while (!stop) {
        const wrote = await c.write(`GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`).then(
          () => true,
          () => false,
        );
        if (!wrote) break;
        const res = await c.response(3000).catch(() => undefined);
        if (res === undefined) {
          // The connection closed before the server read this request: a closed
          // keep-alive connection, which clients retry. At most one per connection.
          unanswered++;
          break;
        }
        answered++;
        if (res.headers["connection"] === "close") break;
      }
      c.destroy();
    });
    await sleep(500);
    await server.close({ graceMs: 3000 });
    stop = true;
    await Promise.all(loops);
    expect(answered).toBeGreaterThan(20);
    // Every request a handler saw was answered, and no connection lost more than the one
    // request it sent as the server closed it.
    expect(served).toBe(answered);
    expect(unanswered).toBeLessThanOrEqual(20);
  });
});
