// compress(): negotiation, skip rules, whole/streamed/SSE bodies, backpressure, errors —
// over real sockets, checked byte-exactly with a raw client and decoded by Node's fetch and
// curl --compressed. (Chromium: compress-browser.test.ts.)
import { createHash, randomBytes } from "node:crypto";
import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { compress, compose, negotiateCoding, isCompressibleType, serveStatic, type CompressCoding, type Handler, type Middleware, type ResponseWritten } from "../host/index.js";
import { curl, gate, header, headerAll, sleep, startServer, until, type RawResponse, type TestServer } from "./support/server-harness.js";
import { makeStaticFixture, type StaticFixture } from "./support/static-fixture.js";
import { skipWithout } from "./support/tools.js";

const noCurl = skipWithout("curl", "compress() with curl --compressed");

/** ~N bytes of JSON that compresses the way real API output does (repetitive keys, varied values). */
function jsonOf(bytes: number): string {
  const items = [];
  for (let i = 0; items.length * 60 < bytes; i++) items.push({ id: i, name: `item ${i}`, price: (i * 37) % 1000, tags: ["a", "b"] });
  return JSON.stringify(items);
}
const HEX = Buffer.from(randomBytes(2 * 1024 * 1024).toString("hex"), "latin1");
const BIG_JSON = jsonOf(100_000);
const SMALL_TEXT = "tiny";
/** Bytes a handler labels `Content-Encoding: gzip` (above the threshold): compress() must pass them through untouched. */
const ALREADY_ENCODED = Buffer.alloc(2048, 0x61);
const TEXT_2K = "The quick brown fox jumps over the lazy dog.\n".repeat(50);

function decode(coding: string | undefined, body: Buffer): Buffer {
  if (coding === "br") return brotliDecompressSync(body);
  if (coding === "gzip") return gunzipSync(body);
  return body;
}

let server: TestServer;
const written: { path: string; written: ResponseWritten }[] = [];
const streamProgress = { wrote: 0, done: false };
const sseGates = [gate(), gate(), gate()];
let midStreamFailure: Error | undefined;

/** One handler, the path picks the response; each skip rule has a path. */
const app: Handler = async (req, res) => {
  switch (req.path) {
    case "/json":
      return res.setJson(JSON.parse(BIG_JSON)).send();
    case "/text":
      return res.setText(TEXT_2K).send();
    case "/small":
      return res.setText(SMALL_TEXT).send();
    case "/png":
      return res.setHeader("Content-Type", "image/png").setBody(Buffer.alloc(4096, 1)).send();
    case "/octets":
      return res.setHeader("Content-Type", "application/octet-stream").setBody(Buffer.alloc(4096, 1)).send();
    case "/no-type":
      return res.setBody(Buffer.alloc(4096, 1)).send();
    case "/encoded":
      return res.setHeader("Content-Type", "text/plain").setHeader("Content-Encoding", "gzip").setBody(ALREADY_ENCODED).send();
    case "/no-transform":
      return res.setHeader("Cache-Control", "public, no-transform").setText(TEXT_2K).send();
    case "/204":
      return res.sendCode(204);
    case "/304":
      return res.setHeader("ETag", '"v1"').setHeader("Content-Type", "text/plain").sendCode(304);
    case "/206":
      return res.setStatus(206).setHeader("Content-Range", `bytes 0-${TEXT_2K.length - 1}/9999`).setText(TEXT_2K).send();
    case "/vary":
      return res.setHeader("Vary", "Origin").setText(TEXT_2K).send();
    case "/vary-star":
      return res.setHeader("Vary", "*").setText(TEXT_2K).send();
    case "/etag":
      return res.setHeader("ETag", '"abc"').setText(TEXT_2K).send();
    case "/declared-small": {
      res.setHeader("Content-Type", "text/plain").setHeader("Content-Length", 4);
      const out = res.stream();
      await out.write("tiny");
      return out.end();
    }
    case "/stream": {
      const out = res.setHeader("Content-Type", "text/plain").stream();
      for (let i = 0; i < 50; i++) await out.write(`line ${i} ${"x".repeat(100)}\n`);
      return out.end();
    }
    case "/iterable":
      return res
        .setHeader("Content-Type", "application/json")
        .setBody(
          (async function* () {
            for (let i = 0; i < 20; i++) yield Buffer.from(`${JSON.stringify({ i, text: "some text to compress" })}\n`);
          })(),
        )
        .send();
    case "/slow-reader": {
      // Random hex compresses about 2:1 and never to nothing: a paused client must stop the writes.
      const out = res.setHeader("Content-Type", "text/plain").stream();
      streamProgress.wrote = 0;
      streamProgress.done = false;
      for (let i = 0; i < 512; i++) {
        const at = (i * 7919 * 64) % (HEX.length - 64 * 1024);
        try {
          await out.write(HEX.subarray(at, at + 64 * 1024));
        } catch {
          break;
        }
        streamProgress.wrote += 64 * 1024;
      }
      streamProgress.done = true;
      return out.end();
    }
    case "/fail-mid-stream": {
      const out = res.setHeader("Content-Type", "text/plain").stream();
      await out.write(TEXT_2K);
      await out.write(TEXT_2K);
      midStreamFailure = new Error("the database went away mid-stream");
      throw midStreamFailure;
    }
    case "/events": {
      const events = res.sse({ heartbeatMs: 0 });
      for (let i = 0; i < sseGates.length; i++) {
        await events.send({ event: "n", id: String(i), data: `event ${i}` });
        await sseGates[i]!.promise;
      }
      return events.close();
    }
    default:
      return res.sendCode(404);
  }
};


