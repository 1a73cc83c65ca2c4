// runCluster(), through examples/cluster.js started as a user would: workers share the
// port, a crashed worker is replaced, SIGHUP replaces every worker under load with no
// failed request, and SIGTERM stops the cluster gracefully.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";
import { until } from "./support/server-harness.js";

let app: RunningExample;
beforeAll(async () => {
  app = await startExample("examples/cluster.js", { WORKERS: "2" });
});
afterAll(() => app?.stop());

async function pidOf(base: string): Promise<number> {
  const res = await fetch(`${base}/`);
  return ((await res.json()) as { pid: number }).pid;
}

/** Pids answering `n` requests, each on a new connection (the primary deals them out in turn). */
async function pidsAnswering(n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${app.base}/`, { headers: { connection: "close" }, signal: AbortSignal.timeout(5_000) });
    pids.add(((await res.json()) as { pid: number }).pid);
  }
  return pids;
}

describe("runCluster (examples/cluster.js, 2 workers)", () => {
  it("both workers answer on the one port", async () => {
    expect(app.lines.some((l) => /^cluster of 2 workers \(primary \d+\) on http:\/\/127\.0\.0\.1:\d+\/$/.test(l))).toBe(true);
    const pids = await pidsAnswering(12);
    expect(pids.size).toBe(2);
    expect(pids.has(app.pid)).toBe(false);
  });

  it("a worker that crashes is replaced", async () => {
    const before = await pidsAnswering(8);
    await fetch(`${app.base}/crash`, { headers: { connection: "close" }, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    // The replacement answers within a few seconds (the crash was not at start-up: no backoff).
    let after = new Set<number>();
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      // A request on a connection to the dying worker may fail: that isn't what this checks.
      after = await pidsAnswering(6).catch(() => new Set<number>());
      if (after.size === 2 && [...after].some((pid) => !before.has(pid))) break;
    }
    expect(after.size).toBe(2);
    expect([...after].filter((pid) => !before.has(pid)).length).toBe(1);
  });

  it("SIGHUP replaces every worker, one at a time, with no failed request under load", async () => {
    const before = await pidsAnswering(8);
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const seen = new Set<number>();
    const clients = Array.from({ length: 10 }, async () => {
      while (!stop) {
        try {
          seen.add(await pidOf(app.base));
          ok++;
        } catch (error) {
          failures.push(String((error as Error).cause ?? error));
        }
      }
    });
    await until(() => ok > 50, "load to start", 5_000);
    process.kill(app.pid, "SIGHUP");
    await app.line(/^tophat: rolling restart done \(2 workers\)$/, 20_000);
    const done = ok;
    await until(() => ok > done + 50, "load after the restart", 5_000);
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    const after = await pidsAnswering(8);
    expect(after.size).toBe(2);
    for (const pid of after) expect(before.has(pid)).toBe(false);
    console.log(`[cluster] rolling restart under load: ${ok} requests, ${failures.length} failed, ${seen.size} worker pids seen`);
  }, 40_000);

  it("SIGTERM stops the cluster gracefully: an in-flight request still gets its answer", async () => {
    const pending = fetch(`${app.base}/slow`, { headers: { connection: "close" } }).then((r) => r.status);
    await new Promise((resolve) => setTimeout(resolve, 150)); // in its handler now
    process.kill(app.pid, "SIGTERM");
    expect(await pending).toBe(200);
    expect(await app.exited).toBe(0);
  });
});
