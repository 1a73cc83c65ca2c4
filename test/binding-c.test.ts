// The C binding (bindings/c): built with its Makefile into a temporary directory, then
// - every corpus case (the three third-party corpora and the fuzz corpus) goes through
//   parse-head, chunked bodies through decode, and framer cases through frame-head,
//   chunk-size-line and last-chunk, in the C binding (its conformance tool, over wasm2c's
//   C of the scalar core) and in the JS thin binding (Core.load(): the SIMD core); the
//   normalized outcomes must be identical, call by call;
// - a trap in the core (a test build that traps on method TRAP) is reported as a trap and
//   the next call works;
// - the example server is driven by curl (keep-alive, chunked upload) and by raw sockets
//   (pipelining, a refused request, a head arriving in pieces).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Core,
  DEFAULT_LIMITS,
  mayEndHead,
  type ChunkedState,
  type Field,
  type Limits,
  type RequestContext,
  type ResponseHead,
} from "../host/core.js";
import { bytesOf, loadCorpora, loadFuzzHeads, repoRoot, withHost } from "./support/corpora.js";
import { normalizeChunked, normalizeFrame, normalizeParse, normalizeTrailer, bytesText } from "./support/normalize.js";
import { skipWithout } from "./support/tools.js";

const WHO = "test/binding-c.test.ts";
// Evaluated in this order so each absent tool is named (and fails under CI=true).
const missing = [skipWithout("gcc", WHO), skipWithout("make", WHO), skipWithout("wabt", WHO)].some(Boolean);
const noCurl = missing || skipWithout("curl", WHO);

const cDir = path.join(repoRoot, "bindings", "c");
let tmp = "";
let build = "";

