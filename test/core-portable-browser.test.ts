// tophat/core/portable in Chromium: a page loads the emitted JS of dist/host as native ES
// modules (relative imports, no bundler, no polyfill) and the core module over HTTP from a
// small server on loopback, then runs the workload of support/core-workload.ts — every
// corpus case and its prefixes, the fuzz corpus, every chunked body, the framer cases —
// whose outcomes must be identical, call by call, to those of Node's binding (tophat/core).
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { Core } from "../host/core.js";
import type * as Portable from "../host/core-portable.js";
import { startBrowser, type TestBrowser } from "./support/browser.js";
import { repoRoot } from "./support/corpora.js";
import type * as Workload from "./support/core-workload.js";
import { runWorkload, type WorkloadInput, type WorkloadResult } from "./support/core-workload.js";
import { differences, workloadInput } from "./support/core-workload-input.js";
import { skipWithout } from "./support/tools.js";

const noChromium = skipWithout("chromium", "tophat/core/portable in Chromium");

const distHost = path.join(repoRoot, "dist", "host");
const workloadSource = path.join(repoRoot, "test", "support", "core-workload.ts");
const WASM: Record<string, string> = {
  "/wasm/core.wasm": path.join(repoRoot, "dist", "tophat-http.core.wasm"),
  "/wasm/trap.wasm": path.join(repoRoot, "dist", "test", "trap.core.wasm"),
};

// The page imports the entry and the workload by relative URL; /host/ maps to dist/host/ and
// the workload is transpiled from its source (it imports ../../host/core-portable.js, which
// resolves to /host/core-portable.js).
const PAGE = `<!doctype html>
<title>tophat/core/portable</title>
<link rel="icon" href="data:,">
<script type="module">
import * as core from "./host/core-portable.js";
import * as workload from "./test/support/core-workload.js";
window.tophatTest = { core, workload };
</script>`;

/** What the page's module script leaves on `window`. */
interface PageModules {
  core: typeof Portable;
  workload: typeof Workload;
}

function contentOf(pathname: string): { type: string; body: string | Buffer } | undefined {
  if (pathname === "/") return { type: "text/html; charset=utf-8", body: PAGE };
  if (pathname === "/test/support/core-workload.js") {
    const { outputText } = ts.transpileModule(readFileSync(workloadSource, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      fileName: workloadSource,
    });
    return { type: "text/javascript; charset=utf-8", body: outputText };
  }
  const wasm = WASM[pathname];
  if (wasm !== undefined) return { type: "application/wasm", body: readFileSync(wasm) };
  if (pathname.startsWith("/host/") && pathname.endsWith(".js")) {
    const file = path.join(distHost, path.normalize(pathname.slice("/host/".length)));
    // Only files under dist/host (path.normalize leaves no way out through "..").
    if (file.startsWith(distHost + path.sep) && existsSync(file)) return { type: "text/javascript; charset=utf-8", body: readFileSync(file) };
  }
  return undefined;
}

let server: Server;
let base = "";
let browser: TestBrowser;
let page: Page;
/** Requests the page made that the server had no answer for, and errors it raised. */
const problems: string[] = [];
/** Every path the page asked for (to show the modules came from dist/host). */
const requested: string[] = [];

beforeAll(async () => {
  if (noChromium) return;
  server = createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    requested.push(pathname);
    const content = contentOf(pathname);
    if (content === undefined) {
      problems.push(`404 ${pathname}`);
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": content.type, "cache-control": "no-store" }).end(content.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await startBrowser();
  page = await (await browser.context()).newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${base}/`);
  await page.waitForFunction(() => "tophatTest" in window, undefined, { timeout: 20_000 }).catch((error: unknown) => {
    throw new Error(`the page's modules did not load: ${problems.join("; ") || String(error)}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
});

describe.skipIf(noChromium)("tophat/core/portable in Chromium", () => {
  it("loads as native modules from dist/host, with no Buffer or process in the page", async () => {
    const globals = await page.evaluate(() => ({ buffer: typeof (globalThis as { Buffer?: unknown }).Buffer, process: typeof (globalThis as { process?: unknown }).process }));
    expect(globals).toEqual({ buffer: "undefined", process: "undefined" });
    expect(requested).toEqual(expect.arrayContaining(["/host/core-portable.js", "/host/core/portable.js", "/host/core/types.js", "/host/core/head-end.js"]));
    expect(problems).toEqual([]);
  });

  it("gives outcomes identical to Node's binding on every corpus case, chunked body and framer case", async () => {
    const input = workloadInput();
    const expected = runWorkload(Core.load(), input);
    const inPage = await page.evaluate(async (given: WorkloadInput) => {
      const { core, workload } = (window as unknown as { tophatTest: PageModules }).tophatTest;
      const bytes = await (await fetch("./wasm/core.wasm")).arrayBuffer();
      // The asynchronous path, then both synchronous ones (Chromium allows a module this small).
      const compiled = await core.Core.compile(bytes);
      const results = workload.runWorkload(compiled, given);
      const same = (other: InstanceType<typeof core.Core>): boolean => JSON.stringify(workload.runWorkload(other, given)) === JSON.stringify(results);
      const fromBytes = new core.Core(new Uint8Array(bytes));
      const fromModule = new core.Core(await WebAssembly.compile(bytes));
      const framed = compiled.frameHead({ status: 204, headers: [], bodyLength: 0 }, { head: false, http10: false, close: false });
      return {
        results,
        syncFromBytesSame: same(fromBytes),
        syncFromModuleSame: same(fromModule),
        framedBytesType: framed.tag === "head" ? Object.prototype.toString.call(framed.val.bytes) : framed.tag,
      };
    }, input);
    const actual: WorkloadResult[] = inPage.results;
    expect(differences(expected, actual)).toEqual([]);
    expect(actual.length).toBeGreaterThan(5000);
    expect(inPage).toMatchObject({ syncFromBytesSame: true, syncFromModuleSame: true, framedBytesType: "[object Uint8Array]" });
    expect(problems).toEqual([]);
  }, 120_000);

  it("recovers from a trap: CoreTrapError for that call, a fresh instance for the next", async () => {
    const outcome = await page.evaluate(async () => {
      const { core } = (window as unknown as { tophatTest: PageModules }).tophatTest;
      const trapCore = await core.Core.compile(await (await fetch("./wasm/trap.wasm")).arrayBuffer());
      const enc = new TextEncoder();
      let thrown = "nothing";
      try {
        trapCore.parseHead(enc.encode("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n"), core.DEFAULT_LIMITS);
      } catch (error) {
        thrown = error instanceof core.CoreTrapError ? `CoreTrapError, cause ${error.cause instanceof Error ? error.cause.name : String(error.cause)}` : String(error);
      }
      return { thrown, restarts: trapCore.restarts, next: trapCore.parseHead(enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), core.DEFAULT_LIMITS).tag };
    });
    expect(outcome).toEqual({ thrown: "CoreTrapError, cause RuntimeError", restarts: 1, next: "complete" });
  });
});
