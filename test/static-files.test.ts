// serveStatic and sendFile over real sockets: Content-Type, validators and conditional
// requests (RFC 9110 §13), ranges (§14), HEAD, directories, dotfiles, Cache-Control,
// precompressed siblings and methods — with Node's fetch, raw TCP and curl.
import { readFileSync, utimesSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Router, sendFile, serveStatic, type ServeStaticOptions } from "../host/index.js";
import { curl, header, parseResponses, startServer, type RawResponse, type TestServer } from "./support/server-harness.js";
import { makeStaticFixture, type StaticFixture } from "./support/static-fixture.js";
import { skipWithout } from "./support/tools.js";

const noCurl = skipWithout("curl", "the static-file tests with curl");

let fx: StaticFixture;
const servers: TestServer[] = [];
let plain: TestServer;
/** A fixed mtime for hello.txt, so dates in the tests are known. */
const MTIME = Date.UTC(2024, 0, 15, 12, 30, 45) / 1000;
const LAST_MODIFIED = "Mon, 15 Jan 2024 12:30:45 GMT";

async function start(options: ServeStaticOptions = {}): Promise<TestServer> {
  const s = await startServer("serve", serveStatic(fx.root, options));
  servers.push(s);
  return s;
}

beforeAll(async () => {
  fx = makeStaticFixture(256 * 1024);
  utimesSync(path.join(fx.root, "hello.txt"), MTIME, MTIME);
  plain = await start();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  fx?.remove();
});

