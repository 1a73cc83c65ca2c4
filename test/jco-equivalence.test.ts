/**
 * The thin binding (`Core`, hand-written over the core module's canonical-ABI exports) must
 * say exactly what jco's generated bindings say for the same component: every corpus input
 * (whole, with the Host rule applied, every prefix, under default and tight limits), every
 * chunked body (whole, split in two at every point, and fed one byte at a time with the
 * state carried over), and a set of framer calls (valid and invalid responses, chunk-size
 * lines, last chunks). Outcomes are compared in the normalized shape of support/normalize.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  Core,
  DEFAULT_LIMITS,
  initialChunkedState,
  type ChunkedState,
  type Field,
  type Limits,
  type RequestContext,
  type ResponseHead,
} from "../host/core.js";
import { CHUNKED_EDGE_BODIES, CORPUS_NAMES, bytesOf, loadCorpora, withHost } from "./support/corpora.js";
import {
  jcoResponseHead,
  loadJco,
  normalizeChunked,
  normalizeFrame,
  normalizeJcoBytes,
  normalizeJcoChunked,
  normalizeJcoFrame,
  normalizeJcoParse,
  normalizeJcoTrailer,
  normalizeParse,
  normalizeTrailer,
  bytesText,
  type NChunked,
} from "./support/normalize.js";

const core = Core.load();
const jco = await loadJco();

/** Small enough that the corpus reaches every limit. */
const TIGHT: Limits = { maxHeadBytes: 96, maxHeaders: 3, maxTargetLength: 12, maxChunkExtensionLength: 6 };
const LIMITS: readonly [string, Limits][] = [
  ["default", DEFAULT_LIMITS],
  ["tight", TIGHT],
];

const calls = { parseHead: 0, decode: 0, framer: 0 };

interface Mismatch {
  what: string;
  thin: string;
  jco: string;
}

/** Compares one parse-head call through both bindings; returns the thin outcome. */
function parseBoth(bytes: Uint8Array, limits: Limits, what: string, out: Mismatch[]): ReturnType<Core["parseHead"]> {
  const thin = core.parseHead(bytes, limits);
  const a = JSON.stringify(normalizeParse(thin));
  const b = JSON.stringify(normalizeJcoParse(jco.parseHead(bytes, limits)));
  calls.parseHead++;
  if (a !== b) out.push({ what, thin: a, jco: b });
  return thin;
}

/** One decode call through both bindings, each with its own carried state. */
function decodeBoth(
  bytes: Uint8Array, thinState: ChunkedState, jcoState: ChunkedState, limits: Limits, what: string, out: Mismatch[],
): { thin: ReturnType<Core["decodeChunked"]>; jco: NChunked; jcoState: ChunkedState | undefined } {
  const thin = core.decodeChunked(bytes, thinState, limits);
  const raw: unknown = jco.decode(bytes, jcoState, limits);
  const j = normalizeJcoChunked(raw);
  calls.decode++;
  const a = JSON.stringify(normalizeChunked(thin));
  const b = JSON.stringify(j);
  if (a !== b) out.push({ what, thin: a, jco: b });
  // jco's own returned state (not the thin one) goes into jco's next call.
  let next: ChunkedState | undefined;
  if (j.tag === "progress") {
    const s = j.val.state;
    next = {
      phase: thinPhase(s.phase),
      remaining: BigInt(s.remaining),
      trailerBytes: s.trailerBytes,
      trailerCount: s.trailerCount,
    };
  }
  return { thin, jco: j, jcoState: next };
}

