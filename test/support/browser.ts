// A real browser for the tests where a browser is the client (CORS, EventSource): Debian's
// Chromium, driven by playwright-core. `.ci/run` installs it; a machine without it fails
// these tests with a message that says so, rather than skipping them quietly.
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// Without the background-networking flags Chromium keeps dialling Google's hosts, which this
// machine's closed network refuses; --no-sandbox because CI runs as root.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (its own cookies and cache) for one test. */
  context(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Starts headless Chromium; throws with the path it looked for when it isn't installed. */
export async function startBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (bash .ci/run does) or set CHROMIUM_PATH`);
  }
  // Playwright gives the browser a fresh temporary profile, removed when it closes.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    browser,
    context: () => browser.newContext(),
    close: () => browser.close(),
  };
}
