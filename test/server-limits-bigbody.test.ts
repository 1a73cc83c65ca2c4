// 50 MB streamed in and out with flat memory: request bodies (Content-Length and chunked)
// read through req.body, response bodies written through res.stream() and
// setBody(async generator). Memory growth (peak over a post-GC baseline) must stay well
// under the 50 MB that moved.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type ResponseWritten, type Server } from "../host/index.js";
import { memoryProbe, type MemoryPeak } from "./support/limits-client.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const TOTAL = 50 * MiB;
const BLOCK = 64 * KiB;
const BLOCKS = TOTAL / BLOCK;
// 16 distinct random blocks, sent in rotation: the hash catches lost, doubled or reordered blocks.
const pool: Buffer[] = Array.from({ length: 16 }, () => randomBytes(BLOCK));
const expectedHash = (() => {
  const h = createHash("sha256");
  for (let i = 0; i < BLOCKS; i++) h.update(pool[i % pool.length]!);
  return h.digest("hex");
})();

/**
 * Limits for 50 MB moved, on live memory (sampled after full GCs every 50 ms): well under
 * it. Without the GCs, garbage read buffers alone reach 25–30 MiB before V8 collects them.
 * RSS also counts what the allocator keeps after those GCs (the client in this process
 * included): 15–27 MiB alone, 32 when the other suites run beside it; the control that
 * holds the body reaches 50, so 40 still tells the two apart.
 */
const MAX_ARRAY_BUFFERS_MIB = 8;
const MAX_RSS_MIB = 40;

let server: Server;
const reported: ResponseWritten[] = [];
const figures: string[] = [];

beforeAll(async () => {
  server = await serve(
    async (req, res) => {
      if (req.method === "POST" && req.path === "/keep") {
        // The negative control: holds the whole body, long enough for several of the
        // probe's 50 ms samples to see it.
        const all = await req.bytes();
        await new Promise((resolve) => setTimeout(resolve, 300));
        return res.setJson({ n: all.length, hash: createHash("sha256").update(all).digest("hex") }).send();
      }
      if (req.method === "POST") {
        const hash = createHash("sha256");
        let n = 0;
        for await (const chunk of req.body) {
          hash.update(chunk);
          n += chunk.length;
        }
        return res.setJson({ n, hash: hash.digest("hex") }).send();
      }
      if (req.path === "/stream") {
        const body = res.stream();
        for (let i = 0; i < BLOCKS; i++) await body.write(pool[i % pool.length]!);
        return body.end();
      }
      async function* blocks(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < BLOCKS; i++) yield pool[i % pool.length]!;
      }
      if (req.path === "/generator-length") res.setHeader("Content-Length", TOTAL);
      return res.setBody(blocks()).send();
    },
    { onResponse: (_req, w) => reported.push(w), maxBodyBytes: 64 * MiB },
  );
});

afterAll(async () => {
  await server.close({ graceMs: 1000 });
  console.log(`[limits] 50 MB memory figures (peak growth):\n  ${figures.join("\n  ")}`);
});

function record(what: string, peak: MemoryPeak, ms: number): void {
  figures.push(`${what}: rss +${peak.rssMiB.toFixed(1)} MiB, arrayBuffers +${peak.arrayBuffersMiB.toFixed(1)} MiB, heapUsed +${peak.heapUsedMiB.toFixed(1)} MiB, ${ms.toFixed(0)} ms`);
}

function upload(chunked: boolean, path = "/upload"): Promise<{ status: number; json: { n: number; hash: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: server.port,
        method: "POST",
        path,
        agent: false,
        headers: chunked ? {} : { "Content-Length": String(TOTAL) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(parts).toString()) as { n: number; hash: string } }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    let i = 0;
    const pump = (): void => {
      while (i < BLOCKS) {
        const ok = req.write(pool[i % pool.length]!);
        i++;
        if (!ok) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function download(path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; n: number; hash: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: server.port, path, agent: false }, (res) => {
        const hash = createHash("sha256");
        let n = 0;
        res.on("data", (c: Buffer) => {
          hash.update(c);
          n += c.length;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, n, hash: hash.digest("hex") }));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

describe("50 MB request bodies streamed in (req.body)", () => {
  for (const chunked of [false, true]) {
    it(`${chunked ? "chunked" : "Content-Length"}: every byte arrives, in order, with flat memory`, async () => {
      const probe = memoryProbe({ live: true });
      const t0 = performance.now();
      const { status, json } = await upload(chunked);
      const peak = probe.stop();
      record(`in, ${chunked ? "chunked" : "content-length"}`, peak, performance.now() - t0);
      expect(status).toBe(200);
      expect(json.n).toBe(TOTAL);
      expect(json.hash).toBe(expectedHash);
      expect(peak.arrayBuffersMiB).toBeLessThan(MAX_ARRAY_BUFFERS_MIB);
      expect(peak.rssMiB).toBeLessThan(MAX_RSS_MIB);
    });
  }
});

describe("the memory probe", () => {
  it("sees a handler that holds the whole 50 MB body (so the limits above can fail)", async () => {
    const probe = memoryProbe({ live: true });
    const t0 = performance.now();
    const { status, json } = await upload(false, "/keep");
    const peak = probe.stop();
    record("control: req.bytes() holding 50 MB", peak, performance.now() - t0);
    expect(status).toBe(200);
    expect(json.hash).toBe(expectedHash);
    expect(peak.arrayBuffersMiB).toBeGreaterThan(45);
  });
});

describe("50 MB response bodies streamed out", () => {
  const cases: [string, string, "chunked" | "length"][] = [
    ["res.stream()", "/stream", "chunked"],
    ["setBody(async generator)", "/generator", "chunked"],
    ["setBody(async generator) with a Content-Length", "/generator-length", "length"],
  ];
  for (const [name, path, framing] of cases) {
    it(`${name}: every byte arrives, in order, with flat memory`, async () => {
      const before = reported.length;
      const probe = memoryProbe({ live: true });
      const t0 = performance.now();
      const out = await download(path);
      const peak = probe.stop();
      record(`out, ${name}`, peak, performance.now() - t0);
      expect(out.status).toBe(200);
      if (framing === "chunked") expect(out.headers["transfer-encoding"]).toBe("chunked");
      else expect(out.headers["content-length"]).toBe(String(TOTAL));
      expect(out.n).toBe(TOTAL);
      expect(out.hash).toBe(expectedHash);
      expect(peak.arrayBuffersMiB).toBeLessThan(MAX_ARRAY_BUFFERS_MIB);
      expect(peak.rssMiB).toBeLessThan(MAX_RSS_MIB);
      const w = reported[before];
      expect(w?.outcome).toBe("complete");
      expect(w!.bytesWritten).toBeGreaterThan(TOTAL);
      expect(w!.bytesWritten).toBe(w!.headBytes + w!.bodyBytes);
    });
  }
});
