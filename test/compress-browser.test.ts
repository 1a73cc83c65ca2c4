// compress() in Chromium: a page fetches a compressed JSON document and reads a compressed
// server-sent-events stream through compress(), event by event.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress, serve, type Handler, type Server } from "../host/index.js";
import { startBrowser, type TestBrowser } from "./support/browser.js";
import { skipWithout } from "./support/tools.js";

const noChromium = skipWithout("chromium", "compress() in Chromium");

const items = Array.from({ length: 500 }, (_, i) => ({ id: i, name: `item ${i}`, done: i % 3 === 0 }));
let browser: TestBrowser;
let server: Server;

const app: Handler = async (req, res) => {
  if (req.path === "/") {
    return res
      .setHeader("Content-Type", "text/html; charset=utf-8")
      .setText(
        `<!doctype html><title>compress</title><script>
          window.events = [];
          window.json = fetch("/data.json").then((r) => r.json());
          const source = new EventSource("/events");
          source.addEventListener("n", (e) => { window.events.push(e.data); if (window.events.length === 5) source.close(); });
        </script>`,
      )
      .send();
  }
  if (req.path === "/data.json") return res.setJson(items).send();
  if (req.path === "/events") {
    const events = res.sse({ heartbeatMs: 0 });
    // One event at a time, far apart: only a flushed stream delivers them before the end.
    for (let i = 0; i < 5 && !events.signal.aborted; i++) {
      await events.send({ event: "n", data: `event ${i}` });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await events.closed;
    return events.close();
  }
  return res.sendCode(404);
};

beforeAll(async () => {
  if (noChromium) return;
  server = await serve(compress()(app), { port: 0 });
  browser = await startBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close({ graceMs: 200 });
});

describe.skipIf(noChromium)("compress() in Chromium", () => {
  it("a compressed JSON document and a compressed event stream, each event as it is sent", async () => {
    const page = await (await browser.context()).newPage();
    const encodings = new Map<string, string | undefined>();
    page.on("response", (r) => encodings.set(new URL(r.url()).pathname, r.headers()["content-encoding"]));
    await page.goto(`${server.url}/`);
    expect(await page.evaluate(() => (window as unknown as { json: Promise<unknown> }).json)).toEqual(items);
    await page.waitForFunction(() => (window as unknown as { events: string[] }).events.length >= 5, undefined, { timeout: 15_000 });
    expect(await page.evaluate(() => (window as unknown as { events: string[] }).events)).toEqual(["event 0", "event 1", "event 2", "event 3", "event 4"]);
    expect(encodings.get("/data.json")).toBe("br");
    // The page itself is under the 1 KiB threshold: sent as it is.
    expect(encodings.get("/")).toBeUndefined();
    // Chromium reports an event stream's response when its head arrives.
    expect(encodings.get("/events")).toBe("br");
    await page.close();
  });

  it("events arrive one by one, not at the end of the stream", async () => {
    const page = await (await browser.context()).newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => (window as unknown as { events: string[] }).events.length >= 1, undefined, { timeout: 15_000 });
    // The stream takes ≥ 400 ms; the first event is there well before the fifth was sent.
    const early = await page.evaluate(() => (window as unknown as { events: string[] }).events.length);
    expect(early).toBeLessThan(5);
    await page.close();
  });
});
