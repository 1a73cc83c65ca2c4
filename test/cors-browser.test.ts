// cors() with a real browser: Chromium loads a page from one origin whose script fetches an
// API on another port, and the browser decides what the page may read. The API servers
// record which requests reached them (a refused preflight means the request never comes).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { cors, serve, type Handler, type Server } from "../host/index.js";
import { startBrowser, type TestBrowser } from "./support/browser.js";
import { skipWithout } from "./support/tools.js";

const noChromium = skipWithout("chromium", "CORS in Chromium");

let browser: TestBrowser;
let page: Page;
let site: Server;
const servers: Server[] = [];
const arrived: string[] = [];

const api: Handler = async (req, res) => {
  arrived.push(`${req.method} ${req.path}`);
  switch (req.path) {
    case "/login":
      return res.setHeader("Set-Cookie", "sid=abc123; Path=/; SameSite=Lax").setText("logged in").send();
    case "/whoami":
      return res.setText(req.headers.get("cookie") ?? "(no cookie)").send();
    default:
      return res.setHeader("X-Total", "5").setHeader("X-Secret", "s").setText(`${req.method} ok`).send();
  }
};

async function apiWith(options: Parameters<typeof cors>[0]): Promise<string> {
  const s = await serve(cors(options)(api), { port: 0 });
  servers.push(s);
  return s.url;
}

interface Outcome {
  ok: boolean;
  status?: number;
  text?: string;
  total?: string | null;
  secret?: string | null;
  error?: string;
}

/** Runs fetch(url, init) in the page, as the page's script would. */
function fetchFromPage(url: string, init: RequestInit = {}): Promise<Outcome> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const r = await fetch(u, i);
        return { ok: true, status: r.status, text: await r.text(), total: r.headers.get("x-total"), secret: r.headers.get("x-secret") };
      } catch (e) {
        return { ok: false, error: String(e) };
      }
    },
    [url, init] as const,
  );
}

let allowing = "";
let star = "";
let elsewhere = "";

beforeAll(async () => {
  if (noChromium) return;
  site = await serve(async (_req, res) => res.setHeader("Content-Type", "text/html").setText("<!doctype html><title>app</title><p>app</p>").send(), { port: 0 });
  allowing = await apiWith({ origin: [site.url], credentials: true, methods: ["GET", "POST", "PUT"], exposeHeaders: ["X-Total"], allowHeaders: ["X-Custom"] });
  star = await apiWith({ origin: "*" });
  elsewhere = await apiWith({ origin: "http://elsewhere.example" });
  browser = await startBrowser();
  page = await (await browser.context()).newPage();
  await page.goto(`${site.url}/`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([site, ...servers].map((s) => s?.close()));
});

describe.skipIf(noChromium)("CORS in Chromium", () => {
  it("a simple GET from an allowed origin is readable; only exposed headers are visible", async () => {
    const out = await fetchFromPage(`${allowing}/data`);
    expect(out).toEqual({ ok: true, status: 200, text: "GET ok", total: "5", secret: null });
  });

  it("a simple GET from a refused origin reaches the server, but the page can't read it", async () => {
    arrived.length = 0;
    const out = await fetchFromPage(`${elsewhere}/data`);
    expect(out.ok).toBe(false);
    expect(out.error).toMatch(/TypeError: Failed to fetch/);
    expect(arrived).toEqual(["GET /data"]);
  });

  it("a preflighted PUT with a custom header: preflight, then the request", async () => {
    arrived.length = 0;
    const out = await fetchFromPage(`${allowing}/data`, { method: "PUT", headers: { "X-Custom": "1" }, body: "x" });
    expect(out).toMatchObject({ ok: true, status: 200, text: "PUT ok" });
    // The preflight was answered by cors() itself: only the PUT reached the handler.
    expect(arrived).toEqual(["PUT /data"]);
  });

  it("a preflight refused for its method or header: the request is never sent", async () => {
    arrived.length = 0;
    const method = await fetchFromPage(`${allowing}/data`, { method: "DELETE" });
    const header = await fetchFromPage(`${allowing}/data`, { method: "PUT", headers: { "X-Other": "1" } });
    expect([method.ok, header.ok]).toEqual([false, false]);
    expect(arrived).toEqual([]);
  });

  it("with credentials allowed (origin echoed): the cookie is stored and sent back", async () => {
    expect(await fetchFromPage(`${allowing}/login`, { credentials: "include" })).toMatchObject({ ok: true, text: "logged in" });
    expect(await fetchFromPage(`${allowing}/whoami`, { credentials: "include" })).toMatchObject({ ok: true, text: "sid=abc123" });
    // Without credentials mode the browser sends no cookie.
    expect(await fetchFromPage(`${allowing}/whoami`)).toMatchObject({ ok: true, text: "(no cookie)" });
  });

  it("'*' serves credential-less requests, and the browser refuses it for credentialed ones", async () => {
    expect(await fetchFromPage(`${star}/data`)).toMatchObject({ ok: true, text: "GET ok", total: null });
    const withCookies = await fetchFromPage(`${star}/data`, { credentials: "include" });
    expect(withCookies.ok).toBe(false);
  });
});
