/**
 * Turns outcomes of the thin binding (`Core`) and of jco's generated bindings into the
 * same plain, JSON-able shape, so the two can be compared with `toEqual`:
 * bigints become numbers (or decimal strings past 2^53), the thin binding's flat field-line
 * numbers (four per line) become `{ name, value }` span objects, byte lists become latin1
 * strings, and absent options become `null`.
 *
 * jco's bindings are loaded at run time and typed here only as far as the tests use them:
 * every value they return is `unknown` and narrowed field by field, so a shape the WIT
 * does not promise fails loudly instead of comparing equal by accident.
 * @module
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import type {
  ChunkedOutcome,
  ChunkedState,
  Field,
  FrameOutcome,
  Limits,
  ParseOutcome,
  RequestContext,
  ResponseHead,
  TrailerOutcome,
} from "../../host/core.js";
import { repoRoot } from "./corpora.js";

// ---- the normalized shapes ------------------------------------------------------------

export interface NSpan {
  start: number;
  len: number;
}
export interface NHeader {
  name: NSpan;
  value: NSpan;
}
export interface NRejection {
  reason: string;
  status: number;
  offset: number;
}
export type NBody = { tag: "none" } | { tag: "content-length"; val: number | string } | { tag: "chunked" };
export type NParse =
  | { tag: "incomplete"; val: number }
  | {
      tag: "complete";
      val: {
        method: NSpan;
        target: NSpan;
        path: NSpan;
        query: NSpan | null;
        authority: NSpan | null;
        version: string;
        headers: NHeader[];
        headLength: number;
        body: NBody;
        keepAlive: boolean;
        expectContinue: boolean;
        upgrade: boolean;
      };
    }
  | { tag: "invalid"; val: NRejection };
export interface NChunkedState {
  phase: string;
  remaining: number | string;
  trailerBytes: number;
  trailerCount: number;
}
export type NChunked =
  | { tag: "progress"; val: { consumed: number; data: NSpan[]; trailers: NHeader[]; state: NChunkedState } }
  | { tag: "invalid"; val: NRejection };
export interface NFrameError {
  reason: string;
  headerIndex: number | null;
}
export type NFrame =
  | { tag: "head"; val: { bytes: string; body: string; contentLength: number | string; close: boolean } }
  | { tag: "invalid"; val: NFrameError };
export type NTrailer = { tag: "bytes"; val: string } | { tag: "invalid"; val: NFrameError };

// ---- small conversions ----------------------------------------------------------------

/** A 64-bit value as a number when exact, else as a decimal string (never silently rounded). */
export function u64(v: bigint | number): number | string {
  if (typeof v === "number") return v;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** Bytes as a latin1 string: byte-exact and readable in a diff. */
export function bytesText(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

function quads(q: ArrayLike<number>): NHeader[] {
  const out: NHeader[] = [];
  for (let i = 0; i + 3 < q.length; i += 4) {
    out.push({ name: { start: q[i]!, len: q[i + 1]! }, value: { start: q[i + 2]!, len: q[i + 3]! } });
  }
  return out;
}

function span(s: { start: number; len: number }): NSpan {
  return { start: s.start, len: s.len };
}

// ---- the thin binding -----------------------------------------------------------------

export function normalizeParse(o: ParseOutcome): NParse {
  switch (o.tag) {
    case "incomplete":
      return { tag: "incomplete", val: o.val };
    case "invalid":
      return { tag: "invalid", val: { ...o.val } };
    case "complete": {
      const h = o.val;
      return {
        tag: "complete",
        val: {
          method: span(h.method),
          target: span(h.target),
          path: span(h.path),
          query: h.query === undefined ? null : span(h.query),
          authority: h.authority === undefined ? null : span(h.authority),
          version: h.version,
          headers: quads(h.headers),
          headLength: h.headLength,
          body: h.body.tag === "content-length" ? { tag: "content-length", val: u64(h.body.val) } : { tag: h.body.tag },
          keepAlive: h.keepAlive,
          expectContinue: h.expectContinue,
          upgrade: h.upgrade,
        },
      };
    }
  }
}

export function normalizeChunked(o: ChunkedOutcome): NChunked {
  if (o.tag === "invalid") return { tag: "invalid", val: { ...o.val } };
  const p = o.val;
  return {
    tag: "progress",
    val: {
      consumed: p.consumed,
      data: p.data.map(span),
      trailers: quads(p.trailers),
      state: {
        phase: p.state.phase,
        remaining: u64(p.state.remaining),
        trailerBytes: p.state.trailerBytes,
        trailerCount: p.state.trailerCount,
      },
    },
  };
}

export function normalizeFrame(o: FrameOutcome): NFrame {
  if (o.tag === "invalid") return { tag: "invalid", val: { reason: o.val.reason, headerIndex: o.val.headerIndex ?? null } };
  const f = o.val;
  return { tag: "head", val: { bytes: bytesText(f.bytes), body: f.body, contentLength: u64(f.contentLength), close: f.close } };
}

export function normalizeTrailer(o: TrailerOutcome): NTrailer {
  if (o.tag === "invalid") return { tag: "invalid", val: { reason: o.val.reason, headerIndex: o.val.headerIndex ?? null } };
  return { tag: "bytes", val: bytesText(o.val) };
}

// ---- jco: narrowing unknown values ----------------------------------------------------

type Obj = Record<string, unknown>;

function bad(where: string, what: string, v: unknown): never {
  throw new TypeError(`jco ${where}: expected ${what}, got ${typeof v === "bigint" ? `${v}n` : JSON.stringify(v)}`);
}
function obj(v: unknown, where: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad(where, "an object", v);
  return v as Obj;
}
function num(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) bad(where, "an integer", v);
  return v;
}
function big(v: unknown, where: string): bigint {
  if (typeof v !== "bigint") bad(where, "a bigint", v);
  return v;
}
function str(v: unknown, where: string): string {
  if (typeof v !== "string") bad(where, "a string", v);
  return v;
}
function bool(v: unknown, where: string): boolean {
  if (typeof v !== "boolean") bad(where, "a boolean", v);
  return v;
}
function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) bad(where, "an array", v);
  return v;
}
function bytes(v: unknown, where: string): Uint8Array {
  if (!(v instanceof Uint8Array)) bad(where, "a Uint8Array", v);
  return v;
}
function tagOf(v: unknown, where: string): { tag: string; val: unknown } {
  const o = obj(v, where);
  return { tag: str(o["tag"], `${where}.tag`), val: o["val"] };
}
function jSpan(v: unknown, where: string): NSpan {
  const o = obj(v, where);
  return { start: num(o["start"], `${where}.start`), len: num(o["len"], `${where}.len`) };
}
/** jco leaves an absent `option` as undefined (the key may or may not be there). */
function jOptSpan(v: unknown, where: string): NSpan | null {
  return v === undefined ? null : jSpan(v, where);
}
function jHeaders(v: unknown, where: string): NHeader[] {
  return list(v, where).map((h, i) => {
    const o = obj(h, `${where}[${i}]`);
    return { name: jSpan(o["name"], `${where}[${i}].name`), value: jSpan(o["value"], `${where}[${i}].value`) };
  });
}
function jRejection(v: unknown, where: string): NRejection {
  const o = obj(v, where);
  return {
    reason: str(o["reason"], `${where}.reason`),
    status: num(o["status"], `${where}.status`),
    offset: num(o["offset"], `${where}.offset`),
  };
}
function jFrameError(v: unknown, where: string): NFrameError {
  const o = obj(v, where);
  const i = o["headerIndex"];
  return { reason: str(o["reason"], `${where}.reason`), headerIndex: i === undefined ? null : num(i, `${where}.headerIndex`) };
}

