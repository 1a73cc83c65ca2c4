// The published artifact is the component, for any host. These tests run it outside Node:
// in wasmtime (the Python `wasmtime` package's component API, with an empty linker), where
// it must give the same answers as the thin binding, and through wabt's wasm2c.
//
// A missing tool makes a test skip loudly, or fail under CI=true (test/support/tools.ts).
import { describe, expect, it, type TestContext } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  Core,
  DEFAULT_LIMITS,
  type Field,
  type FrameOutcome,
  type ParseOutcome,
  type RequestContext,
  type Span,
  type TrailerOutcome,
} from "../host/core.js";
import { loadCorpora } from "./support/corpora.js";
import { skipWithout } from "./support/tools.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const corpora = path.resolve(repoRoot, "test", "corpora");
const componentPath = path.join(repoRoot, "dist", "tophat-http.component.wasm");
const coreModulePath = path.join(repoRoot, "dist", "tophat-http.core.wasm");
const checkScript = path.join(here, "support", "wasmtime_check.py");

const core = Core.load(coreModulePath);

/** Skips the running test with a warning that names the missing tool and how to get it. */
function skipLoudly(ctx: TestContext, why: string): never {
  const message = `SKIPPED (not passed): ${why}`;
  console.warn(`\n[portability] ${ctx.task.name}: ${message}\n`);
  return ctx.skip(message);
}

// ---- wasmtime ---------------------------------------------------------------------------


interface CorpusCase {
  name: string;
  raw_base64: string;
}

/** ~50 cases spread evenly over llhttp's request fixtures. */
function corpusSample(): CorpusCase[] {
  const all = JSON.parse(readFileSync(path.join(corpora, "llhttp-requests.json"), "utf8")) as CorpusCase[];
  const want = 50;
  const picked = new Set<number>();
  for (let i = 0; i < want; i++) picked.add(Math.floor((i * all.length) / want));
  return [...picked].map((i) => all[i]!);
}

/**
 * The sample plus, for each fixture refused only for lacking Host, a copy with `Host: x`
 * after the request line, so that more complete heads (spans, framing) are compared.
 */
