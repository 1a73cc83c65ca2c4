// examples/static-site.js, started as the README says: the page and its stylesheet, a
// revalidation, a range, the directory redirect, refusals, and compression.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExample, type RunningExample } from "./support/example-process.js";

let app: RunningExample;
beforeAll(async () => {
  app = await startExample("examples/static-site.js");
});
afterAll(async () => {
  await app.stop();
});

describe("examples/static-site.js", () => {
  it("serves index.html at / and the stylesheet it links, with validators and Cache-Control", async () => {
    const page = await fetch(`${app.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain('href="/style.css"');
    const css = await fetch(`${app.base}/style.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("cache-control")).toBe("public, max-age=60");
    expect(await css.text()).toContain("rebeccapurple");
    const again = await fetch(`${app.base}/style.css`, { headers: { "If-None-Match": css.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  it("ranges, HEAD, the health route, and refusals", async () => {
    const range = await fetch(`${app.base}/style.css`, { headers: { Range: "bytes=0-3" } });
    expect([range.status, await range.text()]).toEqual([206, "body"]);
    const head = await fetch(`${app.base}/index.html`, { method: "HEAD" });
    expect([head.status, Number(head.headers.get("content-length")) > 0]).toEqual([200, true]);
    expect(await (await fetch(`${app.base}/healthz`)).text()).toBe("ok\n");
    expect((await fetch(`${app.base}/nope.txt`)).status).toBe(404);
    expect((await fetch(`${app.base}/%2e%2e/static-site.js`)).status).toBe(404);
    expect((await fetch(`${app.base}/style.css`, { method: "POST" })).status).toBe(405);
  });

  it("compresses a file over 1 KiB for a client that accepts it (Node's fetch decodes), not a range, and not for a client that doesn't", async () => {
    const plain = readFileSync(new URL("../examples/static-site/public/planets.json", import.meta.url), "utf8");
    for (const coding of ["br", "gzip"]) {
      const r = await fetch(`${app.base}/planets.json`, { headers: { "Accept-Encoding": coding } });
      expect([r.status, r.headers.get("content-encoding"), r.headers.get("vary"), r.headers.get("content-type")]).toEqual([200, coding, "Accept-Encoding", "application/json; charset=utf-8"]);
      expect(await r.text()).toBe(plain);
    }
    const identity = await fetch(`${app.base}/planets.json`, { headers: { "Accept-Encoding": "identity" } });
    expect([identity.headers.get("content-encoding"), identity.headers.get("content-length")]).toEqual([null, String(Buffer.byteLength(plain))]);
    const range = await fetch(`${app.base}/planets.json`, { headers: { "Accept-Encoding": "br", Range: "bytes=0-1" } });
    expect([range.status, range.headers.get("content-encoding"), await range.text()]).toEqual([206, null, plain.slice(0, 2)]);
  });
});
