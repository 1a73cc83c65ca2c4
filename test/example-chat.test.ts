// examples/chat/server.js, started as the README says: two Chromium pages join the chat,
// one says something and the other shows it; a plain GET of the socket's URL is a 426;
// stopping the server tells the open page it went away (1001).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBrowser, type TestBrowser } from "./support/browser.js";
import { startExample, type RunningExample } from "./support/example-process.js";
import { skipWithout } from "./support/tools.js";

const noChromium = skipWithout("chromium", "the chat example's pages in Chromium");

let app: RunningExample;
let browser: TestBrowser | undefined;
beforeAll(async () => {
  app = await startExample("examples/chat/server.js");
});
afterAll(async () => {
  await browser?.close();
  await app.stop();
});

describe("examples/chat/server.js", () => {
  it("answers a plain GET of the chat socket with 426", async () => {
    const res = await fetch(`${app.base}/chat`);
    expect(res.status).toBe(426);
    expect(res.headers.get("upgrade")).toBe("websocket");
  });

  it.skipIf(noChromium)("carries a message from one page to another; stopping the server tells the page", async () => {
    browser = await startBrowser();
    const context = await browser.context();
    const ada = await context.newPage();
    const bob = await context.newPage();
    await ada.goto(`${app.base}/?name=ada`);
    await ada.waitForSelector("#status:text('connected as ada')");
    await bob.goto(`${app.base}/?name=bob`);
    await bob.waitForSelector("#status:text('connected as bob')");
    await ada.waitForSelector("#log li:text('bob joined (2 here)')");

    await ada.fill("#text", "hello from ada");
    await ada.click("button");
    await bob.waitForSelector("#log li:text-is('ada: hello from ada')");
    await ada.waitForSelector("#log li:text-is('ada: hello from ada')");

    await bob.close();
    await ada.waitForSelector("#log li:text('bob left (1 here)')");

    const stopping = app.stop();
    await ada.waitForSelector("#status:text('the server went away')", { timeout: 10_000 });
    await stopping;
    // The page's socket was told (1001, seen above); what the grace deadline still found
    // open (a browser's idle keep-alive connection on a loaded machine) may vary.
    expect(app.lines.some((l) => /^closed: 1 chat sockets told to go away, \d+ cut off$/.test(l)), app.lines.join("\n")).toBe(true);
  }, 60_000);
});