/** One raw request (Connection: close) with extra field lines; the parsed response. */
async function raw(server: TestServer, method: string, target: string, fields: Record<string, string> = {}): Promise<RawResponse> {
  const lines = Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const received = await server.rawRequest(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${lines}\r\n`);
  const [response] = parseResponses(received, { eof: true, heads: [method === "HEAD"] }).responses;
  if (!response) throw new Error(`no response: ${received.toString("latin1")}`);
  return response;
}

async function etagOf(server: TestServer, target: string): Promise<string> {
  const etag = (await fetch(`${server.url}${target}`)).headers.get("etag");
  if (etag === null) throw new Error("no ETag");
  return etag;
}

describe("a file: content type, validators, caching", () => {
  it("GET: 200 with the bytes, Content-Type from mime-db (charset for text), a strong ETag, Last-Modified, Accept-Ranges, Cache-Control", async () => {
    const res = await fetch(`${plain.url}/hello.txt`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(fx.hello);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("content-length")).toBe(String(fx.hello.length));
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.headers.get("last-modified")).toBe(LAST_MODIFIED);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("cache-control")).toBe("public, max-age=0");
    expect(res.headers.get("vary")).toBeNull();
  });

  it.each([
    ["/style.css", "text/css; charset=utf-8"],
    ["/index.html", "text/html; charset=utf-8"],
    ["/data.json", "application/json; charset=utf-8"],
    ["/big.bin", "application/octet-stream"],
    ["/no-extension", "application/octet-stream"],
  ])("%s is %s", async (target, type) => {
    const res = await fetch(`${plain.url}${target}`);
    await res.arrayBuffer();
    expect(res.headers.get("content-type")).toBe(type);
  });

  it("an empty file: 200 with Content-Length 0", async () => {
    const r = await raw(plain, "GET", "/empty.txt");
    expect([r.status, header(r, "content-length"), r.body.length]).toEqual([200, "0", 0]);
  });

  it("HEAD: the GET's fields (Content-Length included), no body", async () => {
    const get = await raw(plain, "GET", "/hello.txt");
    const head = await raw(plain, "HEAD", "/hello.txt");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    const fields = (r: RawResponse) => r.headers.filter(([k]) => k.toLowerCase() !== "date");
    expect(fields(head)).toEqual(fields(get));
  });

  it("Cache-Control options: maxAge and immutable; cacheControl false sends none", async () => {
    const long = await start({ maxAge: 31536000, immutable: true });
    expect((await fetch(`${long.url}/hello.txt`)).headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const none = await start({ cacheControl: false });
    expect((await fetch(`${none.url}/hello.txt`)).headers.get("cache-control")).toBeNull();
    expect(() => serveStatic(fx.root, { maxAge: -1 })).toThrow(/maxAge/);
  });

  it("the ETag changes when the file does", async () => {
    const before = await etagOf(plain, "/hello.txt");
    utimesSync(path.join(fx.root, "hello.txt"), MTIME + 1, MTIME + 1);
    try {
      expect(await etagOf(plain, "/hello.txt")).not.toBe(before);
    } finally {
      utimesSync(path.join(fx.root, "hello.txt"), MTIME, MTIME);
    }
    expect(await etagOf(plain, "/hello.txt")).toBe(before);
  });
});

describe("conditional requests (RFC 9110 §13.2.2)", () => {
  it("If-None-Match with the ETag → 304 with the validators and Cache-Control, no Content-Type or body", async () => {
    const etag = await etagOf(plain, "/hello.txt");
    for (const value of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
      const r = await raw(plain, "GET", "/hello.txt", { "If-None-Match": value });
      expect(r.status, value).toBe(304);
      expect(header(r, "etag")).toBe(etag);
      expect(header(r, "last-modified")).toBe(LAST_MODIFIED);
      expect(header(r, "cache-control")).toBe("public, max-age=0");
      expect(header(r, "content-type")).toBeUndefined();
      expect(r.body.length).toBe(0);
    }
    expect((await raw(plain, "HEAD", "/hello.txt", { "If-None-Match": etag })).status).toBe(304);
  });

  it("If-None-Match with other tags → 200", async () => {
    expect((await raw(plain, "GET", "/hello.txt", { "If-None-Match": '"other", W/"else"' })).status).toBe(200);
  });

  it("If-Modified-Since: not modified since → 304; modified since → 200; a bad date is ignored; all three date forms", async () => {
    const get = (value: string) => raw(plain, "GET", "/hello.txt", { "If-Modified-Since": value }).then((r) => r.status);
    expect(await get(LAST_MODIFIED)).toBe(304);
    expect(await get("Tue, 16 Jan 2024 00:00:00 GMT")).toBe(304);
    expect(await get("Monday, 15-Jan-24 12:30:45 GMT")).toBe(304);
    expect(await get("Mon Jan 15 12:30:45 2024")).toBe(304);
    expect(await get("Mon, 15 Jan 2024 12:30:44 GMT")).toBe(200);
    expect(await get("yesterday")).toBe(200);
    expect(await get("Mon, 31 Feb 2024 12:30:45 GMT")).toBe(200);
  });

  it("If-None-Match takes precedence over If-Modified-Since", async () => {
    const r = await raw(plain, "GET", "/hello.txt", { "If-None-Match": '"other"', "If-Modified-Since": LAST_MODIFIED });
    expect(r.status).toBe(200);
  });

  it("If-Match: the ETag or * → 200; another tag or the weak form → 412 (strong comparison)", async () => {
    const etag = await etagOf(plain, "/hello.txt");
    const status = (value: string) => raw(plain, "GET", "/hello.txt", { "If-Match": value }).then((r) => r.status);
    expect(await status(etag)).toBe(200);
    expect(await status(`"x", ${etag}`)).toBe(200);
    expect(await status("*")).toBe(200);
    expect(await status('"x"')).toBe(412);
    expect(await status(`W/${etag}`)).toBe(412);
  });

  it("If-Unmodified-Since: modified since → 412, not → 200; ignored when If-Match is present", async () => {
    const etag = await etagOf(plain, "/hello.txt");
    const status = (fields: Record<string, string>) => raw(plain, "GET", "/hello.txt", fields).then((r) => r.status);
    expect(await status({ "If-Unmodified-Since": "Mon, 15 Jan 2024 12:30:44 GMT" })).toBe(412);
    expect(await status({ "If-Unmodified-Since": LAST_MODIFIED })).toBe(200);
    expect(await status({ "If-Match": etag, "If-Unmodified-Since": "Mon, 01 Jan 2024 00:00:00 GMT" })).toBe(200);
  });

  it("412 before 304: a failed If-Match wins over a matching If-None-Match", async () => {
    const etag = await etagOf(plain, "/hello.txt");
    expect((await raw(plain, "GET", "/hello.txt", { "If-Match": '"x"', "If-None-Match": etag })).status).toBe(412);
  });

  it("preconditions are ignored where the answer isn't 2xx: a missing file is 404, a directory 301", async () => {
    expect((await raw(plain, "GET", "/missing.txt", { "If-Match": '"x"' })).status).toBe(404);
    expect((await raw(plain, "GET", "/sub", { "If-None-Match": "*" })).status).toBe(301);
  });

  it.skipIf(noCurl)("curl -z (If-Modified-Since): 304 with no body when not modified, 200 with the file otherwise", async () => {
    const notModified = await curl(["-i", "-z", LAST_MODIFIED, `${plain.url}/hello.txt`]);
    expect(notModified.stdout).toMatch(/^HTTP\/1\.1 304 /);
    expect(notModified.stdout).not.toContain(fx.hello);
    const modified = await curl(["-z", "Mon, 01 Jan 2024 00:00:00 GMT", `${plain.url}/hello.txt`]);
    expect(modified.stdout).toBe(fx.hello);
  });
});

describe("ranges (RFC 9110 §14)", () => {
  const big = () => fx.big;
  const size = () => fx.big.length;

  it.each([
    ["bytes=0-99", 0, 99],
    ["bytes=100-", 100, 256 * 1024 - 1],
    ["bytes=-10", 256 * 1024 - 10, 256 * 1024 - 1],
    ["bytes=0-0", 0, 0],
    ["bytes=5-999999999999", 5, 256 * 1024 - 1],
    ["BYTES = 7-8", 7, 8],
    ["bytes=0-5, 3-9", 0, 9],
    ["bytes=0-1,2-3", 0, 3],
    ["bytes=,0-1,", 0, 1],
  ])("%s → 206 with Content-Range and exactly those bytes", async (range, start, end) => {
    const r = await raw(plain, "GET", "/big.bin", { Range: range });
    expect(r.status).toBe(206);
    expect(header(r, "content-range")).toBe(`bytes ${start}-${end}/${size()}`);
    expect(header(r, "content-length")).toBe(String(end - start + 1));
    expect(r.body.equals(big().subarray(start, end + 1))).toBe(true);
  });

  it.each([
    ["bytes=262144-", "starts at the end"],
    ["bytes=999999-1000000", "starts past the end"],
    ["bytes=-0", "a zero suffix"],
    ["bytes=300000-, -0", "no range satisfiable"],
  ])("%s (%s) → 416 with Content-Range: bytes */size", async (range) => {
    const r = await raw(plain, "GET", "/big.bin", { Range: range });
    expect(r.status).toBe(416);
    expect(header(r, "content-range")).toBe(`bytes */${size()}`);
  });

  it("a range of an empty file → 416 bytes */0", async () => {
    const r = await raw(plain, "GET", "/empty.txt", { Range: "bytes=0-" });
    expect([r.status, header(r, "content-range")]).toEqual([416, "bytes */0"]);
  });

  it.each([
    ["bytes=5-1", "last before first: invalid"],
    ["bytes=abc", "not a range"],
    ["items=0-1", "another unit"],
    ["bytes=0-1, 10-20", "two ranges that don't coalesce: the whole file, no multipart"],
    ["bytes=", "no ranges"],
  ])("%s (%s) → 200 with the whole file", async (range) => {
    const r = await raw(plain, "GET", "/big.bin", { Range: range });
    expect(r.status).toBe(200);
    expect(header(r, "content-range")).toBeUndefined();
    expect(r.body.equals(big())).toBe(true);
  });

  it("HEAD ignores Range (only GET has range semantics): 200 with the full length", async () => {
    const r = await raw(plain, "HEAD", "/big.bin", { Range: "bytes=0-9" });
    expect([r.status, header(r, "content-length"), header(r, "content-range")]).toEqual([200, String(size()), undefined]);
  });

  it("If-Range: the current ETag or Last-Modified → 206; an old or weak tag, or another date → 200", async () => {
    const etag = await etagOf(plain, "/hello.txt");
    const status = (ifRange: string) => raw(plain, "GET", "/hello.txt", { Range: "bytes=0-4", "If-Range": ifRange }).then((r) => [r.status, r.body.toString()]);
    expect(await status(etag)).toEqual([206, "hello"]);
    expect(await status(LAST_MODIFIED)).toEqual([206, "hello"]);
    expect(await status('"old"')).toEqual([200, fx.hello]);
    expect(await status(`W/${etag}`)).toEqual([200, fx.hello]);
    expect(await status("Mon, 15 Jan 2024 12:30:46 GMT")).toEqual([200, fx.hello]);
    expect(await status("garbage")).toEqual([200, fx.hello]);
  });

  it("Range with If-None-Match matching → 304 (preconditions come first)", async () => {
    const etag = await etagOf(plain, "/hello.txt");
    expect((await raw(plain, "GET", "/hello.txt", { Range: "bytes=0-1", "If-None-Match": etag })).status).toBe(304);
  });

  it("fetch with a Range header", async () => {
    const res = await fetch(`${plain.url}/big.bin`, { headers: { Range: "bytes=1000-1999" } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(big().subarray(1000, 2000))).toBe(true);
  });

  it.skipIf(noCurl)("curl -r 0-99 and curl -I", async () => {
    const ranged = await curl(["-r", "0-99", "-D", "-", "-o", "/dev/null", `${plain.url}/big.bin`]);
    expect(ranged.stdout).toMatch(/^HTTP\/1\.1 206 /);
    expect(ranged.stdout).toMatch(new RegExp(`content-range: bytes 0-99/${size()}`, "i"));
    const body = await curl(["-r", "0-99", `${plain.url}/hello.txt`]);
    expect(body.stdout).toBe(fx.hello);
    const head = await curl(["-I", `${plain.url}/big.bin`]);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.stdout).toMatch(new RegExp(`content-length: ${size()}\\r\\n`, "i"));
    expect(head.stdout).toMatch(/accept-ranges: bytes/i);
  });
});

describe("directories, index files, dotfiles", () => {
  it("a directory without its slash → 301 to it with the slash, query kept", async () => {
    const r = await raw(plain, "GET", "/sub?a=1&b=%20");
    expect([r.status, header(r, "location")]).toEqual([301, "/sub/?a=1&b=%20"]);
    const res = await fetch(`${plain.url}/sub`);
    expect(res.url).toBe(`${plain.url}/sub/`);
    expect(await res.text()).toContain("sub index");
  });

  it("/ and /sub/ serve index.html; a directory without one is 404 (no listings); index: false turns it off", async () => {
    expect(await (await fetch(`${plain.url}/`)).text()).toContain("root index");
    expect((await raw(plain, "GET", "/no-index/")).status).toBe(404);
    const noIndex = await start({ index: false });
    expect((await raw(noIndex, "GET", "/")).status).toBe(404);
    const otherIndex = await start({ index: ["page.txt"] });
    expect((await raw(otherIndex, "GET", "/sub/")).body.toString()).toBe("a page in sub\n");
  });

  it("redirect: false → a directory without its slash is 404", async () => {
    expect((await raw(await start({ redirect: false }), "GET", "/sub")).status).toBe(404);
  });

  it("dotfiles: ignore (default) → 404, deny → 403, allow → served", async () => {
    expect((await raw(plain, "GET", "/.env")).status).toBe(404);
    const deny = await start({ dotfiles: "deny" });
    expect((await raw(deny, "GET", "/.env")).status).toBe(403);
    expect((await raw(deny, "GET", "/.hidden/inner.txt")).status).toBe(403);
    const allow = await start({ dotfiles: "allow" });
    expect((await raw(allow, "GET", "/.hidden/inner.txt")).body.toString()).toContain(fx.secret);
  });

  it("a FIFO is not served, and doesn't hang the request", async (ctx) => {
    if (!fx.hasFifo) ctx.skip();
    expect((await raw(plain, "GET", "/fifo")).status).toBe(404);
  });

  it("a root that doesn't exist throws at start-up", () => {
    expect(() => serveStatic(path.join(fx.base, "nope"))).toThrow(/can't be resolved/);
    expect(() => serveStatic(path.join(fx.root, "hello.txt"))).toThrow(/not a directory/);
  });
});

describe("precompressed siblings", () => {
  let pre: TestServer;
  beforeAll(async () => {
    pre = await start({ precompressed: true });
  });

  it("Accept-Encoding gzip → the .gz sibling with Content-Encoding, the original's type, Vary, its own ETag", async () => {
    const identity = await raw(pre, "GET", "/style.css");
    const r = await raw(pre, "GET", "/style.css", { "Accept-Encoding": "gzip" });
    expect(header(r, "content-encoding")).toBe("gzip");
    expect(header(r, "content-type")).toBe("text/css; charset=utf-8");
    expect(header(r, "vary")).toBe("Accept-Encoding");
    expect(gunzipSync(r.body).toString()).toBe(fx.css);
    expect(header(r, "etag")).not.toBe(header(identity, "etag"));
    expect(header(identity, "vary")).toBe("Accept-Encoding");
    expect(header(identity, "content-encoding")).toBeUndefined();
    expect(identity.body.toString()).toBe(fx.css);
  });

  it.each([
    ["gzip, deflate, br", "br"],
    ["br;q=0.5, gzip", "gzip"],
    ["br;q=0, gzip;q=0.1", "gzip"],
    ["*", "br"],
    ["*;q=0.5, br;q=0", "gzip"],
    ["x-gzip", "gzip"],
    ["identity", undefined],
    ["gzip;q=0.5, identity;q=1", undefined],
    ["deflate", undefined],
  ])("Accept-Encoding: %s → %s", async (accept, coding) => {
    const r = await raw(pre, "GET", "/style.css", { "Accept-Encoding": accept });
    expect(header(r, "content-encoding")).toBe(coding);
  });

  it("a file without siblings is sent as is, still with Vary", async () => {
    const r = await raw(pre, "GET", "/hello.txt", { "Accept-Encoding": "gzip, br" });
    expect([header(r, "content-encoding"), header(r, "vary"), r.body.toString()]).toEqual([undefined, "Accept-Encoding", fx.hello]);
  });

  it("off by default", async () => {
    const r = await raw(plain, "GET", "/style.css", { "Accept-Encoding": "gzip, br" });
    expect([header(r, "content-encoding"), header(r, "vary")]).toEqual([undefined, undefined]);
  });

  it("fetch decodes the br and gzip siblings", async () => {
    expect(await (await fetch(`${pre.url}/style.css`, { headers: { "Accept-Encoding": "br" } })).text()).toBe(fx.css);
    expect(await (await fetch(`${pre.url}/style.css`, { headers: { "Accept-Encoding": "gzip" } })).text()).toBe(fx.css);
  });

  it.skipIf(noCurl)("curl --compressed gets the sibling and decodes it", async () => {
    const headFile = path.join(fx.base, "curl-head.txt");
    const r = await curl(["--compressed", "-D", headFile, `${pre.url}/style.css`]);
    expect(r.stdout).toBe(fx.css);
    expect(readFileSync(headFile, "latin1")).toMatch(/content-encoding: (br|gzip)\r\n/i);
  });
});

describe("methods and the Router", () => {
  it("POST, PUT, DELETE → 405 with Allow: GET, HEAD", async () => {
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      const r = await raw(plain, method, "/hello.txt", { "Content-Length": "0" });
      expect([r.status, header(r, "allow")], method).toEqual([405, "GET, HEAD"]);
    }
  });

  it("behind Router.get, HEAD runs it and POST gets the router's 405", async () => {
    const s = await startServer("serve", new Router().get("/assets/*path", serveStatic(fx.root)).route);
    servers.push(s);
    expect((await raw(s, "HEAD", "/assets/hello.txt")).status).toBe(200);
    const post = await raw(s, "POST", "/assets/hello.txt", { "Content-Length": "0" });
    expect([post.status, header(post, "allow")]).toEqual([405, "GET, HEAD, OPTIONS"]);
  });

  it("param names the catch-all when the route has several parameters", async () => {
    const s = await startServer("serve", new Router().get("/:version/*file", serveStatic(fx.root, { param: "file" })).route);
    servers.push(s);
    expect((await raw(s, "GET", "/v1/sub/page.txt")).body.toString()).toBe("a page in sub\n");
  });
});

describe("sendFile(req, res, path, options)", () => {
  let s: TestServer;
  beforeAll(async () => {
    const router = new Router()
      .get("/report", async (req, res) => {
        res.setHeader("Content-Disposition", 'attachment; filename="hello.txt"');
        return sendFile(req, res, path.join(fx.root, "hello.txt"), { maxAge: 60, contentType: "text/x-report; charset=utf-8" });
      })
      .get("/outside", async (req, res) => sendFile(req, res, path.join(fx.base, "secret.txt")))
      .get("/missing", async (req, res) => sendFile(req, res, path.join(fx.base, "nope.txt")))
      .get("/dir", async (req, res) => sendFile(req, res, fx.root));
    s = await startServer("serve", router.route);
    servers.push(s);
  });

  it("sends the file with the handler's fields, the options, validators and ranges", async () => {
    const r = await raw(s, "GET", "/report");
    expect(r.status).toBe(200);
    expect(header(r, "content-disposition")).toBe('attachment; filename="hello.txt"');
    expect(header(r, "content-type")).toBe("text/x-report; charset=utf-8");
    expect(header(r, "cache-control")).toBe("public, max-age=60");
    expect(r.body.toString()).toBe(fx.hello);
    expect((await raw(s, "GET", "/report", { "If-None-Match": header(r, "etag")! })).status).toBe(304);
    expect((await raw(s, "GET", "/report", { Range: "bytes=-6" })).body.toString()).toBe("world\n");
  });

  it("the path is the application's: not confined to any root", async () => {
    expect((await raw(s, "GET", "/outside")).body.toString()).toContain(fx.secret);
  });

  it("a missing file or a directory is a 404", async () => {
    expect((await raw(s, "GET", "/missing")).status).toBe(404);
    expect((await raw(s, "GET", "/dir")).status).toBe(404);
  });
});
