// Backpressure both ways, and clients that go away mid-response.
// Over TCP where the kernel matters; over an in-memory duplex (pacedPeer) where the exact
// amount the server buffers for a connection (duplex.writableLength) is the measurement.
import net from "node:net";
import { once } from "node:events";
import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { accept, type ConnectionSummary, type ResponseWritten } from "../host/index.js";
import { acceptServers, memoryProbe, pacedPeer, RawClient, sleep, until, within } from "./support/limits-client.js";

const KiB = 1024;
const MiB = 1024 * KiB;

const start = acceptServers();

describe("a client that stops reading", () => {
  it("TCP: an endless streamed body stalls the handler's write() promises, memory stays flat, writeTimeoutMs cuts it off (client-closed)", async () => {
    const chunk = Buffer.alloc(64 * KiB, 0x61);
    const resolvedAt: number[] = [];
    let accepted = 0;
    let result: ResponseWritten | undefined;
    let finishedAt = 0;
    const reported: ResponseWritten[] = [];
    const s = await start(
      async (_req, res) => {
        const body = res.stream();
        try {
          for (;;) {
            await body.write(chunk);
            accepted += chunk.length;
            resolvedAt.push(performance.now());
          }
        } catch {
          // cut off
        }
        result = await body.end();
        finishedAt = performance.now();
        return result;
      },
      { writeTimeoutMs: 800, onResponse: (_req, w) => reported.push(w) },
    );
    const probe = memoryProbe();
    const c = await RawClient.connect(s.port);
    c.socket.pause();
    await c.write("GET /endless HTTP/1.1\r\nHost: a\r\n\r\n");
    // The kernel's buffers fill, then write() stops resolving.
    await until(() => resolvedAt.length > 0 && performance.now() - resolvedAt[resolvedAt.length - 1]! > 300, 10_000, "the writes to stall");
    const acceptedAtStall = accepted;
    await sleep(200);
    expect(accepted).toBe(acceptedAtStall);
    await until(() => result !== undefined, 10_000, "the write timeout");
    const peak = probe.stop();
    console.log(
      `[limits] endless stream to a non-reading TCP client: ${(accepted / MiB).toFixed(1)} MiB accepted before the stall; ` +
        `peak growth rss ${peak.rssMiB.toFixed(1)} MiB, arrayBuffers ${peak.arrayBuffersMiB.toFixed(1)} MiB`,
    );
    // Bounded by kernel buffers plus one socket high-water mark, not by the body.
    expect(accepted).toBeLessThan(32 * MiB);
    expect(peak.arrayBuffersMiB).toBeLessThan(16);
    // The cut came writeTimeoutMs after the last write went through.
    const stalled = finishedAt - resolvedAt[resolvedAt.length - 1]!;
    expect(stalled).toBeGreaterThan(600);
    expect(stalled).toBeLessThan(3000);
    expect(result!.outcome).toBe("client-closed");
    expect(reported.map((w) => w.outcome)).toEqual(["client-closed"]);
    const summary = await s.summary(0);
    expect(summary.closedBy).toBe("timeout");
    c.destroy();
  });

  it("in memory: while the client doesn't read, the server holds at most a socket buffer and one chunk for the connection", async () => {
    const peer = pacedPeer({ sliceBytes: 64 * KiB, sliceMs: 1, reading: false });
    const chunk = Buffer.alloc(64 * KiB, 0x62);
    let writes = 0;
    let result: ResponseWritten | undefined;
    const done = accept(
      peer.duplex,
      async (_req, res) => {
        const body = res.stream();
        try {
          for (;;) {
            await body.write(chunk);
            writes++;
          }
        } catch {
          // cut off
        }
        result = await body.end();
        return result;
      },
      { writeTimeoutMs: 500 },
    );
    peer.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    let maxBuffered = 0;
    const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, peer.duplex.writableLength)), 5);
    await sleep(250);
    const writesAt250 = writes;
    await sleep(100);
    // Stalled: no write() resolved while the client read nothing.
    expect(writes).toBe(writesAt250);
    expect(writes).toBeLessThan(4);
    const summary = await within(done, 5000, "the connection to end");
    clearInterval(sampler);
    expect(maxBuffered).toBeLessThanOrEqual(16 * KiB + 2 * chunk.length);
    expect(result!.outcome).toBe("client-closed");
    expect(summary.closedBy).toBe("timeout");
  });

  it("in memory: pipelined requests from a client that doesn't read don't make the server buffer response after response", async () => {
    // 2000 pipelined GETs, 16 KiB answer each: 32 MiB of responses nobody reads.
    const peer = pacedPeer({ sliceBytes: 64 * KiB, sliceMs: 1, reading: false });
    const body = Buffer.alloc(16 * KiB, 0x63);
    let handled = 0;
    const done = accept(
      peer.duplex,
      (_req, res) => {
        handled++;
        return res.setBody(body).send();
      },
      { writeTimeoutMs: 1000 },
    );
    peer.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(2000));
    let maxBuffered = 0;
    const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, peer.duplex.writableLength)), 5);
    await sleep(400);
    maxBuffered = Math.max(maxBuffered, peer.duplex.writableLength);
    const handledWhileStalled = handled;
    clearInterval(sampler);
    peer.duplex.destroy();
    await within(done, 5000, "the connection to end");
    console.log(`[limits] pipelined flood, client not reading: ${handledWhileStalled} requests handled, ${(maxBuffered / MiB).toFixed(1)} MiB buffered`);
    expect(maxBuffered).toBeLessThan(2 * MiB);
    expect(handledWhileStalled).toBeLessThan(100);
  });

  it("TCP: pipelined requests from a client that doesn't read: the handler count stays bounded", async () => {
    const body = Buffer.alloc(16 * KiB, 0x63);
    let handled = 0;
    const s = await start(
      (_req, res) => {
        handled++;
        return res.setBody(body).send();
      },
      { writeTimeoutMs: 2000 },
    );
    const c = await RawClient.connect(s.port);
    c.socket.pause();
    const probe = memoryProbe();
    // 5000 requests: 80 MiB of answers; the kernel holds a few MiB of them at most.
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(5000));
    await sleep(600);
    const peak = probe.stop();
    const handledWhileStalled = handled;
    console.log(
      `[limits] pipelined flood over TCP, client not reading: ${handledWhileStalled} requests handled (${((handledWhileStalled * body.length) / MiB).toFixed(1)} MiB of answers); ` +
        `peak growth arrayBuffers ${peak.arrayBuffersMiB.toFixed(1)} MiB, rss ${peak.rssMiB.toFixed(1)} MiB`,
    );
    c.destroy();
    // Kernel buffers on loopback can hold a few MiB: allow 1000 answers (16 MiB); 5000 means unbounded.
    expect(handledWhileStalled).toBeLessThan(1000);
  });

  it("in memory: a slow but steady reader of a large whole body (send()) is not cut off by writeTimeoutMs", async () => {
    // 64 KiB every 20 ms (~3 MiB/s): 4 MiB take ~1.3 s; no single wait comes near 300 ms.
    const peer = pacedPeer({ sliceBytes: 64 * KiB, sliceMs: 20 });
    const size = 4 * MiB;
    let result: ResponseWritten | undefined;
    const done = accept(
      peer.duplex,
      async (_req, res) => (result = await res.setBody(Buffer.alloc(size, 0x64)).send()),
      { writeTimeoutMs: 300 },
    );
    peer.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    const summary = await within(done, 10_000, "the connection to end");
    expect(result?.outcome).toBe("complete");
    expect(summary.closedBy).not.toBe("timeout");
    expect(peer.receivedBytes()).toBeGreaterThan(size);
  });

  // Over TCP a whole body goes in one write (head and body, writev), and the write deadline
  // reads the socket's unsent bytes to tell a slow reader from a stalled one.
  it("TCP: a slow but steady reader of a large whole body (send(), one write) is not cut off by writeTimeoutMs", async () => {
    const size = 24 * MiB;
    let result: ResponseWritten | undefined;
    const s = await start(async (_req, res) => (result = await res.setBody(Buffer.alloc(size, 0x64)).send()), { writeTimeoutMs: 300 });
    const socket = net.connect(s.port, "127.0.0.1");
    let received = 0;
    const startedAt = performance.now();
    // At most 64 KiB per 5 ms (~12 MiB/s): what the kernel can't hold waits far longer than 300 ms.
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      socket.pause();
      setTimeout(() => socket.resume(), 5);
    });
    socket.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await within(once(socket, "end"), 20_000, "the whole body");
    const took = performance.now() - startedAt;
    socket.destroy();
    const summary = await s.summary(0);
    expect(took).toBeGreaterThan(600);
    expect(result?.outcome).toBe("complete");
    expect(summary.closedBy).not.toBe("timeout");
    expect(received).toBeGreaterThan(size);
  });

  it("TCP: a reader that stops partway through a large whole body (send(), one write) is cut off writeTimeoutMs later (client-closed)", async () => {
    let result: ResponseWritten | undefined;
    let doneAt = 0;
    const s = await start(
      async (_req, res) => {
        result = await res.setBody(Buffer.alloc(64 * MiB, 0x64)).send();
        doneAt = performance.now();
        return result;
      },
      { writeTimeoutMs: 500 },
    );
    const socket = net.connect(s.port, "127.0.0.1");
    socket.on("error", () => undefined); // the server cuts it off
    let received = 0;
    let stoppedAt = 0;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received >= 4 * MiB && stoppedAt === 0) {
        stoppedAt = performance.now();
        socket.pause();
      }
    });
    socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(() => result !== undefined, 10_000, "the write timeout");
    socket.destroy();
    // The kernel's buffers fill within moments of the reader stopping; then nothing moves.
    const stalledFor = doneAt - stoppedAt;
    expect(stalledFor).toBeGreaterThan(400);
    expect(stalledFor).toBeLessThan(3000);
    expect(result!.outcome).toBe("client-closed");
    // What the kernel took before the cut (Node reports nothing for a cancelled write):
    // at least what the client read, and not the whole body.
    expect(result!.bytesWritten).toBeGreaterThanOrEqual(received);
    expect(result!.bytesWritten).toBeLessThan(64 * MiB);
    expect((await s.summary(0)).closedBy).toBe("timeout");
  });

  it("in memory: a duplex that takes the whole response and is destroyed before calling back reports it complete (the bytes left)", async () => {
    // Only a net.Socket's destroy calls back unsent writes as done; a plain Duplex's _write
    // that ran was handed the bytes, whatever happens before its callback.
    let received = 0;
    const duplex = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        duplex.destroy();
        callback();
      },
    });
    let result: ResponseWritten | undefined;
    // (Small enough to go in one buffer, head and body: one _write.)
    const done = accept(duplex, async (_req, res) => (result = await res.setBody(Buffer.alloc(8 * KiB, 0x66)).send()));
    duplex.push("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await within(done, 5000, "the connection to end");
    expect(received).toBeGreaterThan(8 * KiB);
    expect(result?.outcome).toBe("complete");
  });

  it("in memory: the same slow steady reader of a streamed body (res.stream()) is not cut off", async () => {
    const peer = pacedPeer({ sliceBytes: 64 * KiB, sliceMs: 20 });
    const chunk = Buffer.alloc(64 * KiB, 0x65);
    let result: ResponseWritten | undefined;
    const done = accept(
      peer.duplex,
      async (_req, res) => {
        const body = res.stream();
        for (let i = 0; i < 64; i++) await body.write(chunk);
        return (result = await body.end());
      },
      { writeTimeoutMs: 300 },
    );
    peer.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    const summary = await within(done, 10_000, "the connection to end");
    expect(result?.outcome).toBe("complete");
    expect(summary.closedBy).not.toBe("timeout");
    expect(peer.receivedBytes()).toBeGreaterThan(4 * MiB);
  });
});