/** Runs make in bindings/c with the given variables; throws with make's output on failure. */
function make(vars: Record<string, string>, targets: string[] = []): void {
  const args = ["-C", cDir, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ...targets];
  const r = spawnSync("make", args, { encoding: "utf8", timeout: 300_000 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`make ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

beforeAll(() => {
  if (missing) return;
  tmp = mkdtempSync(path.join(os.tmpdir(), "tophat-c-"));
  build = path.join(tmp, "build");
  // -Werror: the binding, the example and the tool must build warning-free. TOPHAT_C_CFLAGS
  // adds flags, e.g. "-fsanitize=address,undefined -fno-sanitize-recover=all" to run the
  // whole file under sanitizers (a report makes the tool or the server exit non-zero).
  make({ BUILD: build, CFLAGS: `-O1 -g -Werror ${process.env["TOPHAT_C_CFLAGS"] ?? ""}` });
}, 300_000);

afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

// ---- the conformance tool's input format (see bindings/c/tests/corpus.c) ------------------

const hex = (b: Uint8Array | string): string =>
  "x" + Buffer.from(typeof b === "string" ? new TextEncoder().encode(b) : b).toString("hex");
const limitsArgs = (l: Limits): string => `${l.maxHeadBytes} ${l.maxHeaders} ${l.maxTargetLength} ${l.maxChunkExtensionLength}`;
const fieldArgs = (fields: readonly Field[]): string =>
  [String(fields.length), ...fields.flatMap((f) => [hex(f.name), hex(f.value)])].join(" ");

/** One call: the line for the C tool and the JS binding's normalized outcome. */
interface Call {
  what: string;
  line: string;
  expected: unknown;
}

/** Runs the calls through the C tool (one process) and returns the mismatches. */
function runC(tool: string, calls: readonly Call[]): { what: string; c: unknown; js: unknown }[] {
  const input = calls.map((c) => c.line).join("\n") + "\n";
  const r = spawnSync(tool, [], { input, encoding: "utf8", maxBuffer: 1 << 30, timeout: 120_000 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`${tool} exited ${r.status}: ${r.stderr}`);
  const out = r.stdout.split("\n");
  expect(out.length).toBe(calls.length + 1); // the last line ends with "\n"
  const bad: { what: string; c: unknown; js: unknown }[] = [];
  calls.forEach((call, i) => {
    const c: unknown = JSON.parse(out[i]!);
    if (JSON.stringify(sortKeys(c)) !== JSON.stringify(sortKeys(call.expected))) bad.push({ what: call.what, c, js: call.expected });
  });
  return bad;
}

/** A copy with object keys sorted, so equal outcomes print equal whatever the key order. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== "object" || v === null) return v;
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return Object.fromEntries(entries.map(([k, x]) => [k, sortKeys(x)]));
}

const SMALL: Limits = { maxHeadBytes: 64, maxHeaders: 3, maxTargetLength: 16, maxChunkExtensionLength: 8 };
const INITIAL: ChunkedState = { phase: "size-line", remaining: 0n, trailerBytes: 0, trailerCount: 0 };

function parseCall(core: Core, what: string, bytes: Uint8Array, limits: Limits): Call {
  return { what, line: `parse ${limitsArgs(limits)} ${hex(bytes)}`, expected: normalizeParse(core.parseHead(bytes, limits)) };
}

function decodeCall(core: Core, what: string, bytes: Uint8Array, state: ChunkedState, limits: Limits): Call {
  const line = `decode ${state.phase} ${state.remaining} ${state.trailerBytes} ${state.trailerCount} ${limitsArgs(limits)} ${hex(bytes)}`;
  return { what, line, expected: normalizeChunked(core.decodeChunked(bytes, state, limits)) };
}

/**
 * The calls for one request stream: parse-head on it (default and small limits), on two
 * prefixes (incomplete's search-from), th_may_end_head at three offsets, and, when the
 * head is complete and chunked, decode of the rest in one piece and in two.
 */
function streamCalls(core: Core, id: string, raw: Uint8Array): Call[] {
  const calls: Call[] = [];
  for (const [name, limits] of [["default", DEFAULT_LIMITS], ["small", SMALL]] as const) {
    calls.push(parseCall(core, `${id} (${name} limits)`, raw, limits));
  }
  for (const k of [raw.length >> 1, raw.length - 1]) {
    if (k > 0) calls.push(parseCall(core, `${id} (first ${k} bytes)`, raw.subarray(0, k), DEFAULT_LIMITS));
  }
  for (const from of [0, 1, raw.length >> 1]) {
    calls.push({ what: `${id} may-end from ${from}`, line: `may-end ${from} ${hex(raw)}`, expected: mayEndHead(raw, from) });
  }
  const parsed = core.parseHead(raw, DEFAULT_LIMITS);
  if (parsed.tag === "complete" && parsed.val.body.tag === "chunked") {
    const body = raw.subarray(parsed.val.headLength);
    for (const [name, limits] of [["default", DEFAULT_LIMITS], ["small", SMALL]] as const) {
      calls.push(decodeCall(core, `${id} body (${name} limits)`, body, INITIAL, limits));
    }
    // Two pieces: the second call gets what the first left, then the rest.
    const half = body.length >> 1;
    const first = core.decodeChunked(body.subarray(0, half), INITIAL, DEFAULT_LIMITS);
    calls.push(decodeCall(core, `${id} body first half`, body.subarray(0, half), INITIAL, DEFAULT_LIMITS));
    if (first.tag === "progress") {
      const rest = body.subarray(first.val.consumed);
      calls.push(decodeCall(core, `${id} body second call`, rest, first.val.state, DEFAULT_LIMITS));
    }
  }
  return calls;
}

function frameCall(core: Core, what: string, response: ResponseHead, request: RequestContext, date?: string): Call {
  const opt = (v: string | undefined) => (v === undefined ? "-" : hex(v));
  const length = response.bodyLength === undefined ? "-" : BigInt(response.bodyLength).toString();
  const flags = `${request.head ? 1 : 0} ${request.http10 ? 1 : 0} ${request.close ? 1 : 0} ${request.connect === true ? 1 : 0}`;
  const line = `frame ${response.status} ${opt(response.reason)} ${length} ${flags} ${opt(date)} ${fieldArgs(response.headers)}`;
  return { what, line, expected: normalizeFrame(core.frameHead(response, request, date)) };
}

const DATE = "Sun, 06 Nov 1994 08:49:37 GMT";
const CT: Field = { name: "Content-Type", value: "text/plain" };

function framerCalls(core: Core): Call[] {
  const contexts: [string, RequestContext][] = [
    ["1.1", { head: false, http10: false, close: false }],
    ["HEAD", { head: true, http10: false, close: false }],
    ["1.0", { head: false, http10: true, close: false }],
    ["close", { head: false, http10: false, close: true }],
    ["1.0 HEAD close", { head: true, http10: true, close: true }],
    ["CONNECT", { head: false, http10: false, close: false, connect: true }],
    ["CONNECT, 1.0 close", { head: false, http10: true, close: true, connect: true }],
  ];
  const responses: [string, ResponseHead][] = [
    ["200 known", { status: 200, headers: [CT], bodyLength: 5 }],
    ["200 empty", { status: 200, headers: [], bodyLength: 0 }],
    ["200 streamed", { status: 200, headers: [CT], bodyLength: undefined }],
    ["200 app keep-alive", { status: 200, headers: [{ name: "Connection", value: "keep-alive" }], bodyLength: 2 }],
    ["201 reason", { status: 201, reason: "Made It", headers: [CT], bodyLength: 1 }],
    ["unicode reason", { status: 200, reason: "Ökay ✓", headers: [], bodyLength: 0 }],
    ["unicode value", { status: 200, headers: [{ name: "X-Name", value: "Zoë 東京" }], bodyLength: 0 }],
    ["204", { status: 204, headers: [], bodyLength: 0 }],
    ["204 with body", { status: 204, headers: [], bodyLength: 3 }],
    ["304", { status: 304, headers: [{ name: "ETag", value: '"x"' }], bodyLength: 0 }],
    ["100", { status: 100, headers: [], bodyLength: 0 }],
    ["101 upgrade", { status: 101, headers: [{ name: "Upgrade", value: "websocket" }, { name: "Connection", value: "upgrade" }], bodyLength: 0 }],
    ["404", { status: 404, headers: [CT], bodyLength: 10 }],
    ["500 own date", { status: 500, headers: [{ name: "Date", value: "x" }], bodyLength: 0 }],
    ["999", { status: 999, headers: [], bodyLength: 0 }],
    ["99", { status: 99, headers: [], bodyLength: 0 }],
    ["1000", { status: 1000, headers: [], bodyLength: 0 }],
    ["bad name", { status: 200, headers: [CT, { name: "Bad Name", value: "v" }], bodyLength: 0 }],
    ["empty name", { status: 200, headers: [{ name: "", value: "v" }], bodyLength: 0 }],
    ["bad value", { status: 200, headers: [{ name: "X", value: "a\r\nInjected: 1" }], bodyLength: 0 }],
    ["bad reason", { status: 200, reason: "OK\r\nX: y", headers: [], bodyLength: 0 }],
    ["content-length mismatch", { status: 200, headers: [{ name: "Content-Length", value: "4" }], bodyLength: 5 }],
    ["content-length field", { status: 200, headers: [{ name: "content-length", value: "5" }], bodyLength: 5 }],
    ["transfer-encoding field", { status: 200, headers: [{ name: "Transfer-Encoding", value: "chunked" }], bodyLength: undefined }],
    ["transfer-encoding gzip", { status: 200, headers: [{ name: "Transfer-Encoding", value: "gzip" }], bodyLength: undefined }],
    ["length 2^53", { status: 200, headers: [], bodyLength: 2 ** 53 }],
    ["length 2^53 - 1", { status: 200, headers: [], bodyLength: 2 ** 53 - 1 }],
    ["length 2^60", { status: 200, headers: [], bodyLength: 2 ** 60 }],
  ];
  const calls: Call[] = [];
  for (const [rname, response] of responses) {
    for (const [cname, request] of contexts) {
      calls.push(frameCall(core, `frame ${rname} / ${cname}`, response, request, DATE));
    }
    calls.push(frameCall(core, `frame ${rname} / no date`, response, contexts[0]![1]));
  }
  for (const size of [0, 1, 15, 16, 255, 4096, 2 ** 32, 2 ** 53 - 1]) {
    calls.push({ what: `chunk-size-line ${size}`, line: `chunk-size-line ${size}`, expected: bytesText(core.chunkSizeLine(size)) });
  }
  const trailerSets: Field[][] = [
    [],
    [{ name: "X-Checksum", value: "abc" }],
    [{ name: "A", value: "1" }, { name: "B", value: "ü" }],
    [{ name: "Bad Name", value: "1" }],
    [{ name: "X", value: "a\nb" }],
    [{ name: "Content-Length", value: "5" }],
  ];
  for (const t of trailerSets) {
    calls.push({ what: `last-chunk ${JSON.stringify(t)}`, line: `last-chunk ${fieldArgs(t)}`, expected: normalizeTrailer(core.lastChunk(t)) });
  }
  return calls;
}

describe.skipIf(missing)("the C binding gives the JS binding's outcomes", () => {
  const core = Core.load();

  it("on every case of the three corpora (parse-head, prefixes, may-end, chunked bodies)", () => {
    const calls: Call[] = [];
    for (const cases of Object.values(loadCorpora())) {
      for (const c of cases) {
        const id = `${c.corpus} ${c.id}`;
        calls.push(...streamCalls(core, id, c.raw));
        const hosted = withHost(c.raw, 0);
        if (hosted.injected) calls.push(...streamCalls(core, `${id} (+Host)`, hosted.bytes));
      }
    }
    expect(calls.length).toBeGreaterThan(5000);
    // Not vacuous: the corpora reach every outcome of parse-head and decode.
    const tags = new Set(calls.map((c) => (typeof c.expected === "object" && c.expected !== null && "tag" in c.expected ? String(c.expected.tag) : "")));
    expect([...tags].sort()).toEqual(["", "complete", "incomplete", "invalid", "progress"]);
    expect(runC(path.join(build, "corpus"), calls).slice(0, 5)).toEqual([]);
  });

  it("on every input of the fuzz corpus (fuzz/corpus/parse_head.json)", () => {
    const inputs = loadFuzzHeads();
    expect(inputs.length).toBeGreaterThan(1000);
    const calls = inputs.flatMap((bytes, i) => streamCalls(core, `fuzz[${i}]`, bytes));
    expect(runC(path.join(build, "corpus"), calls).slice(0, 5)).toEqual([]);
  });

  it("on framer cases: statuses, HEAD, HTTP/1.0, close, bad names and values, lengths, trailers", () => {
    const calls = framerCalls(core);
    const tags = new Set(calls.map((c) => JSON.stringify(c.expected).slice(0, 14)));
    expect(tags.size).toBeGreaterThan(2); // heads, frame errors and bytes all occur
    expect(runC(path.join(build, "corpus"), calls).slice(0, 5)).toEqual([]);
  });

  it("large inputs (a 4 MiB head, a 3 MiB chunk) get the same outcomes", () => {
    const bigHead = bytesOf(`GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(4 << 20)}\r\n\r\n`);
    const chunk = 3 << 20;
    const body = bytesOf(`${chunk.toString(16)}\r\n${"b".repeat(chunk)}\r\n0\r\n\r\n`);
    const calls = [
      parseCall(core, "4 MiB head", bigHead, DEFAULT_LIMITS),
      parseCall(core, "4 MiB head, 8 MiB limit", bigHead, { ...DEFAULT_LIMITS, maxHeadBytes: 8 << 20 }),
      decodeCall(core, "3 MiB chunk", body, INITIAL, DEFAULT_LIMITS),
    ];
    expect(runC(path.join(build, "corpus"), calls)).toEqual([]);
  });
});

describe("bindings/c/README.md", () => {
  it("quotes its C code verbatim from the example server (which these tests run)", () => {
    const readme = readFileSync(path.join(cDir, "README.md"), "utf8");
    const server = readFileSync(path.join(cDir, "examples", "server.c"), "utf8");
    const blocks = [...readme.matchAll(/```c\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(server.includes(b), b.slice(0, 80)).toBe(true);
  });
});