function requestsToCompare(sample: CorpusCase[]): { name: string; bytes: Buffer }[] {
  const out = sample.map((c) => ({ name: c.name, bytes: Buffer.from(c.raw_base64, "base64") }));
  for (const { name, bytes } of [...out]) {
    const first = core.parseHead(bytes, DEFAULT_LIMITS);
    const eol = bytes.indexOf("\r\n");
    if (first.tag !== "invalid" || first.val.reason !== "missing-host" || eol < 0) continue;
    out.push({ name: `${name} (+ Host)`, bytes: Buffer.concat([bytes.subarray(0, eol + 2), Buffer.from("Host: x\r\n"), bytes.subarray(eol + 2)]) });
  }
  return out;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const spanJson = (s: Span | undefined): Json => (s === undefined ? null : [s.start, s.len]);

/** A parse outcome in the shape wasmtime_check.py prints. */
function parseJson(out: ParseOutcome): Json {
  switch (out.tag) {
    case "incomplete":
      return { tag: "incomplete", search_from: out.val };
    case "invalid":
      return { tag: "invalid", reason: out.val.reason, status: out.val.status, offset: out.val.offset };
    case "complete": {
      const v = out.val;
      return {
        tag: "complete",
        method: spanJson(v.method),
        target: spanJson(v.target),
        path: spanJson(v.path),
        query: spanJson(v.query),
        authority: spanJson(v.authority),
        version: v.version,
        headers: Array.from(v.headers),
        headLength: v.headLength,
        body: v.body.tag === "content-length" ? { tag: v.body.tag, val: v.body.val } : { tag: v.body.tag },
        keepAlive: v.keepAlive,
        expectContinue: v.expectContinue,
        upgrade: v.upgrade,
      };
    }
  }
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

function frameJson(out: FrameOutcome): Json {
  if (out.tag === "invalid") return { tag: "invalid", reason: out.val.reason, headerIndex: out.val.headerIndex ?? null };
  return { tag: "head", bytes: b64(out.val.bytes), body: out.val.body, contentLength: out.val.contentLength, close: out.val.close };
}

function trailerJson(out: TrailerOutcome): Json {
  if (out.tag === "invalid") return { tag: "invalid", reason: out.val.reason, headerIndex: out.val.headerIndex ?? null };
  return { tag: "bytes", bytes: b64(out.val) };
}

interface FrameCase {
  status: number;
  reason: string | null;
  headers: [string, string][];
  bodyLength: number | null;
  context: RequestContext;
  date: string | null;
}

const DATE = "Sun, 06 Nov 1994 08:49:37 GMT";
const C11: RequestContext = { head: false, http10: false, close: false };
const frameCases: FrameCase[] = [
  { status: 200, reason: null, headers: [["Content-Type", "text/plain"]], bodyLength: 5, context: C11, date: DATE },
  { status: 200, reason: null, headers: [], bodyLength: null, context: C11, date: DATE },
  { status: 200, reason: null, headers: [], bodyLength: null, context: { head: false, http10: true, close: false }, date: null },
  { status: 200, reason: null, headers: [], bodyLength: 42, context: { head: true, http10: false, close: false }, date: null },
  { status: 200, reason: null, headers: [["Content-Length", "7"]], bodyLength: null, context: { head: false, http10: true, close: false }, date: null },
  { status: 204, reason: null, headers: [], bodyLength: 0, context: C11, date: DATE },
  { status: 304, reason: null, headers: [["Content-Length", "99"]], bodyLength: 0, context: C11, date: DATE },
  { status: 100, reason: null, headers: [], bodyLength: 0, context: { head: false, http10: false, close: true }, date: DATE },
  { status: 599, reason: "Très bien\t!", headers: [["X-Utf8", "héllo €"]], bodyLength: 0, context: { head: false, http10: false, close: true }, date: null },
  { status: 200, reason: null, headers: [["Connection", "close"]], bodyLength: 1, context: C11, date: null },
  // refusals
  { status: 1000, reason: null, headers: [], bodyLength: 0, context: C11, date: null },
  { status: 200, reason: "OK\r\n", headers: [], bodyLength: 0, context: C11, date: null },
  { status: 200, reason: null, headers: [["X-A", "1"], ["X B", "2"]], bodyLength: 0, context: C11, date: null },
  { status: 200, reason: null, headers: [["X-A", "1\r\nInjected: yes"]], bodyLength: 0, context: C11, date: null },
  { status: 200, reason: null, headers: [["Content-Length", "6"]], bodyLength: 5, context: C11, date: null },
  { status: 200, reason: null, headers: [["Transfer-Encoding", "gzip"]], bodyLength: null, context: C11, date: null },
  { status: 204, reason: null, headers: [], bodyLength: 3, context: C11, date: null },
  { status: 204, reason: null, headers: [["X", "y"], ["Content-Length", "0"]], bodyLength: 0, context: C11, date: null },
];
const chunkSizes = [0, 1, 15, 16, 255, 2 ** 32, 2 ** 53 - 1];
const trailerCases: [string, string][][] = [[], [["X-Checksum", "abc"]], [["Content-Length", "5"]], [["A", "1"], ["B", "\0"]]];

const fields = (pairs: [string, string][]): Field[] => pairs.map(([name, value]) => ({ name, value }));

interface WasmtimeResult {
  wasmtime: string;
  imports: string[];
  parse: Json[];
  frames: Json[];
  chunkSizeLines: string[];
  lastChunks: Json[];
}

describe("the component in wasmtime (Python), with nothing linked", () => {
  it("instantiates with an empty linker and answers exactly as the thin binding does", (ctx) => {
    if (skipWithout("python-wasmtime", "the component-in-wasmtime test")) return ctx.skip("the Python wasmtime package is not installed");
    expect(existsSync(componentPath), `${componentPath} is not built: run \`node build/build.js\``).toBe(true);

    const sample = corpusSample();
    expect(sample.length).toBeGreaterThanOrEqual(45);
    const requests = requestsToCompare(sample);
    const dir = mkdtempSync(path.join(tmpdir(), "tophat-wasmtime-"));
    try {
      const casesPath = path.join(dir, "cases.json");
      writeFileSync(
        casesPath,
        JSON.stringify({ requests: requests.map((r) => r.bytes.toString("base64")), frames: frameCases, chunkSizes, trailers: trailerCases }),
      );
      const run = spawnSync("python3", [checkScript, componentPath, casesPath], { encoding: "utf8", timeout: 120_000 });
      expect(run.error).toBeUndefined();
      expect(run.status, `wasmtime_check.py failed:\n${run.stderr}`).toBe(0);
      const result = JSON.parse(run.stdout) as WasmtimeResult;
      console.info(`[portability] wasmtime ${result.wasmtime} (Python): ${requests.length} requests compared (${sample.length} llhttp fixtures)`);

      // Nothing imported, so the empty linker is all any host needs.
      expect(result.imports).toEqual([]);

      // parse-head, case by case (named, so a difference says which fixture).
      expect(result.parse).toHaveLength(requests.length);
      const kinds = new Map<string, number>();
      requests.forEach((r, i) => {
        const outcome = core.parseHead(r.bytes, DEFAULT_LIMITS);
        expect(result.parse[i], r.name).toEqual(parseJson(outcome));
        const kind = outcome.tag === "complete" ? `complete/${outcome.val.body.tag}` : outcome.tag;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      });
      // The comparison covers refusals and complete heads of every body framing.
      for (const kind of ["invalid", "complete/none", "complete/content-length", "complete/chunked"]) {
        expect(kinds.get(kind) ?? 0, `${kind} outcomes compared`).toBeGreaterThan(0);
      }

      // frame-head, chunk-size-line and last-chunk.
      expect(result.frames).toEqual(
        frameCases.map((f) =>
          frameJson(
            core.frameHead(
              { status: f.status, reason: f.reason ?? undefined, headers: fields(f.headers), bodyLength: f.bodyLength ?? undefined },
              f.context,
              f.date ?? undefined,
            ),
          ),
        ),
      );
      expect(result.chunkSizeLines).toEqual(chunkSizes.map((n) => b64(core.chunkSizeLine(n))));
      expect(result.lastChunks).toEqual(trailerCases.map((t) => trailerJson(core.lastChunk(fields(t)))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- wasm2c -----------------------------------------------------------------------------

function wabtVersion(): [number, number, number] | undefined {
  const r = spawnSync("wasm2c", ["--version"], { encoding: "utf8", timeout: 30_000 });
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(r.stdout ?? "");
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

describe("the core module through wabt", () => {
  it("validates with wabt's wasm-validate", (ctx) => {
    if (skipWithout("wabt", "wasm-validate of the core")) return ctx.skip("wabt is not installed");
    const r = spawnSync("wasm-validate", [coreModulePath], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
  });

  it("wasm2c turns it into C", (ctx) => {
    if (skipWithout("wabt", "wasm2c of the core")) return ctx.skip("wabt is not installed");
    const dir = mkdtempSync(path.join(tmpdir(), "tophat-wasm2c-"));
    try {
      const out = path.join(dir, "tophat_core.c");
      const r = spawnSync("wasm2c", [coreModulePath, "-n", "tophat_core", "-o", out], { encoding: "utf8", timeout: 120_000 });
      if (r.status !== 0) {
        // wabt < 1.0.33 (Debian bookworm ships 1.0.32) has no SIMD in wasm2c: it aborts on
        // any v128 instruction. Only that known limitation is a skip; anything else fails.
        const version = wabtVersion();
        const old = version !== undefined && (version[0] < 1 || (version[0] === 1 && version[1] === 0 && version[2] < 33));
        const noSimd = spawnSync("wasm-validate", ["--disable-simd", coreModulePath], { encoding: "utf8", timeout: 60_000 });
        const usesSimd = noSimd.error === undefined && noSimd.status !== 0;
        if (old && usesSimd) {
          skipLoudly(
            ctx,
            `wasm2c ${version.join(".")} cannot translate SIMD (support came in wabt 1.0.33) and the core module ` +
              `uses SIMD (asconfig.json enables "simd"); wasm2c exited with ${r.status ?? r.signal}`,
          );
        }
      }
      expect(r.status, `wasm2c failed (${r.signal ?? r.status}):\n${r.stderr}`).toBe(0);
      const header = path.join(dir, "tophat_core.h");
      expect(statSync(out).size).toBeGreaterThan(10_000);
      const h = readFileSync(header, "utf8");
      // The canonical-ABI exports appear (mangled) in the generated header.
      for (const name of ["parse", "decode", "frame", "chunk", "realloc"]) expect(h).toContain(name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- the scalar core --------------------------------------------------------------------

const scalarCorePath = path.join(repoRoot, "dist", "tophat-http.scalar.core.wasm");

describe("the scalar core (built without SIMD, for hosts and tools that lack it)", () => {
  it("has no SIMD and parses every corpus input, and every prefix of it, exactly as the SIMD core does", () => {
    const noSimd = spawnSync("wasm-validate", ["--disable-simd", scalarCorePath], { encoding: "utf8", timeout: 60_000 });
    if (noSimd.error === undefined) expect(noSimd.status, noSimd.stderr).toBe(0);
    const simd = Core.load(coreModulePath);
    const scalar = Core.load(scalarCorePath);
    let calls = 0;
    for (const cases of Object.values(loadCorpora())) {
      for (const c of cases) {
        for (let end = 1; end <= c.raw.length; end++) {
          const input = c.raw.subarray(0, end);
          expect(scalar.parseHead(input, DEFAULT_LIMITS), `${c.id}, first ${end} bytes`).toEqual(simd.parseHead(input, DEFAULT_LIMITS));
          calls++;
        }
      }
    }
    expect(calls).toBeGreaterThan(10_000);
  });

  it("wasm2c turns it into C", (ctx) => {
    if (skipWithout("wabt", "wasm2c of the core")) return ctx.skip("wabt is not installed");
    const dir = mkdtempSync(path.join(tmpdir(), "tophat-wasm2c-"));
    try {
      const out = path.join(dir, "tophat_core.c");
      const r = spawnSync("wasm2c", [scalarCorePath, "-n", "tophat_core", "-o", out], { encoding: "utf8", timeout: 120_000 });
      expect(r.status, `wasm2c failed (${r.signal ?? r.status}):\n${r.stderr}`).toBe(0);
      expect(statSync(out).size).toBeGreaterThan(10_000);
      expect(readFileSync(path.join(dir, "tophat_core.h"), "utf8")).toContain("parse");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
