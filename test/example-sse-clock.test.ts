// examples/sse-clock.js, started as the README says: the eventsource client gets ticks,
// Chromium renders the page and its clock moves, and a client leaving is noticed.
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBrowser, type TestBrowser } from "./support/browser.js";
import { startExample, type RunningExample } from "./support/example-process.js";
import { until } from "./support/server-harness.js";
import { skipWithout } from "./support/tools.js";

const noChromium = skipWithout("chromium", "the SSE clock example's page in Chromium");

let app: RunningExample;
let browser: TestBrowser | undefined;
beforeAll(async () => {
  app = await startExample("examples/sse-clock.js", { TICK_MS: "100" });
});
afterAll(async () => {
  await browser?.close();
  await app.stop();
});

describe("examples/sse-clock.js", () => {
  it("streams tick events with increasing ids and ISO times; notices the client leaving", async () => {
    const ticks: { id: string; data: string }[] = [];
    const source = new EventSource(`${app.base}/clock`);
    source.addEventListener("tick", (e) => ticks.push({ id: e.lastEventId, data: e.data }));
    await until(() => ticks.length >= 3, "three ticks", 5_000);
    source.close();
    expect(Number(ticks[2]!.id)).toBeGreaterThan(Number(ticks[0]!.id));
    for (const t of ticks) expect(new Date(t.data).toISOString()).toBe(t.data);
    await app.line(/^a clock client left after [\d.]+ s \(\d+ bytes\); 0 still watching$/);
  });

  it.skipIf(noChromium)("the page's clock runs in Chromium", async () => {
    browser = await startBrowser();
    const page = await (await browser.context()).newPage();
    await page.goto(`${app.base}/`);
    await page.waitForFunction(() => /\d/.test(document.getElementById("clock")?.textContent ?? ""), undefined, { timeout: 10_000 });
    const first = await page.textContent("#clock");
    await page.waitForFunction((before) => document.getElementById("clock")?.textContent !== before, first, { timeout: 10_000 });
    await page.close();
  });

  it("other paths are 404", async () => {
    expect((await fetch(`${app.base}/nope`)).status).toBe(404);
  });
});