export function normalizeJcoParse(v: unknown): NParse {
  const { tag, val } = tagOf(v, "parse-outcome");
  switch (tag) {
    case "incomplete":
      return { tag: "incomplete", val: num(val, "parse-outcome.incomplete") };
    case "invalid":
      return { tag: "invalid", val: jRejection(val, "parse-outcome.invalid") };
    case "complete": {
      const h = obj(val, "request-head");
      const b = tagOf(h["body"], "request-head.body");
      let body: NBody;
      if (b.tag === "content-length") body = { tag: "content-length", val: u64(big(b.val, "body.content-length")) };
      else if (b.tag === "none" || b.tag === "chunked") body = { tag: b.tag };
      else bad("request-head.body", "a body-framing case", b.tag);
      return {
        tag: "complete",
        val: {
          method: jSpan(h["method"], "method"),
          target: jSpan(h["target"], "target"),
          path: jSpan(h["path"], "path"),
          query: jOptSpan(h["query"], "query"),
          authority: jOptSpan(h["authority"], "authority"),
          version: str(h["version"], "version"),
          headers: jHeaders(h["headers"], "headers"),
          headLength: num(h["headLength"], "headLength"),
          body,
          keepAlive: bool(h["keepAlive"], "keepAlive"),
          expectContinue: bool(h["expectContinue"], "expectContinue"),
          upgrade: bool(h["upgrade"], "upgrade"),
        },
      };
    }
    default:
      return bad("parse-outcome.tag", "a parse-outcome case", tag);
  }
}

