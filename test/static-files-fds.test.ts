// serveStatic's file descriptors and backpressure, with the server in this process: every
// path closes the file (200, HEAD, 304, 412, 416, 404, redirects, a client leaving in the
// middle of a large download), counted in /proc/self/fd; and a client that stops reading
// stops the reads from disk.
import { readdirSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { serveStatic } from "../host/index.js";
import { connectTcp, parseResponses, startServer, sleep, until, type TestServer } from "./support/server-harness.js";
import { makeStaticFixture, type StaticFixture } from "./support/static-fixture.js";

const BIG = 16 * 1024 * 1024;
const hasProcFd = (() => {
  try {
    readdirSync("/proc/self/fd");
    return true;
  } catch {
    return false;
  }
})();
const openFds = (): number => readdirSync("/proc/self/fd").length;

let fx: StaticFixture;
let server: TestServer;
beforeAll(async () => {
  fx = makeStaticFixture(BIG);
  server = await startServer("serve", serveStatic(fx.root, { precompressed: true }));
});
afterAll(async () => {
  await server?.close();
  fx?.remove();
});

async function request(method: string, target: string, fields = ""): Promise<number> {
  const received = await server.rawRequest(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${fields}\r\n`);
  const [response] = parseResponses(received, { eof: true, heads: [method === "HEAD"] }).responses;
  if (!response) throw new Error("no response");
  return response.status;
}

/** Starts downloading big.bin, reads `bytes` of it, then resets the connection. */
async function abortedDownload(bytes: number): Promise<void> {
  const client = await connectTcp(server.port);
  await client.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.waitFor((received) => received.length >= bytes, `${bytes} bytes`, 10_000);
  client.destroy();
}

describe.skipIf(!hasProcFd)("file descriptors", () => {
  it("are all closed after many requests down every path, aborted large downloads included", async () => {
    // Warm up (lazy modules, the server's own sockets), then count.
    await request("GET", "/hello.txt");
    await sleep(50);
    // A FileHandle left open is closed by the garbage collector, with a warning: count
    // those too, or a leak that GC happens to clean up during the test would pass.
    const gcClosed: string[] = [];
    const onWarning = (warning: Error): void => {
      if (/Closing file descriptor \d+ on garbage collection/.test(warning.message)) gcClosed.push(warning.message);
    };
    process.on("warning", onWarning);
    const before = openFds();
    const etag = await (async () => {
      const res = await fetch(`${server.url}/hello.txt`);
      await res.text();
      return res.headers.get("etag")!;
    })();
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++) {
      statuses.push(
        await request("GET", "/hello.txt"),
        await request("HEAD", "/big.bin"),
        await request("GET", "/hello.txt", `If-None-Match: ${etag}\r\n`),
        await request("GET", "/hello.txt", `If-Match: "nope"\r\n`),
        await request("GET", "/big.bin", "Range: bytes=99999999-\r\n"),
        await request("GET", "/big.bin", "Range: bytes=0-9\r\n"),
        await request("GET", "/style.css", "Accept-Encoding: br\r\n"),
        await request("GET", "/missing"),
        await request("GET", "/sub"),
        await request("GET", "/sub/"),
        await request("GET", "/link-out"),
        await request("GET", "/.env"),
        await request("POST", "/hello.txt", "Content-Length: 0\r\n"),
      );
      if (fx.hasFifo) statuses.push(await request("GET", "/fifo"));
      await abortedDownload(1);
      await abortedDownload(4 * 1024 * 1024);
    }
    const expected = [200, 200, 304, 412, 416, 206, 200, 404, 301, 200, 404, 404, 405, ...(fx.hasFifo ? [404] : [])];
    expect(statuses).toEqual(Array.from({ length: 5 }, () => expected).flat());
    await until(() => openFds() <= before, `open fds back to ${before} (now ${openFds()})`, 5_000);
    // A leak shows either way: as fds still open, or (if GC ran) as its warnings.
    await sleep(100);
    process.off("warning", onWarning);
    expect(gcClosed).toEqual([]);
  });
});

describe("backpressure", () => {
  it("a client that stops reading stops the reads from disk; resumed, it gets every byte", async () => {
    // Count what the server reads from files: FileHandle.read, on the class's prototype.
    const probe = await open(path.join(fx.root, "hello.txt"));
    const proto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<{ bytesRead: number }> };
    await probe.close();
    let readBytes = 0;
    const original = proto.read;
    const spy = vi.spyOn(proto, "read").mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const result = await original.apply(this, args);
      readBytes += result.bytesRead;
      return result;
    });
    try {
      const client = await connectTcp(server.port);
      await client.write("GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await client.waitFor((received) => received.length > 0, "the first bytes");
      client.pauseReading();
      await sleep(500);
      const whilePaused = readBytes;
      await sleep(300);
      // Socket buffers hold a few MiB at most; the file is 16 MiB, and reading stopped.
      expect(whilePaused).toBeLessThan(BIG / 2);
      expect(readBytes).toBe(whilePaused);
      client.resumeReading();
      await client.waitEnded(20_000);
      const [response] = parseResponses(client.received, { eof: true }).responses;
      expect(response?.status).toBe(200);
      expect(response?.body.equals(fx.big)).toBe(true);
      expect(readBytes).toBe(BIG);
    } finally {
      spy.mockRestore();
    }
  });
});