beforeAll(async () => {
  server = await startServer("serve", compress()(app), { onResponse: (req, w) => void written.push({ path: req?.path ?? "", written: w }) });
});
afterAll(async () => {
  await server.close();
});

/** One request on a fresh connection; the parsed response. */
async function raw(path: string, headers: Record<string, string> = {}, method = "GET", version = "HTTP/1.1"): Promise<RawResponse> {
  const c = await server.connect();
  const fields = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  await c.write(`${method} ${path} ${version}\r\nHost: t\r\n${fields}\r\n`);
  const [r] = await c.responses(1, { heads: [method === "HEAD"] });
  c.destroy();
  return r!;
}

describe("Accept-Encoding negotiation (q-values)", () => {
  // [Accept-Encoding, coding chosen]; undefined: identity.
  const cases: [string | undefined, CompressCoding | undefined][] = [
    [undefined, undefined],
    ["", undefined],
    ["gzip", "gzip"],
    ["br", "br"],
    ["gzip, br", "br"],
    ["gzip, deflate, br, zstd", "br"],
    ["GZIP", "gzip"],
    ["x-gzip", "gzip"],
    ["br;q=0.5, gzip", "gzip"],
    ["br;q=0.8, gzip;q=0.8", "br"],
    ["br;q=0, gzip;q=0.1", "gzip"],
    ["br;q=0.001", "br"],
    ["*", "br"],
    ["*;q=0.5, br;q=0", "gzip"],
    ["*;q=0", undefined],
    ["*;q=0, gzip", "gzip"],
    ["identity", undefined],
    ["identity;q=0", undefined],
    ["identity;q=0, gzip", "gzip"],
    ["gzip;q=0.5, identity;q=1", undefined],
    ["gzip;q=1, identity;q=0.5", "gzip"],
    ["gzip, identity;q=1", "gzip"],
    ["gzip;q=0.5, *;q=1", "br"],
    ["deflate", undefined],
    ["compress, deflate", undefined],
    ["gzip;q=2", undefined],
    ["gzip;q=abc", undefined],
    ["gzip;q=0.5;foo=bar", "gzip"],
    ["gzip;q=0, gzip;q=1", undefined],
    [" , ,gzip , ", "gzip"],
    ["br;Q=0.9,gzip;q=1.000", "gzip"],
  ];

  it.each(cases)("Accept-Encoding: %j → %s (negotiateCoding)", (accept, expected) => {
    expect(negotiateCoding(accept === undefined ? [] : [accept], ["br", "gzip"])).toBe(expected);
  });

  it.each(cases)("Accept-Encoding: %j → %s (over a socket, decoded)", async (accept, expected) => {
    const r = await raw("/text", accept === undefined ? {} : { "Accept-Encoding": accept });
    expect(r.status).toBe(200);
    expect(header(r, "content-encoding")).toBe(expected);
    expect(header(r, "vary")).toBe("Accept-Encoding");
    expect(decode(expected, r.body).toString()).toBe(TEXT_2K);
  });

  it("several Accept-Encoding lines are one list", () => {
    expect(negotiateCoding(["gzip;q=0.5", "br;q=0.9"], ["br", "gzip"])).toBe("br");
    expect(negotiateCoding(["br;q=0"], ["br", "gzip"])).toBeUndefined();
  });

  it("the server's order breaks ties", () => {
    expect(negotiateCoding(["gzip, br"], ["gzip", "br"])).toBe("gzip");
  });
});

