// websocket() with Chromium's WebSocket: a page served by Tophat connects to it, sends
// text and binary messages and receives them back, and sees the close code the server sends.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Router, serve, websocket, type Server } from "../host/index.js";
import { startBrowser, type TestBrowser } from "./support/browser.js";
import { skipWithout } from "./support/tools.js";

const noChromium = skipWithout("chromium", "WebSocket in Chromium");

let browser: TestBrowser;
let server: Server;

beforeAll(async () => {
  if (noChromium) return;
  const app = new Router()
    .get("/", async (_req, res) => res.setHeader("Content-Type", "text/html; charset=utf-8").setText("<!doctype html><title>ws</title>").send())
    .get(
      "/echo",
      websocket((ws) => {
        ws.on("message", (data, binary) => {
          if (!binary && data.toString() === "close please") ws.close(4000, "as asked");
          else ws.send(data, { binary });
        });
      }),
    );
  server = await serve(app.route, { port: 0 });
  browser = await startBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close({ graceMs: 500 });
});

describe.skipIf(noChromium)("WebSocket in Chromium", () => {
  it("connects, sends text and binary, receives them back, and sees the server's close code", async () => {
    const page = await (await browser.context()).newPage();
    await page.goto(`${server.url}/`);
    const result = await page.evaluate(async () => {
      const ws = new WebSocket(`ws://${location.host}/echo`);
      ws.binaryType = "arraybuffer";
      const next = (): Promise<unknown> =>
        new Promise((resolve) => ws.addEventListener("message", (e) => resolve(e.data instanceof ArrayBuffer ? [...new Uint8Array(e.data)] : e.data), { once: true }));
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      const text = next();
      ws.send("héllo from the page");
      const echoedText = await text;
      const bytes = next();
      ws.send(new Uint8Array([0, 1, 2, 250]));
      const echoedBytes = await bytes;
      const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean })));
      ws.send("close please");
      return { echoedText, echoedBytes, closed: await closed };
    });
    expect(result).toEqual({ echoedText: "héllo from the page", echoedBytes: [0, 1, 2, 250], closed: { code: 4000, reason: "as asked", wasClean: true } });
    await page.close();
  });
});
