/**
 * One run of calls through a core binding, made the same way wherever it runs: in Node
 * against either entry, and in a Chromium page against `tophat/core/portable`. So it imports
 * only the portable entry, uses no Node API, takes its inputs as latin1 strings (one char
 * per byte, which survive the trip into a page as JSON) and returns every outcome serialized,
 * so that two runs compare with `toEqual` call by call.
 *
 * - Every head: parse-head on the whole input under each limit set, and on every prefix
 *   (those outcomes folded into one digest per head, so a page does not send back 10^5 strings).
 * - Every chunked body behind a complete head, and every extra body: decode whole, split in
 *   two at every point (state carried), and one byte at a time (state and unconsumed bytes
 *   carried).
 * - A set of framer calls: frame-head (twice each, the second from the binding's memo),
 *   frame-message with ASCII, UTF-8, lone-surrogate and byte bodies, chunk-size lines and
 *   last chunks.
 * @module
 */
import {
  DEFAULT_LIMITS,
  initialChunkedState,
  type ChunkedOutcome,
  type ChunkedState,
  type Core,
  type Field,
  type Limits,
  type RequestContext,
  type ResponseHead,
} from "../../host/core-portable.js";

/** What a run is given. */
export interface WorkloadInput {
  /** Heads fed whole and by every prefix: `[name, latin1 bytes]`. */
  heads: [string, string][];
  /** Inputs fed whole only (the fuzz corpus: large, and many): `[name, latin1 bytes]`. */
  wholeHeads: [string, string][];
  /** Chunked bodies decoded besides those found behind heads: `[name, latin1 bytes]`. */
  bodies: [string, string][];
}

/** One call, or one digest of calls, and what came back (serialized). */
export interface WorkloadResult {
  what: string;
  outcome: string;
}

/** Small enough that the corpus reaches every limit (as in the jco equivalence test). */
export const TIGHT_LIMITS: Limits = { maxHeadBytes: 96, maxHeaders: 3, maxTargetLength: 12, maxChunkExtensionLength: 6 };

const LIMITS: readonly [string, Limits][] = [
  ["default", DEFAULT_LIMITS],
  ["tight", TIGHT_LIMITS],
];

/** A latin1 string's bytes. */
export function bytesOfLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Bytes as a latin1 string. */
export function latin1Of(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * An outcome as JSON, with bigints and byte arrays spelled out (JSON has neither, and a
 * Buffer would serialize through its own toJSON): a Buffer and a Uint8Array holding the
 * same bytes serialize the same, so Node's Buffer outputs compare equal to a page's arrays.
 */
export function serialize(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown): unknown {
    const raw = this[key];
    if (raw instanceof Uint8Array) return { bytes: latin1Of(raw) };
    if (typeof v === "bigint") return { bigint: v.toString() };
    return v;
  });
}