describe("skip rules: Vary always, the body untouched", () => {
  it.each([
    ["/small", "under the 1 KiB threshold"],
    ["/png", "image/png (mime-db: not compressible)"],
    ["/octets", "application/octet-stream"],
    ["/no-type", "no Content-Type"],
    ["/no-transform", "Cache-Control: no-transform"],
    ["/206", "206 with Content-Range"],
    ["/declared-small", "a stream declaring a Content-Length under the threshold"],
  ])("%s: %s", async (path) => {
    const r = await raw(path, { "Accept-Encoding": "br, gzip" });
    expect(header(r, "content-encoding")).toBeUndefined();
    expect(headerAll(r, "vary")).toEqual(["Accept-Encoding"]);
  });

  it("a response that already has a Content-Encoding is passed through as it is", async () => {
    const r = await raw("/encoded", { "Accept-Encoding": "br, gzip" });
    expect(headerAll(r, "content-encoding")).toEqual(["gzip"]);
    expect(r.body.equals(ALREADY_ENCODED)).toBe(true);
  });

  it("HEAD: the identity head (Content-Length of the plain body), Vary, no Content-Encoding", async () => {
    const r = await raw("/text", { "Accept-Encoding": "br" }, "HEAD");
    expect([r.status, header(r, "content-encoding"), header(r, "vary"), header(r, "content-length")]).toEqual([200, undefined, "Accept-Encoding", String(TEXT_2K.length)]);
    expect(r.rawBody.length).toBe(0);
  });

  it("204 and 304 carry Vary and no body; a 304 for a compressible type gets the weak ETag a compressed 200 would", async () => {
    const r204 = await raw("/204", { "Accept-Encoding": "br" });
    expect([r204.status, header(r204, "content-encoding"), header(r204, "vary")]).toEqual([204, undefined, "Accept-Encoding"]);
    const r304 = await raw("/304", { "Accept-Encoding": "br" });
    expect([r304.status, header(r304, "content-encoding"), header(r304, "vary"), header(r304, "etag")]).toEqual([304, undefined, "Accept-Encoding", 'W/"v1"']);
    const plain304 = await raw("/304");
    expect(header(plain304, "etag")).toBe('"v1"');
  });

  it("Vary is appended to an existing one, and not added when Vary: * covers it", async () => {
    const r = await raw("/vary", { "Accept-Encoding": "gzip" });
    expect(headerAll(r, "vary")).toEqual(["Origin", "Accept-Encoding"]);
    const star = await raw("/vary-star", { "Accept-Encoding": "gzip" });
    expect(headerAll(star, "vary")).toEqual(["*"]);
    expect(header(star, "content-encoding")).toBe("gzip");
  });

  it("a strong ETag becomes weak on a compressed response, and stays strong on the identity one", async () => {
    expect(header(await raw("/etag", { "Accept-Encoding": "br" }), "etag")).toBe('W/"abc"');
    expect(header(await raw("/etag"), "etag")).toBe('"abc"');
  });

  it("which types are compressible", () => {
    const yes = ["text/html; charset=utf-8", "application/json", "text/css", "image/svg+xml", "text/event-stream", "application/problem+json", "application/vnd.api+json", "text/x-whatever"];
    const no = ["image/png", "image/jpeg", "video/mp4", "audio/mpeg", "application/zip", "application/gzip", "font/woff2", "application/octet-stream", "application/x-unknown"];
    for (const t of yes) expect([t, isCompressibleType(t)]).toEqual([t, true]);
    for (const t of no) expect([t, isCompressibleType(t)]).toEqual([t, false]);
    expect(isCompressibleType(undefined)).toBe(false);
  });
});