export function normalizeJcoChunked(v: unknown): NChunked {
  const { tag, val } = tagOf(v, "chunked-outcome");
  if (tag === "invalid") return { tag: "invalid", val: jRejection(val, "chunked-outcome.invalid") };
  if (tag !== "progress") bad("chunked-outcome.tag", "a chunked-outcome case", tag);
  const p = obj(val, "chunked-progress");
  const s = obj(p["state"], "chunked-state");
  return {
    tag: "progress",
    val: {
      consumed: num(p["consumed"], "consumed"),
      data: list(p["data"], "data").map((d, i) => jSpan(d, `data[${i}]`)),
      trailers: jHeaders(p["trailers"], "trailers"),
      state: {
        phase: str(s["phase"], "state.phase"),
        remaining: u64(big(s["remaining"], "state.remaining")),
        trailerBytes: num(s["trailerBytes"], "state.trailerBytes"),
        trailerCount: num(s["trailerCount"], "state.trailerCount"),
      },
    },
  };
}

export function normalizeJcoFrame(v: unknown): NFrame {
  const { tag, val } = tagOf(v, "frame-outcome");
  if (tag === "invalid") return { tag: "invalid", val: jFrameError(val, "frame-outcome.invalid") };
  if (tag !== "head") bad("frame-outcome.tag", "a frame-outcome case", tag);
  const f = obj(val, "framed-head");
  return {
    tag: "head",
    val: {
      bytes: bytesText(bytes(f["bytes"], "framed-head.bytes")),
      body: str(f["body"], "framed-head.body"),
      contentLength: u64(big(f["contentLength"], "framed-head.contentLength")),
      close: bool(f["close"], "framed-head.close"),
    },
  };
}

export function normalizeJcoTrailer(v: unknown): NTrailer {
  const { tag, val } = tagOf(v, "trailer-outcome");
  if (tag === "invalid") return { tag: "invalid", val: jFrameError(val, "trailer-outcome.invalid") };
  if (tag !== "bytes") bad("trailer-outcome.tag", "a trailer-outcome case", tag);
  return { tag: "bytes", val: bytesText(bytes(val, "trailer-outcome.bytes")) };
}

export function normalizeJcoBytes(v: unknown): string {
  return bytesText(bytes(v, "list<u8>"));
}

// ---- jco: loading ---------------------------------------------------------------------

/** jco's chunked state: the thin binding's, as jco takes it. */
type JcoChunkedState = ChunkedState;
/** jco's response head: 64-bit lengths are bigints there. */
interface JcoResponseHead {
  status: number;
  reason?: string;
  headers: Field[];
  bodyLength?: bigint;
}

/** The calls of jco's generated bindings that the tests make; results stay `unknown`. */
export interface JcoCore {
  parseHead(bytes: Uint8Array, limits: Limits): unknown;
  decode(bytes: Uint8Array, state: JcoChunkedState, limits: Limits): unknown;
  frameHead(response: JcoResponseHead, request: RequestContext, date: string | undefined): unknown;
  chunkSizeLine(size: bigint): unknown;
  lastChunk(trailers: Field[]): unknown;
}

/** The thin binding's response head in jco's argument shape. */
export function jcoResponseHead(r: ResponseHead): JcoResponseHead {
  const out: JcoResponseHead = { status: r.status, headers: r.headers };
  if (r.reason !== undefined) out.reason = r.reason;
  if (r.bodyLength !== undefined) out.bodyLength = BigInt(r.bodyLength);
  return out;
}

function fn(o: Obj, name: string, where: string): (...args: unknown[]) => unknown {
  const f = o[name];
  if (typeof f !== "function") bad(`${where}.${name}`, "a function", typeof f);
  return (...args: unknown[]): unknown => Reflect.apply(f, o, args);
}

/** Imports `dist/jco/tophat-http.js` (built by `node build/build.js`). */
export async function loadJco(): Promise<JcoCore> {
  const url = pathToFileURL(path.join(repoRoot, "dist", "jco", "tophat-http.js")).href;
  const mod: unknown = await import(url);
  const m = obj(mod, "module");
  const parser = obj(m["parser"], "parser");
  const chunked = obj(m["chunked"], "chunked");
  const framer = obj(m["framer"], "framer");
  const parseHead = fn(parser, "parseHead", "parser");
  const decode = fn(chunked, "decode", "chunked");
  const frameHead = fn(framer, "frameHead", "framer");
  const chunkSizeLine = fn(framer, "chunkSizeLine", "framer");
  const lastChunk = fn(framer, "lastChunk", "framer");
  return {
    parseHead: (b, l) => parseHead(b, l),
    decode: (b, s, l) => decode(b, s, l),
    frameHead: (r, q, d) => frameHead(r, q, d),
    chunkSizeLine: (n) => chunkSizeLine(n),
    lastChunk: (t) => lastChunk(t),
  };
}
