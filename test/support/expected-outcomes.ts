/**
 * Every outcome of the thin binding a binding for another language must reproduce, as
 * JSON-able data (normalized as in normalize.ts): parse-head on every corpus input
 * (test/corpora and fuzz/corpus/parse_head.json), whole and with the Host rule applied,
 * under default and tight limits; the calls of the linear incremental loop the WIT gives
 * for parse-head (each input fed one byte at a time); every chunked body the corpora hold
 * plus edge cases (whole, and one byte at a time with the state carried); framer calls,
 * chunk-size lines and last chunks. The Python and Go bindings' tests read it from a file.
 * @module
 */
import {
  Core,
  DEFAULT_LIMITS,
  initialChunkedState,
  mayEndHead,
  type ChunkedState,
  type Field,
  type Limits,
  type ParseOutcome,
  type RequestContext,
  type ResponseHead,
} from "../../host/core.js";
import { CHUNKED_EDGE_BODIES, CORPUS_NAMES, bytesOf, loadCorpora, loadFuzzHeads, withHost } from "./corpora.js";
import {
  bytesText,
  normalizeChunked,
  normalizeFrame,
  normalizeParse,
  normalizeTrailer,
  type NChunked,
  type NFrame,
  type NParse,
  type NTrailer,
} from "./normalize.js";

const core = Core.load();

/** Small enough that the corpus reaches every limit (the same as jco-equivalence's). */
const TIGHT: Limits = { maxHeadBytes: 96, maxHeaders: 3, maxTargetLength: 12, maxChunkExtensionLength: 6 };
const LIMITS: readonly [string, Limits][] = [
  ["default", DEFAULT_LIMITS],
  ["tight", TIGHT],
];

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");

export interface ParseCase { what: string; input: string; limits: Limits; expected: NParse }
export interface IncrementalCase { what: string; input: string; limits: Limits; calls: { held: number; expected: NParse }[] }
export interface ChunkedCase { what: string; body: string; limits: Limits; mode: "whole" | "bytes"; expected: NChunked[] }
export interface FrameCase {
  what: string;
  response: { status: number; reason: string | null; headers: [string, string][]; bodyLength: number | null };
  context: RequestContext;
  date: string | null;
  expected: NFrame;
}
export interface TrailerCase { what: string; fields: [string, string][]; expected: NTrailer }

/**
 * The parse-head calls a host following the WIT's loop makes when `input` arrives one
 * byte at a time: on the first byte, then only when the bytes not yet searched (from
 * max(search-from, searched - 2)) hold LF CR LF or LF LF, or reach max-head-bytes. Each
 * call is given every byte held (the Python reader gives at most max-head-bytes, which
 * the WIT says is all the core looks at: this checks that too).
 */
function linearCalls(input: Uint8Array, limits: Limits): { held: number; expected: NParse }[] {
  const calls: { held: number; expected: NParse }[] = [];
  let last: ParseOutcome | undefined;
  let searched = 0;
  for (let n = 1; n <= input.length; n++) {
    const held = input.subarray(0, n);
    if (last !== undefined) {
      if (last.tag !== "incomplete") break;
      const from = Math.max(last.val, searched - 2);
      searched = n;
      if (n < limits.maxHeadBytes && !mayEndHead(held, from)) continue;
    }
    searched = n;
    last = core.parseHead(held, limits);
    calls.push({ held: n, expected: normalizeParse(last) });
    if (last.tag !== "incomplete") break;
  }
  return calls;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Whole: one call. Bytes: one byte at a time, the unconsumed rest held, state carried. */
function chunkedOutcomes(body: Uint8Array, limits: Limits, mode: "whole" | "bytes"): NChunked[] {
  if (mode === "whole") return [normalizeChunked(core.decodeChunked(body, initialChunkedState(), limits))];
  const out: NChunked[] = [];
  let state: ChunkedState = initialChunkedState();
  let held: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < body.length; i++) {
    const buf = concat(held, body.subarray(i, i + 1));
    const r = core.decodeChunked(buf, state, limits);
    out.push(normalizeChunked(r));
    if (r.tag !== "progress") break;
    state = r.val.state;
    held = buf.slice(r.val.consumed);
    if (state.phase === "done") break;
  }
  return out;
}