function thinPhase(p: string): ChunkedState["phase"] {
  if (p === "size-line" || p === "data" || p === "data-end" || p === "trailers" || p === "done") return p;
  throw new Error(`jco returned an unknown chunked phase ${p}`);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Whole, every split in two, and one byte at a time, each step compared. */
function checkChunkedBody(body: Uint8Array, limits: Limits, what: string, out: Mismatch[]): void {
  decodeBoth(body, initialChunkedState(), initialChunkedState(), limits, `${what} whole`, out);

  for (let k = 1; k < body.length; k++) {
    const first = decodeBoth(body.subarray(0, k), initialChunkedState(), initialChunkedState(), limits, `${what} split ${k} (1)`, out);
    if (first.thin.tag !== "progress" || first.jcoState === undefined) continue;
    const rest = body.subarray(first.thin.val.consumed);
    decodeBoth(rest, first.thin.val.state, first.jcoState, limits, `${what} split ${k} (2)`, out);
  }

  let thinState = initialChunkedState();
  let jcoState = initialChunkedState();
  let held = new Uint8Array(0);
  for (let i = 0; i < body.length; i++) {
    const buf = concat(held, body.subarray(i, i + 1));
    const r = decodeBoth(buf, thinState, jcoState, limits, `${what} byte ${i}`, out);
    if (r.thin.tag !== "progress" || r.jcoState === undefined) break;
    thinState = r.thin.val.state;
    jcoState = r.jcoState;
    held = buf.slice(r.thin.val.consumed);
    if (thinState.phase === "done") break;
  }
}

const corpora = loadCorpora();

describe("jco bindings and the thin binding agree", () => {
  for (const name of CORPUS_NAMES) {
    const cases = corpora[name];
    it(`on parse-head for every ${name} input, its Host variant and every prefix (${cases.length} cases × 2 limits)`, () => {
      const out: Mismatch[] = [];
      for (const c of cases) {
        const inputs = [c.raw];
        const added = withHost(c.raw, 0);
        if (added.injected) inputs.push(added.bytes);
        for (const [ln, limits] of LIMITS) {
          for (const [v, input] of inputs.entries()) {
            for (let n = 0; n <= input.length; n++) {
              parseBoth(input.subarray(0, n), limits, `${c.id} (${ln}, input ${v}, ${n} bytes)`, out);
            }
          }
        }
      }
      expect(out.slice(0, 10)).toEqual([]);
    });

    it(`on chunked.decode for every ${name} chunked body`, () => {
      const out: Mismatch[] = [];
      let bodies = 0;
      for (const c of cases) {
        // Heads found under the default limits; each body decoded under both.
        const head = core.parseHead(withHost(c.raw, 0).bytes, DEFAULT_LIMITS);
        const alsoRaw = core.parseHead(c.raw, DEFAULT_LIMITS);
        for (const [input, h] of [[withHost(c.raw, 0).bytes, head], [c.raw, alsoRaw]] as const) {
          if (h.tag !== "complete" || h.val.body.tag !== "chunked") continue;
          const body = input.subarray(h.val.headLength);
          if (body.length === 0) continue;
          bodies++;
          for (const [ln, limits] of LIMITS) checkChunkedBody(body, limits, `${c.id} (${ln})`, out);
          break;
        }
      }
      if (name !== "desync-guardian") expect(bodies, "chunked bodies found").toBeGreaterThan(3);
      expect(out.slice(0, 10)).toEqual([]);
    });
  }

  it("on chunked bodies that reach the decoder's limits and edges", () => {
    const out: Mismatch[] = [];
    for (const b of CHUNKED_EDGE_BODIES) {
      for (const [ln, limits] of LIMITS) checkChunkedBody(bytesOf(b), limits, `${JSON.stringify(b)} (${ln})`, out);
    }
    expect(out.slice(0, 10)).toEqual([]);
  });

  it("on parse-head for heads that reach every request-head field", () => {
    const heads = [
      "GET /p?q=1 HTTP/1.1\r\nHost: [v1.fe80::a+en1]:8080\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
      "GET http://a.example:80/x?y HTTP/1.1\r\nHost: b\r\n\r\n",
      "GET https://[::1]?q HTTP/1.1\r\nHost: b\r\n\r\n",
      "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
      "OPTIONS * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740992\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n",
      `GET /${"x".repeat(40)} HTTP/1.1\r\nHost: a\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: a\r\n${"X: y\r\n".repeat(120)}\r\n`,
    ];
    const out: Mismatch[] = [];
    for (const head of heads) {
      for (const [ln, limits] of LIMITS) {
        const bytes = bytesOf(head);
        for (let n = 0; n <= bytes.length; n++) parseBoth(bytes.subarray(0, n), limits, `${JSON.stringify(head)} (${ln}, ${n} bytes)`, out);
      }
    }
    expect(out.slice(0, 10)).toEqual([]);
  });

  it("on frame-head for valid and invalid responses", () => {
    const date = "Sun, 06 Nov 1994 08:49:37 GMT";
    const ctx = (head = false, http10 = false, close = false): RequestContext => ({ head, http10, close });
    const h = (...pairs: [string, string][]): Field[] => pairs.map(([name, value]) => ({ name, value }));
    const cases: [string, ResponseHead, RequestContext, string | undefined][] = [
      ["200 known length", { status: 200, headers: h(["Content-Type", "text/plain"]), bodyLength: 5 }, ctx(), date],
      ["CONNECT 200: a tunnel", { status: 200, headers: h(["Via", "1.1 tophat"]) }, { head: false, http10: false, close: true, connect: true }, date],
      ["CONNECT 200 with Content-Length", { status: 200, headers: h(["Content-Length", "0"]) }, { head: false, http10: false, close: false, connect: true }, date],
      ["CONNECT 200 with a body length", { status: 200, headers: [], bodyLength: 3 }, { head: false, http10: false, close: false, connect: true }, date],
      ["CONNECT 403", { status: 403, headers: [], bodyLength: 0 }, { head: false, http10: false, close: false, connect: true }, date],
      ["200 streamed, HTTP/1.1", { status: 200, headers: [] }, ctx(), date],
      ["200 streamed, HTTP/1.0", { status: 200, headers: [] }, ctx(false, true), date],
      ["200 known length, HTTP/1.0", { status: 200, headers: [], bodyLength: 3 }, ctx(false, true), undefined],
      ["HEAD", { status: 200, headers: [], bodyLength: 1234 }, ctx(true), date],
      ["close", { status: 200, headers: [], bodyLength: 0 }, ctx(false, false, true), date],
      ["own Date", { status: 200, headers: h(["Date", date]), bodyLength: 0 }, ctx(), undefined],
      ["custom reason", { status: 299, reason: "Fine Thanks", headers: [], bodyLength: 0 }, ctx(), date],
      ["empty reason", { status: 200, reason: "", headers: [], bodyLength: 0 }, ctx(), date],
      ["unknown status", { status: 799, headers: [], bodyLength: 0 }, ctx(), date],
      ["101", { status: 101, headers: h(["Upgrade", "websocket"], ["Connection", "Upgrade"]) }, ctx(), date],
      ["204", { status: 204, headers: [] }, ctx(), date],
      ["304 with length", { status: 304, headers: h(["ETag", '"x"']), bodyLength: 0 }, ctx(), date],
      ["explicit Content-Length", { status: 200, headers: h(["Content-Length", "5"]), bodyLength: 5 }, ctx(), date],
      ["explicit chunked", { status: 200, headers: h(["Transfer-Encoding", "chunked"]) }, ctx(), date],
      ["UTF-8 value", { status: 200, headers: h(["X-Name", "Zoë ☃"]), bodyLength: 0 }, ctx(), date],
      ["huge length", { status: 200, headers: [], bodyLength: Number.MAX_SAFE_INTEGER }, ctx(), date],
      ["bad status 99", { status: 99, headers: [] }, ctx(), date],
      ["bad status 1000", { status: 1000, headers: [] }, ctx(), date],
      ["reason with CR", { status: 200, reason: "OK\r\nX: y", headers: [] }, ctx(), date],
      ["name with space", { status: 200, headers: h(["A", "1"], ["Bad Name", "x"]), bodyLength: 0 }, ctx(), date],
      ["empty name", { status: 200, headers: h(["", "x"]) }, ctx(), date],
      ["value with LF", { status: 200, headers: h(["X", "a\nb"]) }, ctx(), date],
      ["value with NUL", { status: 200, headers: h(["X", "a\u0000b"]) }, ctx(), date],
      ["Content-Length mismatch", { status: 200, headers: h(["Content-Length", "4"]), bodyLength: 5 }, ctx(), date],
      ["Content-Length not digits", { status: 200, headers: h(["Content-Length", "five"]) }, ctx(), date],
      ["gzip coding", { status: 200, headers: h(["Transfer-Encoding", "gzip"]) }, ctx(), date],
      ["chunked with known length", { status: 200, headers: h(["Transfer-Encoding", "chunked"]), bodyLength: 3 }, ctx(), date],
      ["chunked to HTTP/1.0", { status: 200, headers: h(["Transfer-Encoding", "chunked"]) }, ctx(false, true), date],
      ["204 with body", { status: 204, headers: [], bodyLength: 3 }, ctx(), date],
      ["204 with Content-Length", { status: 204, headers: h(["Content-Length", "0"]) }, ctx(), date],
      ["100 with Transfer-Encoding", { status: 100, headers: h(["Transfer-Encoding", "chunked"]) }, ctx(), date],
    ];
    const out: Mismatch[] = [];
    const tags = new Set<string>();
    for (const [what, response, request, d] of cases) {
      const thin = normalizeFrame(core.frameHead(response, request, d));
      const j = normalizeJcoFrame(jco.frameHead(jcoResponseHead(response), request, d));
      calls.framer++;
      tags.add(thin.tag === "head" ? `head:${thin.val.body}` : `invalid:${thin.val.reason}`);
      if (JSON.stringify(thin) !== JSON.stringify(j)) out.push({ what, thin: JSON.stringify(thin), jco: JSON.stringify(j) });
    }
    expect(out).toEqual([]);
    // The cases reach every body mode and every frame error.
    expect([...tags].sort()).toEqual(
      expect.arrayContaining([
        "head:none", "head:content-length", "head:chunked", "head:close-delimited",
        "invalid:bad-status", "invalid:bad-reason", "invalid:bad-header-name", "invalid:bad-header-value",
        "invalid:bad-content-length", "invalid:bad-transfer-encoding", "invalid:body-not-allowed",
      ]),
    );
  });

  it("on chunk-size-line and last-chunk", () => {
    const out: Mismatch[] = [];
    for (const size of [0, 1, 9, 10, 15, 16, 255, 4096, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const thin = bytesText(core.chunkSizeLine(size));
      const j = normalizeJcoBytes(jco.chunkSizeLine(BigInt(size)));
      calls.framer++;
      expect(thin).toBe(`${size.toString(16)}\r\n`);
      if (thin !== j) out.push({ what: `chunk-size-line ${size}`, thin, jco: j });
    }
    const trailers: [string, Field[]][] = [
      ["none", []],
      ["two", [{ name: "X-Checksum", value: "abc" }, { name: "Server-Timing", value: "db;dur=53" }]],
      ["UTF-8 value", [{ name: "X-Name", value: "Zoë" }]],
      ["bad name", [{ name: "ok", value: "1" }, { name: "bad name", value: "x" }]],
      ["bad value", [{ name: "X", value: "a\r\nInjected: 1" }]],
    ];
    for (const [what, t] of trailers) {
      const thin = normalizeTrailer(core.lastChunk(t));
      const j = normalizeJcoTrailer(jco.lastChunk(t));
      calls.framer++;
      if (JSON.stringify(thin) !== JSON.stringify(j)) out.push({ what: `last-chunk ${what}`, thin: JSON.stringify(thin), jco: JSON.stringify(j) });
    }
    expect(normalizeTrailer(core.lastChunk([]))).toEqual({ tag: "bytes", val: "0\r\n\r\n" });
    expect(out).toEqual([]);
  });
});

afterAll(() => {
  console.log(
    `jco equivalence: ${calls.parseHead} parse-head, ${calls.decode} chunked.decode and ${calls.framer} framer calls compared`,
  );
});