describe("whole bodies", () => {
  it.each(["br", "gzip"] as const)("%s: Content-Length is the compressed length, Content-Encoding set, and ResponseWritten counts wire bytes", async (coding) => {
    written.length = 0;
    const r = await raw("/json", { "Accept-Encoding": coding });
    expect([r.framing, header(r, "content-encoding")]).toEqual(["content-length", coding]);
    expect(Number(header(r, "content-length"))).toBe(r.body.length);
    expect(decode(coding, r.body).toString()).toBe(BIG_JSON);
    expect(r.body.length).toBeLessThan(BIG_JSON.length / 4);
    await until(() => written.some((w) => w.path === "/json"));
    const w = written.find((x) => x.path === "/json")!.written;
    expect([w.outcome, w.headBytes, w.bodyBytes, w.bytesWritten]).toEqual(["complete", r.head.length, r.body.length, r.raw.length]);
  });

  it("Node's fetch decodes them (br and gzip; its default Accept-Encoding)", async () => {
    for (const accept of ["br", "gzip", undefined]) {
      const res = await fetch(`${server.url}/json`, accept === undefined ? {} : { headers: { "Accept-Encoding": accept } });
      expect(res.headers.get("content-encoding")).toBe(accept ?? "gzip");
      expect(await res.text()).toBe(BIG_JSON);
    }
  });

  it("a big body (above syncLimit, compressed off the event loop) and many at once", async () => {
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(`${server.url}/json`, { headers: { "Accept-Encoding": i % 2 ? "br" : "gzip" } }).then((r) => r.text())));
    for (const text of many) expect(text).toBe(BIG_JSON);
  });

  it.skipIf(noCurl)("curl --compressed", async () => {
    const r = await curl(["--compressed", "-D", "-", `${server.url}/json`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/content-encoding: (br|gzip)\r\n/i);
    expect(r.stdout).toMatch(/vary: Accept-Encoding\r\n/i);
    expect(r.stdout.slice(r.stdout.indexOf("\r\n\r\n") + 4)).toBe(BIG_JSON);
  });
});

