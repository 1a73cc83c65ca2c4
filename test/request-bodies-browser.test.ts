// A form upload from Chromium: a page served by Tophat has an HTML form with a file input;
// a 100 MB file is set on it and the form submitted as multipart/form-data. The server
// streams the file through req.multipart() (hashing it) and its RSS stays flat: the file
// is never held in memory.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Server } from "../host/index.js";
import { startBrowser, type TestBrowser } from "./support/browser.js";
import { memoryProbe } from "./support/limits-client.js";
import { skipWithout } from "./support/tools.js";

const noChromium = skipWithout("chromium", "form uploads from Chromium");

const MB = 1_000_000;
const FILE_BYTES = 100 * MB;

const PAGE = `<!doctype html>
<title>upload</title>
<form method="post" action="/upload" enctype="multipart/form-data">
  <input name="note" value="from chromium">
  <input type="file" name="upload">
  <button type="submit">send</button>
</form>`;

let browser: TestBrowser;
let server: Server;
let dir: string;
let file: string;
let fileHash: string;

beforeAll(async () => {
  if (noChromium) return;
  // The file is written a MiB at a time: the test process never holds it either.
  dir = mkdtempSync(path.join(tmpdir(), "tophat-upload-"));
  file = path.join(dir, "big upload.bin");
  const hash = createHash("sha256");
  const fd = openSync(file, "w");
  const block = randomBytes(1 << 20);
  for (let written = 0; written < FILE_BYTES; ) {
    const piece = block.subarray(0, Math.min(block.length, FILE_BYTES - written));
    piece[0] = written & 0xff; // vary the blocks a little
    writeSync(fd, piece);
    hash.update(piece);
    written += piece.length;
  }
  closeSync(fd);
  fileHash = hash.digest("hex");

  server = await serve(
    async (req, res) => {
      if (req.method === "GET") return res.setHeader("Content-Type", "text/html; charset=utf-8").setText(PAGE).send();
      const seen: string[] = [];
      for await (const part of req.multipart({ maxFileBytes: 200 * MB })) {
        if (part.kind === "field") {
          seen.push(`${part.name}=${part.value}`);
          continue;
        }
        const hash = createHash("sha256");
        let size = 0;
        for await (const chunk of part.stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          hash.update(chunk);
        }
        seen.push(`${part.name}:${part.filename}:${part.mimeType}:${size}:${hash.digest("hex")}`);
      }
      return res.setText(seen.join("\n")).send();
    },
    { port: 0 },
  );
  browser = await startBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(noChromium)("a form upload from Chromium", () => {
  it("streams a 100 MB file through req.multipart() with the server's RSS flat", async () => {
    const page = await (await browser.context()).newPage();
    await page.goto(`${server.url}/`);
    await page.setInputFiles("input[type=file]", file);
    // Each sample follows full collections: Node's socket reads leave a 64 KiB garbage
    // buffer each that V8 frees lazily (sampled as they come, RSS peaks ~35 MiB over the
    // baseline on this upload), which would measure the collector, not what is held.
    const probe = memoryProbe({ live: true });
    const started = performance.now();
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/upload"), { timeout: 90_000 }), page.click("button")]);
    const text = await response.text();
    const peak = probe.stop();
    console.log(
      `[upload] 100 MB from Chromium in ${((performance.now() - started) / 1000).toFixed(1)} s (collecting every 50 ms); server process peak growth: ` +
        `rss ${peak.rssMiB.toFixed(1)} MiB, arrayBuffers ${peak.arrayBuffersMiB.toFixed(1)} MiB, heap ${peak.heapUsedMiB.toFixed(1)} MiB`,
    );
    expect(response.status()).toBe(200);
    expect(text.split("\n")).toEqual(["note=from chromium", `upload:big upload.bin:application/octet-stream:${FILE_BYTES}:${fileHash}`]);
    // Flat: a few buffers, far from the file's 95 MiB.
    expect(peak.rssMiB).toBeLessThan(30);
    expect(peak.arrayBuffersMiB).toBeLessThan(8);
    await page.close();
  }, 120_000);
});