describe.skipIf(missing)("a trap in the core", () => {
  let trapTool = "";
  beforeAll(() => {
    // The test-only core that traps on method TRAP (build/build.js makes dist/test/trap.core.wasm
    // with SIMD, which wabt 1.0.32's wasm2c cannot read): the same asc build, scalar.
    const wasm = path.join(tmp, "trap.scalar.core.wasm");
    const asc = spawnSync(process.execPath, [
      path.join(repoRoot, "node_modules", "assemblyscript", "bin", "asc.js"),
      "--config", path.join(repoRoot, "asconfig.json"), "--target", "release",
      "--outFile", wasm, "--textFile", path.join(tmp, "trap.scalar.core.wat"), // never dist/'s
      "--use", "TOPHAT_TEST_TRAP=1", "--disable", "simd",
      "--transform", path.join(repoRoot, "build", "export-names.js"),
    ], { cwd: repoRoot, encoding: "utf8", timeout: 300_000 });
    if (asc.status !== 0) throw new Error(`asc failed: ${asc.stderr}`);
    const trapBuild = path.join(tmp, "trap-build");
    make({ BUILD: trapBuild, CORE: wasm }, [path.join(trapBuild, "corpus")]);
    trapTool = path.join(trapBuild, "corpus");
  }, 300_000);

  const parseLine = (s: string) => `parse ${limitsArgs(DEFAULT_LIMITS)} ${hex(s)}`;

  it("is reported as trapped, and the next calls work on a fresh instance", () => {
    const r = spawnSync(trapTool, [], {
      input: [
        parseLine("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        parseLine("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n"),
        parseLine("GET /next HTTP/1.1\r\nHost: a\r\n\r\n"),
        `frame 204 - 0 0 0 0 0 - 0`,
        parseLine("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n"),
        `decode size-line 0 0 0 ${limitsArgs(DEFAULT_LIMITS)} ${hex("3\r\nabc\r\n0\r\n\r\n")}`,
      ].join("\n") + "\n",
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out[0]!["tag"]).toBe("complete");
    expect(out[1]).toEqual({ trapped: "Unreachable instruction executed", restarts: 1 });
    expect(out[2]!["tag"]).toBe("complete");
    expect((out[2]!["val"] as Record<string, unknown>)["target"]).toEqual({ start: 4, len: 5 });
    expect(out[3]!["tag"]).toBe("head");
    expect(out[4]).toEqual({ trapped: "Unreachable instruction executed", restarts: 2 });
    expect(out[5]!["tag"]).toBe("progress");
  });

  it("the release core has no trap trigger", () => {
    const r = spawnSync(path.join(build, "corpus"), [], { input: parseLine("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n") + "\n", encoding: "utf8" });
    expect((JSON.parse(r.stdout) as Record<string, unknown>)["tag"]).toBe("complete");
  });
});

// ---- the example server ---------------------------------------------------------------------

describe.skipIf(noCurl)("the example server (bindings/c/examples/server.c)", () => {
  let server: ChildProcessWithoutNullStreams | undefined;
  let url = "";
  let port = 0;

  beforeAll(async () => {
    const child = spawn(path.join(build, "server"), ["0"]);
    server = child;
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out);
        if (m) {
          port = Number(m[2]);
          resolve(m[1]!);
        }
      });
      child.on("exit", (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
    });
  });

  afterAll(async () => {
    if (server === undefined || server.exitCode !== null) return;
    const s = server;
    const code = await new Promise<number | null>((resolve) => {
      s.on("exit", (c) => resolve(c));
      s.kill("SIGTERM");
    });
    expect(code).toBe(0); // SIGTERM ends the loop and frees everything
  });

  function curl(args: string[]): { stdout: string; stderr: string } {
    const r = spawnSync("curl", ["-sS", "--max-time", "10", ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`curl ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    return { stdout: r.stdout, stderr: r.stderr };
  }

  it("answers two requests on one keep-alive connection (curl -v url url)", () => {
    const { stdout, stderr } = curl(["-v", `${url}first?x=1`, `${url}second`]);
    expect(stdout).toBe("GET /first 0\nGET /second 0\n");
    expect(stderr).toMatch(/Re-using existing connection/);
    expect(stderr.match(/^< HTTP\/1\.1 200 OK/gm)?.length).toBe(2);
    expect(stderr).toMatch(/^< Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r$/m);
  });

  it("reads a chunked upload (curl -H 'Transfer-Encoding: chunked' --data-binary @file)", () => {
    const file = path.join(tmp, "upload.bin");
    writeFileSync(file, randomBytes(300_000));
    const { stdout, stderr } = curl(["-v", "-H", "Transfer-Encoding: chunked", "--data-binary", `@${file}`, `${url}upload`]);
    expect(stderr).toMatch(/^> Transfer-Encoding: chunked/m);
    expect(stdout).toBe("POST /upload 300000\n");
  });

  it("reads a Content-Length upload with Expect: 100-continue", () => {
    const file = path.join(tmp, "expect.bin");
    writeFileSync(file, randomBytes(70_000));
    const { stdout, stderr } = curl(["-v", "-H", "Expect: 100-continue", "--data-binary", `@${file}`, `${url}cl`]);
    expect(stderr).toMatch(/^< HTTP\/1\.1 100 Continue/m);
    expect(stdout).toBe("POST /cl 70000\n");
  });

  it("answers HEAD with the head only", () => {
    const { stdout } = curl(["-sI", `${url}h`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toMatch(/\r\nContent-Length: 10\r\n/); // "HEAD /h 0\n" would be 10 bytes
  });

  /** Writes `chunks` (each after the previous one was written), collects everything until the server closes or `until` matches. */
  function raw(chunks: string[], until: RegExp | undefined, delayMs = 0): Promise<{ text: string; closed: boolean }> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, "127.0.0.1");
      let text = "";
      let closed = false;
      const timer = setTimeout(() => {
        sock.destroy();
        resolve({ text, closed });
      }, 5000);
      sock.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        if (until !== undefined && until.test(text)) {
          clearTimeout(timer);
          sock.destroy();
          resolve({ text, closed });
        }
      });
      sock.on("end", () => {
        closed = true;
        clearTimeout(timer);
        sock.destroy();
        resolve({ text, closed });
      });
      sock.on("error", reject);
      sock.on("connect", async () => {
        for (const c of chunks) {
          sock.write(Buffer.from(c, "latin1"));
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        }
      });
    });
  }

  it("answers three pipelined requests sent in one write, in order", async () => {
    const requests =
      "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" +
      "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
      "PUT /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
    const { text, closed } = await raw([requests], /PUT \/three 7\n/);
    expect(closed).toBe(false); // keep-alive: the server did not close
    expect(text.match(/HTTP\/1\.1 200 OK\r\n/g)?.length).toBe(3);
    const bodies = ["GET /one 0\n", "POST /two 5\n", "PUT /three 7\n"].map((b) => text.indexOf(b));
    expect(bodies.every((i) => i > 0)).toBe(true);
    expect(bodies).toEqual([...bodies].sort((a, b) => a - b));
  });

  it("refuses a bad request with its status and Connection: close, then closes", async () => {
    const { text, closed } = await raw(["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n"], undefined);
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toMatch(/\r\nConnection: close\r\n/);
    expect(text.endsWith("\r\n\r\nmultiple-host\n")).toBe(true); // and nothing for /after
    expect(closed).toBe(true);
  });

  it("refuses a head over max-head-bytes with 431 and garbage at once with 400", async () => {
    const big = await raw([`GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(20_000)}\r\n\r\n`], undefined);
    expect(big.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(big.text.endsWith("head-too-large\n")).toBe(true);
    expect(big.closed).toBe(true);
    // No empty line yet: refused on the first read, not after waiting for one.
    const garbage = await raw(["\x16\x03\x01\x02\x00\x01\x00"], undefined);
    expect(garbage.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage.closed).toBe(true);
  });

  it("reads a head that arrives in many small pieces", async () => {
    const head = `GET /pieces HTTP/1.1\r\nHost: a\r\nUser-Agent: ${"u".repeat(200)}\r\nAccept: */*\r\n\r\n`;
    const pieces: string[] = [];
    for (let i = 0; i < head.length; i += 7) pieces.push(head.slice(i, i + 7));
    const { text } = await raw(pieces, /GET \/pieces 0\n/, 2);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.endsWith("GET /pieces 0\n")).toBe(true);
  });

  it("feeds a head that arrives in pieces to the core linearly (WIT: parse-head)", async () => {
    // A server of its own, so its counts are this connection's alone.
    const child = spawn(path.join(build, "server"), ["0", "--stats"]);
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await expect.poll(() => /:(\d+)\//.test(out)).toBe(true);
    const ownPort = Number(/:(\d+)\//.exec(out)![1]);
    const head = `GET /slow HTTP/1.1\r\nHost: a\r\nCookie: ${"c".repeat(4000)}\r\nAccept: */*\r\n\r\n`;
    const pieces: string[] = [];
    for (let i = 0; i < head.length; i += 50) pieces.push(head.slice(i, i + 50));
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(ownPort, "127.0.0.1");
      let text = "";
      sock.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        if (text.endsWith("GET /slow 0\n")) {
          sock.end();
          resolve(text);
        }
      });
      sock.on("error", reject);
      sock.on("connect", async () => {
        for (const p of pieces) {
          sock.write(p);
          await new Promise((r) => setTimeout(r, 1)); // separate reads, mostly
        }
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const m = /reads (\d+), parse-head calls (\d+), bytes parsed (\d+)/.exec(out);
    expect(m).not.toBeNull();
    const [reads, calls, bytes] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(reads).toBeGreaterThan(10); // the head did arrive in many reads (82 pieces; a loaded machine merges some)...
    // ...but the core saw it about twice: on the first read, then once the empty line came
    // (a bare LF CR LF inside would add a call; this head has none). Calling on every read
    // would pass ~reads × length / 2 bytes.
    expect(calls).toBeLessThanOrEqual(2);
    // The first read (however many pieces it merged) plus the whole head.
    expect(bytes).toBeLessThanOrEqual(2 * head.length);
  });

  it("closes after answering an HTTP/1.0 request without keep-alive", async () => {
    const { text, closed } = await raw(["GET /old HTTP/1.0\r\n\r\n"], undefined);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.endsWith("GET /old 0\n")).toBe(true);
    expect(closed).toBe(true);
  });
});
