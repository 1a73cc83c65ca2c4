// Server-sent events in Chromium: a page's EventSource receives typed events with ids and
// multi-line data, and when a stream ends it reconnects with Last-Event-ID and resumes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBrowser, type TestBrowser } from "./support/browser.js";
import { startEventServer, type EventServer } from "./support/sse-server.js";
import { skipWithout } from "./support/tools.js";

const noChromium = skipWithout("chromium", "EventSource in Chromium");

let browser: TestBrowser;
let events: EventServer;

beforeAll(async () => {
  if (noChromium) return;
  events = await startEventServer();
  browser = await startBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await events?.close();
});

describe.skipIf(noChromium)("EventSource in Chromium", () => {
  it("receives every event once, in order, across reconnections that send Last-Event-ID", async () => {
    const page = await (await browser.context()).newPage();
    await page.goto(`${events.server.url}/page?to=8`);
    await page.waitForFunction(() => (window as unknown as { received: unknown[] }).received.length >= 8, undefined, { timeout: 15_000 });
    const received = await page.evaluate(() => (window as unknown as { received: { id: string; data: string }[] }).received);
    expect(received.map((e) => e.id)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
    expect(received[7]!.data).toBe("tick 8\nof 8");
    expect(events.lastIds.slice(0, 3)).toEqual(["", "3", "6"]);
    await page.close();
  });
});