describe("streamed bodies", () => {
  it.each(["br", "gzip"] as const)("%s: chunked, no Content-Length, decodes to what was written (stream() and an async iterable)", async (coding) => {
    const r = await raw("/stream", { "Accept-Encoding": coding });
    expect([r.framing, header(r, "content-encoding"), header(r, "content-length"), header(r, "transfer-encoding")]).toEqual(["chunked", coding, undefined, "chunked"]);
    const expected = Array.from({ length: 50 }, (_, i) => `line ${i} ${"x".repeat(100)}\n`).join("");
    expect(decode(coding, r.body).toString()).toBe(expected);
    const it2 = await raw("/iterable", { "Accept-Encoding": coding });
    expect(header(it2, "content-encoding")).toBe(coding);
    expect(decode(coding, it2.body).toString().split("\n").length).toBe(21);
  });

  it("HTTP/1.0: close-delimited, compressed", async () => {
    const c = await server.connect();
    await c.write("GET /stream HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
    await c.waitEnded();
    const [r] = await c.responses(1);
    expect([r!.framing, header(r!, "content-encoding")]).toEqual(["close", "gzip"]);
    expect(gunzipSync(r!.body).toString()).toContain("line 49");
  });

  it("curl and fetch decode a stream", async () => {
    const res = await fetch(`${server.url}/stream`, { headers: { "Accept-Encoding": "br" } });
    expect((await res.text()).split("\n").length).toBe(51);
    if (noCurl) return;
    const r = await curl(["--compressed", `${server.url}/stream`]);
    expect(r.stdout.split("\n").length).toBe(51);
  });

  it("backpressure: a client that stops reading stops the handler's writes (memory bounded); it then gets every byte", async () => {
    const c = await server.connect();
    c.pauseReading();
    await c.write("GET /slow-reader HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
    // Wait until the writes stop (they must), then check they stay stopped.
    let stalledAt = -1;
    for (let tries = 0; tries < 50 && streamProgress.wrote !== stalledAt; tries++) {
      stalledAt = streamProgress.wrote;
      await sleep(200);
    }
    await sleep(300);
    // 32 MiB would be written without backpressure; socket buffers hold a few MiB of
    // compressed output at most (about twice that in input, at this ratio).
    expect(streamProgress.done).toBe(false);
    expect(streamProgress.wrote).toBe(stalledAt);
    expect(stalledAt).toBeLessThan(16 * 1024 * 1024);
    c.resumeReading();
    const [r] = await c.responses(1, {}, 30_000);
    expect(streamProgress.done).toBe(true);
    expect(gunzipSync(r!.body).length).toBe(512 * 64 * 1024);
    c.destroy();
  }, 40_000);

  it("an error in the middle of a compressed stream: outcome error, the body cut short, the server serves on", async () => {
    written.length = 0;
    const c = await server.connect();
    await c.write("GET /fail-mid-stream HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br\r\n\r\n");
    await c.waitEnded();
    expect(c.text).toMatch(/content-encoding: br\r\n/i);
    expect(c.text).not.toContain("\r\n0\r\n\r\n");
    await until(() => written.some((w) => w.path === "/fail-mid-stream"));
    const w = written.find((x) => x.path === "/fail-mid-stream")!.written;
    expect([w.outcome, w.error]).toEqual(["error", midStreamFailure]);
    expect(w.bytesWritten).toBe(c.receivedBytes);
    // Said once, at error level, with the request line and what was written (response-report.ts).
    expect(server.log.errors.filter((e) => e.message.includes("/fail-mid-stream")).map((e) => e.message)).toEqual([
      expect.stringMatching(/^tophat: the response to GET "\/fail-mid-stream" failed after its head was sent \(error\): status 200, \d+ bytes written/),
    ]);
    const after = await raw("/text", { "Accept-Encoding": "gzip" });
    expect(gunzipSync(after.body).toString()).toBe(TEXT_2K);
  });

  it("a client that leaves in the middle: outcome client-closed, no crash", async () => {
    written.length = 0;
    const c = await server.connect();
    await c.write("GET /slow-reader HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br\r\n\r\n");
    await c.waitFor((b) => b.length > 100_000, "some of the body");
    c.destroy();
    await until(() => written.some((w) => w.path === "/slow-reader"), "the response's report", 10_000);
    expect(written.find((x) => x.path === "/slow-reader")!.written.outcome).toBe("client-closed");
    expect((await raw("/small")).status).toBe(200);
  });
});

describe("server-sent events", () => {
  it.each(["br", "gzip"] as const)("%s: each event reaches the client, decoded, before the next is sent", async (coding) => {
    for (const g of sseGates.splice(0)) g.open();
    sseGates.push(gate(), gate(), gate());
    const c = await server.connect();
    await c.write(`GET /events HTTP/1.1\r\nHost: t\r\nAccept-Encoding: ${coding}\r\n\r\n`);
    await c.waitForText("\r\n\r\n");
    expect(c.text).toMatch(new RegExp(`content-encoding: ${coding}\\r\\n`, "i"));
    expect(c.text).toMatch(/transfer-encoding: chunked\r\n/i);
    // Decode the chunked body as it arrives, with a streaming decoder.
    const decoder = coding === "br" ? createBrotliDecompress() : createGunzip();
    let text = "";
    decoder.on("data", (d: Buffer) => (text += d.toString()));
    let fed = 0;
    const feed = (): void => {
      const body = c.received.subarray(c.received.indexOf("\r\n\r\n") + 4);
      // De-chunk what is complete so far.
      let at = 0;
      const data: Buffer[] = [];
      for (;;) {
        const lineEnd = body.indexOf("\r\n", at);
        if (lineEnd < 0) break;
        const size = parseInt(body.subarray(at, lineEnd).toString(), 16);
        if (body.length < lineEnd + 2 + size + 2) break;
        data.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      const all = Buffer.concat(data);
      if (all.length > fed) decoder.write(all.subarray(fed));
      fed = all.length;
    };
    for (let i = 0; i < 3; i++) {
      const deadline = Date.now() + 5_000;
      while (!text.includes(`data: event ${i}\n\n`)) {
        if (Date.now() > deadline) throw new Error(`event ${i} did not arrive; decoded so far ${JSON.stringify(text)}`);
        feed();
        await sleep(10);
      }
      expect(text).not.toContain(`event ${i + 1}`);
      sseGates[i]!.open();
    }
    await c.waitForText("\r\n0\r\n\r\n");
    c.destroy();
  });

  it("Node's fetch reads compressed events one by one", async () => {
    sseGates.splice(0, sseGates.length, gate(), gate(), gate());
    const res = await fetch(`${server.url}/events`, { headers: { "Accept-Encoding": "br" } });
    expect(res.headers.get("content-encoding")).toBe("br");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    for (let i = 0; i < 3; i++) {
      while (!text.includes(`data: event ${i}\n\n`)) {
        const r = await reader.read();
        if (r.done) throw new Error(`ended before event ${i}`);
        text += r.value;
      }
      sseGates[i]!.open();
    }
    while (!(await reader.read()).done);
  });
});

describe("with serveStatic", () => {
  let fx: StaticFixture;
  let site: TestServer;
  beforeAll(async () => {
    fx = makeStaticFixture(64 * 1024);
    site = await startServer("serve", compress()(serveStatic(fx.root, { precompressed: true })));
  });
  afterAll(async () => {
    await site.close();
    fx.remove();
  });
  const get = async (path: string, headers: Record<string, string>): Promise<RawResponse> => {
    const c = await site.connect();
    const fields = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    await c.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`);
    const [r] = await c.responses(1);
    c.destroy();
    return r!;
  };

  it("a precompressed sibling is sent as it is (one Content-Encoding, one Vary, its strong ETag)", async () => {
    const r = await get("/style.css", { "Accept-Encoding": "br" });
    expect([headerAll(r, "content-encoding"), headerAll(r, "vary")]).toEqual([["br"], ["Accept-Encoding"]]);
    expect(header(r, "etag")!.startsWith('"')).toBe(true);
    expect(brotliDecompressSync(r.body).toString()).toBe(fx.css);
  });

  it("a file without a sibling is compressed on the fly: chunked, weak ETag; If-None-Match with it → 304; 206 is not compressed", async () => {
    const text = "static text that compresses\n".repeat(200);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${fx.root}/long.txt`, text);
    const r = await get("/long.txt", { "Accept-Encoding": "gzip" });
    expect([r.framing, header(r, "content-encoding"), header(r, "content-length")]).toEqual(["chunked", "gzip", undefined]);
    expect(gunzipSync(r.body).toString()).toBe(text);
    const etag = header(r, "etag")!;
    expect(etag.startsWith('W/"')).toBe(true);
    const again = await get("/long.txt", { "Accept-Encoding": "gzip", "If-None-Match": etag });
    expect([again.status, header(again, "etag"), header(again, "vary")]).toEqual([304, etag, "Accept-Encoding"]);
    const range = await get("/long.txt", { "Accept-Encoding": "gzip", Range: "bytes=0-9" });
    expect([range.status, header(range, "content-encoding"), range.body.toString()]).toEqual([206, undefined, text.slice(0, 10)]);
    // If-Range with the weak ETag can't select a range (strong comparison): the whole file.
    const ifRange = await get("/long.txt", { "Accept-Encoding": "identity", Range: "bytes=0-9", "If-Range": etag });
    expect(ifRange.status).toBe(200);
  });

  it("random bytes (application/octet-stream) are not compressed", async () => {
    const r = await get("/big.bin", { "Accept-Encoding": "gzip, br" });
    expect([header(r, "content-encoding"), r.body.equals(fx.big)]).toEqual([undefined, true]);
  });
});

describe("the body-transform hook, composed", () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  /** An ETag middleware over the same hook: a strong ETag of the bytes it is given, and 304 when it matches. */
  const etag: Middleware = (next) => async (req, res) => {
    res.transformBody((head) =>
      head.kind !== "whole" || head.status !== 200
        ? undefined
        : {
            whole(body, h) {
              const tag = `"${createHash("sha1").update(body).digest("base64url")}"`;
              h.setHeader("ETag", tag);
              if (req.headers.get("if-none-match") !== tag) return body;
              h.setStatus(304);
              return new Uint8Array(0);
            },
          },
    );
    return next(req, res);
  };
  const text: Handler = async (_req, res) => res.setText(TEXT_2K).send();

  it("compress registered first (outermost): the ETag is of the compressed bytes, per coding, and 304 works", async () => {
    s = await startServer("serve", compose(compress(), etag)(text));
    const br = await fetch(`${s.url}/`, { headers: { "Accept-Encoding": "br" } });
    const gz = await fetch(`${s.url}/`, { headers: { "Accept-Encoding": "gzip" } });
    expect(await br.text()).toBe(TEXT_2K);
    expect(await gz.text()).toBe(TEXT_2K);
    const brTag = br.headers.get("etag")!;
    expect(brTag).not.toBe(gz.headers.get("etag"));
    const again = await fetch(`${s.url}/`, { headers: { "Accept-Encoding": "br", "If-None-Match": brTag } });
    expect([again.status, again.headers.get("etag"), again.headers.get("vary")]).toEqual([304, brTag, "Accept-Encoding"]);
  });

  it("a transform that throws on a whole body: nothing sent, the library's 500, the connection serves on", async () => {
    const failing: Middleware = (next) => (req, res) => {
      res.transformBody(() => ({
        whole() {
          throw new Error("transform broke");
        },
      }));
      return next(req, res);
    };
    s = await startServer("serve", failing(text));
    const c = await s.connect();
    await c.write("GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
    const [a, b] = await c.responses(2);
    expect([a!.status, b!.status]).toEqual([500, 500]);
    expect(s.log.errors.some((e) => (e.rest[0] as Error | undefined)?.message === "transform broke")).toBe(true);
    c.destroy();
  });

  it("a streamed body through two transforms, in registration order, with flush()", async () => {
    const upper: Middleware = (next) => (req, res) => {
      res.transformBody(() => ({ write: (c) => [Buffer.from(Buffer.from(c).toString().toUpperCase())], end: () => [] }));
      return next(req, res);
    };
    const seen: string[] = [];
    const spy: Middleware = (next) => (req, res) => {
      res.transformBody(() => ({ write: (c) => (seen.push(Buffer.from(c).toString()), [c]), end: () => [Buffer.from("!")] }));
      return next(req, res);
    };
    s = await startServer(
      "serve",
      compose(upper, spy)(async (_req, res) => {
        const out = res.setHeader("Content-Type", "text/plain").stream();
        await out.write("abc");
        await out.flush();
        await out.write("def");
        return out.end();
      }),
    );
    expect(await (await fetch(s.url)).text()).toBe("ABCDEF!");
    expect(seen).toEqual(["ABC", "DEF"]);
  });
});
