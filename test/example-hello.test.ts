// examples/hello.js, started as the README says, answered by fetch and curl.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";
import { curl } from "./support/server-harness.js";
import { skipWithout } from "./support/tools.js";

const noCurl = skipWithout("curl", "the curl test of examples/hello.js");

let app: RunningExample;
beforeAll(async () => {
  app = await startExample("examples/hello.js");
});
afterAll(() => app.stop());

describe("examples/hello.js", () => {
  it("says hello to fetch", async () => {
    const res = await fetch(`${app.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("Hello, world!\n");
  });

  it.skipIf(noCurl)("says hello to curl over one kept-alive connection", async () => {
    const r = await curl(["-v", `${app.base}/`, `${app.base}/again`]);
    expect(r.stdout).toBe("Hello, world!\nHello, world!\n");
    expect(r.stderr).toMatch(/Re-using existing connection|Reusing existing/);
  });

  it("exits cleanly on SIGTERM", async () => {
    await app.stop();
    await expect(fetch(`${app.base}/`)).rejects.toThrow();
  });
});