describe("a handler that doesn't read the request body", () => {
  it("TCP: the server stops reading (bytesRead stays bounded) while the client pushes a large body", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let handlerStarted = false;
    const s = await start(
      async (_req, res) => {
        handlerStarted = true;
        await released;
        return res.setText("not reading that").send();
      },
      { maxDrainBytes: 1024 },
    );
    const c = await RawClient.connect(s.port);
    const total = 200 * MiB;
    await c.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
    const block = Buffer.alloc(64 * KiB, 0x66);
    let flushed = 0;
    let lastProgress = performance.now();
    let stop = false;
    const pusher = (async () => {
      while (flushed < total && !stop && !c.gone) {
        // One block in flight at a time: `flushed` is what the kernel accepted.
        await c.write(block).catch(() => (stop = true));
        flushed += block.length;
        lastProgress = performance.now();
      }
    })();
    await until(() => handlerStarted, 5000, "the handler to start");
    // Push until the client can't send any more (the server's and the kernel's buffers are full).
    await until(() => performance.now() - lastProgress > 300, 15_000, "the client's writes to stall");
    const pushed = flushed;
    stop = true;
    // Reset (no FIN, no lingering): the summary then shows what the server had read.
    c.socket.resetAndDestroy();
    release();
    await pusher;
    const summary = await s.summary(0);
    console.log(`[limits] unread request body: client pushed ${(pushed / MiB).toFixed(1)} MiB before stalling; server read ${(summary.bytesRead / KiB).toFixed(0)} KiB`);
    expect(pushed).toBeLessThan(total);
    expect(summary.bytesRead).toBeLessThan(1 * MiB);
    expect(summary.bytesRead).toBeLessThan(pushed);
  });

  it("in memory: bytes read stay bounded while the handler waits", async () => {
    const peer = pacedPeer({ sliceBytes: 64 * KiB, sliceMs: 1 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const done = accept(
      peer.duplex,
      async (_req, res) => {
        await released;
        return res.setText("ok").send();
      },
      { maxDrainBytes: 1024 },
    );
    peer.send(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${64 * MiB}\r\n\r\n`);
    // The client offers 8 MiB at once; the duplex holds what the server didn't take.
    const block = Buffer.alloc(64 * KiB, 0x67);
    for (let i = 0; i < 128; i++) peer.send(block);
    await sleep(200);
    // Everything beyond what the server consumed still sits in the duplex's readable buffer.
    const unconsumed = peer.duplex.readableLength;
    release();
    peer.duplex.destroy();
    const summary = await within(done, 5000, "the connection to end");
    expect(unconsumed).toBeGreaterThan(7 * MiB);
    expect(summary.bytesRead).toBeLessThan(1 * MiB);
  });
});

describe("a client that goes away mid-response", () => {
  async function abortMidStream(kind: "stream" | "stream with Content-Length" | "generator"): Promise<void> {
    const reported: ResponseWritten[] = [];
    let result: ResponseWritten | undefined;
    let signalFired = false;
    const chunk = Buffer.alloc(4 * KiB, 0x68);
    const s = await start(
      async (req, res) => {
        req.signal.addEventListener("abort", () => (signalFired = true));
        if (kind !== "generator") {
          if (kind === "stream with Content-Length") res.setHeader("Content-Length", 10_000 * chunk.length);
          const body = res.stream();
          try {
            for (let i = 0; i < 10_000; i++) {
              await body.write(chunk);
              await sleep(5);
            }
          } catch {
            // the client left
          }
          result = await body.end();
          return result;
        }
        async function* slow(): AsyncGenerator<Uint8Array> {
          for (let i = 0; i < 10_000; i++) {
            yield chunk;
            await sleep(5);
          }
        }
        result = await res.setBody(slow()).send();
        return result;
      },
      { onResponse: (_req, w) => reported.push(w) },
    );
    const c = await RawClient.connect(s.port);
    await c.write("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
    await c.wait(() => c.received.length > 32 * KiB, 5000, "part of the body");
    c.destroy();
    await until(() => result !== undefined, 5000, "the handler to see the client leave");
    expect(result!.outcome).toBe("client-closed");
    expect(result!.error?.name).toBe("ClientClosedError");
    expect(result!.bytesWritten).toBeGreaterThan(32 * KiB);
    expect(result!.bytesWritten).toBeLessThan(10_000 * chunk.length);
    expect(reported.map((w) => w.outcome)).toEqual(["client-closed"]);
    expect(signalFired).toBe(true);
    const summary: ConnectionSummary = await s.summary(0);
    expect(["client", "error"]).toContain(summary.closedBy);
  }

  it("res.stream(): the ResponseWritten and onResponse say client-closed, req.signal fires", () => abortMidStream("stream"));
  it("setBody(async generator): the same", () => abortMidStream("generator"));
  // The body then ends short of its length, but the client's leaving is what happened.
  it("res.stream() with a Content-Length: client-closed too, not a short body", () => abortMidStream("stream with Content-Length"));

  it("a reset while the handler is still thinking fires req.signal at once", async () => {
    let abortedAt = 0;
    let reason: unknown;
    let started = false;
    const s = await start(async (req, res) => {
      started = true;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5000);
        req.signal.addEventListener("abort", () => {
          abortedAt = performance.now();
          reason = req.signal.reason;
          clearTimeout(t);
          resolve();
        });
      });
      return res.setText("too late").send();
    }, {});
    const c = await RawClient.connect(s.port);
    await c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(() => started, 5000, "the handler to start");
    const t0 = performance.now();
    c.socket.resetAndDestroy();
    await until(() => abortedAt > 0, 3000, "req.signal to fire");
    expect(abortedAt - t0).toBeLessThan(1000);
    expect((reason as Error).name).toBe("ClientClosedError");
  });
});
