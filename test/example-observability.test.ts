// examples/observability.js: a concurrency limit answering 503, downloads whose
// ResponseWritten says what was delivered (complete or cut short), and metrics built from
// onResponse.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";

let app: RunningExample;
beforeAll(async () => {
  app = await startExample("examples/observability.js", { LIMIT: "2" });
});
afterAll(() => app.stop());

interface Metrics {
  responses: number;
  bytesWritten: number;
  byStatus: Record<string, number>;
  byOutcome: Record<string, number>;
  lastByteP50Ms: number;
  lastByteP99Ms: number;
}

describe("examples/observability.js", () => {
  it("a full semaphore answers 503 with Retry-After at once, and frees up afterwards", async () => {
    const slow = [fetch(`${app.base}/slow?ms=800`), fetch(`${app.base}/slow?ms=800`)];
    // Give both slow requests time to enter the handler.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    const refused = await fetch(`${app.base}/slow?ms=0`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.text()).toBe("busy: 2 requests in progress\n");
    expect(performance.now() - started).toBeLessThan(500);
    for (const res of await Promise.all(slow)) expect(await res.text()).toBe("slept 800 ms\n");
    const again = await fetch(`${app.base}/slow?ms=0`);
    expect(again.status).toBe(200);
  });

  it("a complete download: its ResponseWritten reports every body byte", async () => {
    const res = await fetch(`${app.base}/download?size=1000000`);
    expect((await res.arrayBuffer()).byteLength).toBe(1_000_000);
    const line = await app.line(/^download of 1000000 bytes/);
    const m = /^download of 1000000 bytes: 1000000 body bytes sent, (\d+) bytes flushed, complete, last byte after [\d.]+ ms$/.exec(line);
    expect(m, line).not.toBeNull();
    // The head's bytes too.
    expect(Number(m![1])).toBeGreaterThan(1_000_000);
  });

  it("a download the client abandons is reported client-closed, with fewer bytes", async () => {
    const socket = net.connect(app.port, "127.0.0.1");
    socket.write("GET /download?size=500000000 HTTP/1.1\r\nHost: x\r\n\r\n");
    let received = 0;
    await new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > 2_000_000) {
          socket.destroy();
          resolve();
        }
      });
    });
    const line = await app.line(/^download of 500000000 bytes/);
    const m = /: \d+ body bytes sent, (\d+) bytes flushed, client-closed,/.exec(line);
    expect(m, line).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(2_000_000 - 200);
    expect(Number(m![1])).toBeLessThan(500_000_000);
  });

  it("bad parameters are 400s; unknown paths 404", async () => {
    const bad = await fetch(`${app.base}/download?size=-1`);
    expect([bad.status, await bad.text()]).toEqual([400, `size must be a whole number from 0 to ${10 * 1024 ** 3}\n`]);
    expect((await fetch(`${app.base}/nope`)).status).toBe(404);
  });

  it("/metrics counts every response by status and outcome, from onResponse", async () => {
    const metrics = (await (await fetch(`${app.base}/metrics`)).json()) as Metrics;
    expect(metrics.byStatus["503"]).toBe(1);
    expect(metrics.byStatus["400"]).toBe(1);
    expect(metrics.byStatus["404"]).toBe(1);
    expect(metrics.byOutcome["client-closed"]).toBe(1);
    expect(metrics.bytesWritten).toBeGreaterThan(3_000_000);
    expect(metrics.responses).toBe(Object.values(metrics.byStatus).reduce((a, b) => a + b, 0));
    expect(metrics.lastByteP50Ms).toBeLessThanOrEqual(metrics.lastByteP99Ms);
    expect(app.lines.some((l) => /^GET \/slow\?ms=0 → 503 \d+B first=[\d.]+ms last=[\d.]+ms complete$/.test(l))).toBe(true);
  });
});