/** Everything a binding's equivalence test compares. */
export interface ExpectedOutcomes {
  parse: ParseCase[];
  incremental: IncrementalCase[];
  chunked: ChunkedCase[];
  frames: FrameCase[];
  chunkSizes: { size: number; expected: string }[];
  trailers: TrailerCase[];
}

/** Computes every expected outcome with the thin binding. */
export function expectedOutcomes(): ExpectedOutcomes {
  const parse: ParseCase[] = [];
  const incremental: IncrementalCase[] = [];
  const chunked: ChunkedCase[] = [];
  const corpora = loadCorpora();
  const inputs: [string, Uint8Array][] = [];
  for (const name of CORPUS_NAMES) {
    for (const c of corpora[name]) {
      inputs.push([`${name} ${c.id}`, c.raw]);
      const added = withHost(c.raw, 0);
      if (added.injected) inputs.push([`${name} ${c.id} (Host added)`, added.bytes]);
    }
  }
  const corpusInputs = inputs.length;
  for (const [i, raw] of loadFuzzHeads().entries()) inputs.push([`fuzz parse_head.json[${i}]`, raw]);

  const bodies: [string, Uint8Array][] = [];
  for (const [k, [what, input]] of inputs.entries()) {
    for (const [ln, limits] of LIMITS) {
      const whole = core.parseHead(input, limits);
      parse.push({ what: `${what} (${ln})`, input: b64(input), limits, expected: normalizeParse(whole) });
      if (k < corpusInputs) {
        incremental.push({ what: `${what} (${ln}, a byte at a time)`, input: b64(input), limits, calls: linearCalls(input, limits) });
      }
      if (ln === "default" && whole.tag === "complete" && whole.val.body.tag === "chunked" && input.length > whole.val.headLength) {
        bodies.push([what, input.subarray(whole.val.headLength)]);
      }
    }
  }
  // The edge cases jco-equivalence checks too: limits, overflow, extensions, bad framing.
  for (const e of CHUNKED_EDGE_BODIES) bodies.push([JSON.stringify(e), bytesOf(e)]);
  for (const [what, body] of bodies) {
    for (const [ln, limits] of LIMITS) {
      for (const mode of ["whole", "bytes"] as const) {
        chunked.push({ what: `${what} (${ln}, ${mode})`, body: b64(body), limits, mode, expected: chunkedOutcomes(body, limits, mode) });
      }
    }
  }

  const date = "Sun, 06 Nov 1994 08:49:37 GMT";
  const ctx = (head = false, http10 = false, close = false): RequestContext => ({ head, http10, close });
  const connect = (http10 = false, close = false): RequestContext => ({ head: false, http10, close, connect: true });
  const h = (...pairs: [string, string][]): [string, string][] => pairs;
  const responses: [string, number, string | null, [string, string][], number | null, RequestContext, string | null][] = [
    ["200 known length", 200, null, h(["Content-Type", "text/plain"]), 5, ctx(), date],
    ["200 streamed, HTTP/1.1", 200, null, [], null, ctx(), date],
    ["200 streamed, HTTP/1.0", 200, null, [], null, ctx(false, true), date],
    ["200 known length, HTTP/1.0", 200, null, [], 3, ctx(false, true), null],
    ["HEAD", 200, null, [], 1234, ctx(true), date],
    ["close", 200, null, [], 0, ctx(false, false, true), date],
    ["own Date", 200, null, h(["Date", date]), 0, ctx(), null],
    ["custom reason", 299, "Fine Thanks", [], 0, ctx(), date],
    ["empty reason", 200, "", [], 0, ctx(), date],
    ["unknown status", 799, null, [], 0, ctx(), date],
    ["101", 101, null, h(["Upgrade", "websocket"], ["Connection", "Upgrade"]), null, ctx(), date],
    ["100 to HTTP/1.0", 100, null, [], 0, ctx(false, true), date],
    ["204", 204, null, [], null, ctx(), date],
    ["304 with length", 304, null, h(["ETag", '"x"']), 0, ctx(), date],
    ["explicit Content-Length", 200, null, h(["Content-Length", "5"]), 5, ctx(), date],
    ["explicit chunked", 200, null, h(["Transfer-Encoding", "chunked"]), null, ctx(), date],
    ["UTF-8 value", 200, null, h(["X-Name", "Zoë ☃"]), 0, ctx(), date],
    ["largest length", 200, null, [], Number.MAX_SAFE_INTEGER, ctx(), date],
    ["length above 2^53 - 1", 200, null, [], 2 ** 60, ctx(), date],
    ["bad status 99", 99, null, [], null, ctx(), date],
    ["bad status 1000", 1000, null, [], null, ctx(), date],
    ["reason with CR", 200, "OK\r\nX: y", [], null, ctx(), date],
    ["name with space", 200, null, h(["A", "1"], ["Bad Name", "x"]), 0, ctx(), date],
    ["empty name", 200, null, h(["", "x"]), null, ctx(), date],
    ["value with LF", 200, null, h(["X", "a\nb"]), null, ctx(), date],
    ["value with NUL", 200, null, h(["X", "a\u0000b"]), null, ctx(), date],
    ["Content-Length mismatch", 200, null, h(["Content-Length", "4"]), 5, ctx(), date],
    ["Content-Length not digits", 200, null, h(["Content-Length", "five"]), null, ctx(), date],
    ["gzip coding", 200, null, h(["Transfer-Encoding", "gzip"]), null, ctx(), date],
    ["chunked with known length", 200, null, h(["Transfer-Encoding", "chunked"]), 3, ctx(), date],
    ["chunked to HTTP/1.0", 200, null, h(["Transfer-Encoding", "chunked"]), null, ctx(false, true), date],
    ["204 with body", 204, null, [], 3, ctx(), date],
    ["204 with Content-Length", 204, null, h(["Content-Length", "0"]), null, ctx(), date],
    ["100 with Transfer-Encoding", 100, null, h(["Transfer-Encoding", "chunked"]), null, ctx(), date],
    ["CONNECT 200: a tunnel", 200, null, h(["Via", "1.1 tophat"]), null, connect(), date],
    ["CONNECT 200 with length 0", 200, "Connection Established", [], 0, connect(), date],
    ["CONNECT 200 to HTTP/1.0 asking to close", 200, null, [], null, connect(true, true), date],
    ["CONNECT 200 with a body length", 200, null, [], 5, connect(), date],
    ["CONNECT 200 with Content-Length", 200, null, h(["Content-Length", "0"]), null, connect(), date],
    ["CONNECT 200 with Transfer-Encoding", 200, null, h(["Transfer-Encoding", "chunked"]), null, connect(), date],
    ["CONNECT 407: framed as usual", 407, null, h(["Proxy-Authenticate", "Basic"]), 0, connect(), date],
  ];
  const frames: FrameCase[] = responses.map(([what, status, reason, headers, bodyLength, context, d]) => {
    const response: ResponseHead = { status, headers: headers.map(([name, value]): Field => ({ name, value })) };
    if (reason !== null) response.reason = reason;
    if (bodyLength !== null) response.bodyLength = bodyLength;
    const expected = normalizeFrame(core.frameHead(response, context, d ?? undefined));
    return { what, response: { status, reason, headers, bodyLength }, context, date: d, expected };
  });

  const chunkSizes = [0, 1, 9, 10, 15, 16, 255, 4096, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER].map((size) => ({
    size,
    expected: bytesText(core.chunkSizeLine(size)),
  }));
  const trailerSets: [string, [string, string][]][] = [
    ["none", []],
    ["two", [["X-Checksum", "abc"], ["Server-Timing", "db;dur=53"]]],
    ["UTF-8 value", [["X-Name", "Zoë"]]],
    ["bad name", [["ok", "1"], ["bad name", "x"]]],
    ["bad value", [["X", "a\r\nInjected: 1"]]],
  ];
  const trailers = trailerSets.map(([what, fields]): TrailerCase => ({
    what,
    fields,
    expected: normalizeTrailer(core.lastChunk(fields.map(([name, value]) => ({ name, value })))),
  }));
  return { parse, incremental, chunked, frames, chunkSizes, trailers };
}