/** FNV-1a over the serialized outcomes of many calls, with how many there were. */
class Digest {
  #hash = 0x811c9dc5;
  #count = 0;
  add(s: string): void {
    let h = this.#hash;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    // A separator, so that ["ab", "c"] and ["a", "bc"] differ.
    this.#hash = Math.imul(h ^ 0x1f, 0x01000193) >>> 0;
    this.#count++;
  }
  toString(): string {
    return `${this.#count} calls, fnv1a ${this.#hash.toString(16).padStart(8, "0")}`;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function decodeAll(core: Core, body: Uint8Array, limits: Limits, what: string, out: WorkloadResult[]): void {
  out.push({ what: `decode ${what} whole`, outcome: serialize(core.decodeChunked(body, initialChunkedState(), limits)) });

  const splits = new Digest();
  for (let k = 1; k < body.length; k++) {
    const first: ChunkedOutcome = core.decodeChunked(body.subarray(0, k), initialChunkedState(), limits);
    splits.add(serialize(first));
    if (first.tag !== "progress") continue;
    splits.add(serialize(core.decodeChunked(body.subarray(first.val.consumed), first.val.state, limits)));
  }
  out.push({ what: `decode ${what} split in two`, outcome: splits.toString() });

  const bytewise = new Digest();
  let state: ChunkedState = initialChunkedState();
  let held = new Uint8Array(0);
  let last = "";
  for (let i = 0; i < body.length; i++) {
    const buf = concat(held, body.subarray(i, i + 1));
    const r = core.decodeChunked(buf, state, limits);
    last = serialize(r);
    bytewise.add(last);
    if (r.tag !== "progress") break;
    state = r.val.state;
    held = buf.slice(r.val.consumed);
    if (state.phase === "done") break;
  }
  out.push({ what: `decode ${what} byte by byte`, outcome: `${bytewise}; last ${last}` });
}

const DATE = "Sun, 06 Nov 1994 08:49:37 GMT";
const ctx = (head = false, http10 = false, close = false): RequestContext => ({ head, http10, close });
const fields = (...pairs: [string, string][]): Field[] => pairs.map(([name, value]) => ({ name, value }));

const FRAME_CASES: [string, ResponseHead, RequestContext, string | undefined][] = [
  ["200 known length", { status: 200, headers: fields(["Content-Type", "text/plain"]), bodyLength: 5 }, ctx(), DATE],
  ["200 streamed, HTTP/1.1", { status: 200, headers: [] }, ctx(), DATE],
  ["200 streamed, HTTP/1.0", { status: 200, headers: [] }, ctx(false, true), DATE],
  ["HEAD", { status: 200, headers: [], bodyLength: 1234 }, ctx(true), DATE],
  ["close", { status: 200, headers: [], bodyLength: 0 }, ctx(false, false, true), undefined],
  ["custom reason", { status: 299, reason: "Fine Thanks", headers: [], bodyLength: 0 }, ctx(), DATE],
  ["101", { status: 101, headers: fields(["Upgrade", "websocket"], ["Connection", "Upgrade"]) }, ctx(), DATE],
  ["304 with length", { status: 304, headers: fields(["ETag", '"x"']), bodyLength: 0 }, ctx(), DATE],
  ["UTF-8 value", { status: 200, headers: fields(["X-Name", "Zoë ☃ 😀"]), bodyLength: 0 }, ctx(), DATE],
  ["long ASCII value", { status: 200, headers: fields(["X-Long", "v".repeat(300)]), bodyLength: 0 }, ctx(), DATE],
  ["huge length", { status: 200, headers: [], bodyLength: Number.MAX_SAFE_INTEGER }, ctx(), DATE],
  ["length over 2^53", { status: 200, headers: [], bodyLength: 2 ** 60 }, ctx(), DATE],
  ["bad status 99", { status: 99, headers: [] }, ctx(), DATE],
  ["reason with CR", { status: 200, reason: "OK\r\nX: y", headers: [] }, ctx(), DATE],
  ["name with space", { status: 200, headers: fields(["A", "1"], ["Bad Name", "x"]), bodyLength: 0 }, ctx(), DATE],
  ["value with NUL", { status: 200, headers: fields(["X", "a\u0000b"]) }, ctx(), DATE],
  ["Content-Length mismatch", { status: 200, headers: fields(["Content-Length", "4"]), bodyLength: 5 }, ctx(), DATE],
  ["gzip coding", { status: 200, headers: fields(["Transfer-Encoding", "gzip"]) }, ctx(), DATE],
  ["204 with body", { status: 204, headers: [], bodyLength: 3 }, ctx(), DATE],
];

/** Bodies whose UTF-8 length the binding counts itself (ASCII short and long, multi-byte, lone surrogates). */
const MESSAGE_BODIES: [string, string | Uint8Array][] = [
  ["empty", ""],
  ["short ASCII", "hello"],
  ["long ASCII", "0123456789".repeat(30)],
  ["UTF-8", "Zoë ☃ 😀 ünïcödé"],
  ["long UTF-8", "ß☃😀".repeat(40)],
  ["lone high surrogate", "a\ud800b"],
  ["lone low surrogate", "\udc00"],
  ["high surrogate at the end", "end\ud83d"],
  ["bytes", new Uint8Array([0, 1, 2, 0xff, 0x80, 13, 10])],
];

function framerCalls(core: Core, out: WorkloadResult[]): void {
  for (const [what, response, request, date] of FRAME_CASES) {
    const first = core.frameHead(response, request, date);
    const again = core.frameHead(response, request, date);
    out.push({ what: `frame-head ${what}`, outcome: serialize(first) });
    // The repeat comes from the binding's memo: same outcome, bytes of its own.
    const distinct = first.tag !== "head" || again.tag !== "head" || first.val.bytes !== again.val.bytes;
    out.push({ what: `frame-head ${what} again`, outcome: `${serialize(again)}; own bytes: ${distinct}` });
  }
  const messageContexts: [string, ResponseHead, RequestContext][] = [
    ["200", { status: 200, headers: fields(["Content-Type", "text/plain; charset=utf-8"]) }, ctx()],
    ["HEAD", { status: 200, headers: [] }, ctx(true)],
    ["204", { status: 204, headers: [] }, ctx()],
    ["HTTP/1.0 close", { status: 200, headers: [] }, ctx(false, true, true)],
  ];
  for (const [cw, response, request] of messageContexts) {
    for (const [bw, body] of MESSAGE_BODIES) {
      out.push({ what: `frame-message ${cw} ${bw}`, outcome: serialize(core.frameMessage(response, request, DATE, body)) });
    }
  }
  for (const size of [0, 1, 15, 16, 255, 4096, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    out.push({ what: `chunk-size-line ${size}`, outcome: serialize(core.chunkSizeLine(size)) });
  }
  const trailers: [string, Field[]][] = [
    ["none", []],
    ["two", fields(["X-Checksum", "abc"], ["Server-Timing", "db;dur=53"])],
    ["UTF-8 value", fields(["X-Name", "Zoë"])],
    ["bad name", fields(["ok", "1"], ["bad name", "x"])],
    ["bad value", fields(["X", "a\r\nInjected: 1"])],
  ];
  for (const [what, t] of trailers) out.push({ what: `last-chunk ${what}`, outcome: serialize(core.lastChunk(t)) });
}

/** Runs every call of the workload through `core`, in order. */
export function runWorkload(core: Core, input: WorkloadInput): WorkloadResult[] {
  const out: WorkloadResult[] = [];
  for (const [name, text] of input.heads) {
    const bytes = bytesOfLatin1(text);
    for (const [ln, limits] of LIMITS) {
      const whole = core.parseHead(bytes, limits);
      out.push({ what: `parse-head ${name} (${ln})`, outcome: serialize(whole) });
      const prefixes = new Digest();
      for (let n = 0; n < bytes.length; n++) prefixes.add(serialize(core.parseHead(bytes.subarray(0, n), limits)));
      out.push({ what: `parse-head ${name} (${ln}) every prefix`, outcome: prefixes.toString() });
      if (whole.tag === "complete" && whole.val.body.tag === "chunked" && whole.val.headLength < bytes.length) {
        for (const [bl, bodyLimits] of LIMITS) decodeAll(core, bytes.subarray(whole.val.headLength), bodyLimits, `${name} (head ${ln}, body ${bl})`, out);
      }
    }
  }
  for (const [name, text] of input.wholeHeads) {
    const bytes = bytesOfLatin1(text);
    for (const [ln, limits] of LIMITS) out.push({ what: `parse-head ${name} (${ln})`, outcome: serialize(core.parseHead(bytes, limits)) });
  }
  for (const [name, text] of input.bodies) {
    for (const [ln, limits] of LIMITS) decodeAll(core, bytesOfLatin1(text), limits, `${name} (${ln})`, out);
  }
  framerCalls(core, out);
  return out;
}
