/**
 * The thin binding to the protocol core: typed calls straight into the core module's
 * canonical-ABI exports (the module `jco transpile` extracts from the component). This is
 * the only code that knows the core's memory layouts; they are written out in
 * `wit/tophat.wit` and checked against jco's generated bindings by the test suite.
 *
 * It runs on any JavaScript runtime with WebAssembly and TextEncoder (browsers, workers,
 * Node; tested in Chromium and Node): nothing here, nor in what it imports, uses `node:`
 * modules, `Buffer` or `process`, and the core comes in as bytes or a compiled module.
 * Node's entry (`binding.ts`) extends it with loading from a file and Buffers for output.
 *
 * Why not jco's bindings on the hot path: jco ≥ 1.13 wraps every call in async-task
 * bookkeeping, measured at 3–8 µs per call where a direct call into the core export costs
 * 0.01–1.5 µs (a parse of a 460-byte head with 10 fields: 1.45 µs direct, 8.4 µs via
 * jco 1.35). The component stays the published artifact for other hosts.
 * @module
 */
import {
  BODY_MODES,
  CHUNKED_PHASES,
  FRAME_ERROR_REASONS,
  REJECT_REASONS,
  type BodyFraming,
  type ChunkedOutcome,
  type ChunkedState,
  type Field,
  type FrameError,
  type FrameOutcome,
  type FramedHead,
  type Limits,
  type MessageOutcome,
  type ParseOutcome,
  type Rejection,
  type RequestContext,
  type ResponseHead,
  type Span,
  type TrailerOutcome,
} from "./types.js";

/** Thrown when the core trapped. The instance was replaced; only this call failed. */
export class CoreTrapError extends Error {
  constructor(call: string, cause: unknown) {
    super(`the protocol core trapped in ${call}; it was re-instantiated`, { cause });
    this.name = "CoreTrapError";
  }
}

interface CoreExports {
  memory: WebAssembly.Memory;
  cabi_realloc(oldPtr: number, oldSize: number, align: number, newSize: number): number;
  parseHead(ptr: number, len: number, maxHead: number, maxHeaders: number, maxTarget: number, maxExt: number): number;
  postParseHead(ret: number): void;
  decode(
    ptr: number, len: number, phase: number, remaining: bigint, trailerBytes: number, trailerCount: number,
    maxHead: number, maxHeaders: number, maxTarget: number, maxExt: number,
  ): number;
  postDecode(ret: number): void;
  frameHead(
    status: number, hasReason: number, reasonPtr: number, reasonLen: number, fieldsPtr: number, fieldsLen: number,
    hasLength: number, bodyLength: bigint, head: number, http10: number, close: number, connect: number,
    hasDate: number, datePtr: number, dateLen: number,
  ): number;
  postFrameHead(ret: number): void;
  chunkSizeLine(size: bigint): number;
  postChunkSizeLine(ret: number): void;
  lastChunk(ptr: number, len: number): number;
  postLastChunk(ret: number): void;
}

const PARSE_HEAD = "tophat:http/parser@0.2.0#parse-head";
const DECODE = "tophat:http/chunked@0.2.0#decode";
const FRAME_HEAD = "tophat:http/framer@0.2.0#frame-head";
const CHUNK_SIZE_LINE = "tophat:http/framer@0.2.0#chunk-size-line";
const LAST_CHUNK = "tophat:http/framer@0.2.0#last-chunk";

function exportsOf(instance: WebAssembly.Instance): CoreExports {
  const e = instance.exports;
  const fn = <T>(name: string): T => {
    const f = e[name];
    if (typeof f !== "function") throw new Error(`the core module has no export "${name}"`);
    return f as T;
  };
  const memory = e["memory"];
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('the core module has no "memory" export');
  return {
    memory,
    cabi_realloc: fn("cabi_realloc"),
    parseHead: fn(PARSE_HEAD),
    postParseHead: fn(`cabi_post_${PARSE_HEAD}`),
    decode: fn(DECODE),
    postDecode: fn(`cabi_post_${DECODE}`),
    frameHead: fn(FRAME_HEAD),
    postFrameHead: fn(`cabi_post_${FRAME_HEAD}`),
    chunkSizeLine: fn(CHUNK_SIZE_LINE),
    postChunkSizeLine: fn(`cabi_post_${CHUNK_SIZE_LINE}`),
    lastChunk: fn(LAST_CHUNK),
    postLastChunk: fn(`cabi_post_${LAST_CHUNK}`),
  };
}

const utf8 = new TextEncoder();

/** Room the field strings of one framing call may take in the core's memory (bounded at 16 MiB). */
const MAX_FIELDS_BYTES = 3 * 1024 * 1024;

function checkLength(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be an integer 0 … 2^53 - 1, got ${n}`);
}

/**
 * A body length is a WIT u64: any integer from 0 to 2^64 - 1 goes to the core, which
 * answers `bad-content-length` above 2^53 - 1 as it does for every host. Only what isn't
 * a u64 at all (negative, fractional, NaN) is refused here.
 */
function checkU64(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 64) throw new RangeError(`${what} must be an integer 0 … 2^64 - 1, got ${n}`);
}

// Outcomes without a payload are shared (and frozen) rather than allocated per call.
const BODY_NONE: BodyFraming = Object.freeze({ tag: "none" });
const BODY_CHUNKED: BodyFraming = Object.freeze({ tag: "chunked" });

/** A framed head and the inputs it was framed from (field names and values flattened). */
interface FrameMemo {
  status: number;
  reason: string | undefined;
  bodyLength: number | undefined;
  fields: string[];
  head: boolean;
  http10: boolean;
  close: boolean;
  connect: boolean;
  date: string | undefined;
  /** The memo's own head, never handed out (callers get copies of its bytes). */
  framed: FramedHead;
}

/** ASCII text up to this length is copied character by character. */
const SHORT_TEXT = 64;

/**
 * How many bytes `text` takes as UTF-8, counted as TextEncoder writes it: a lone surrogate
 * becomes U+FFFD (3 bytes), a surrogate pair one 4-byte sequence. Counted rather than
 * encoded so that sizing a message allocates nothing.
 */
function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // Two UTF-16 units, four bytes.
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

function frameMemo(response: ResponseHead, request: RequestContext, date: string | undefined, framed: FramedHead): FrameMemo {
  const fields: string[] = [];
  for (const f of response.headers) fields.push(f.name, f.value);
  return {
    status: response.status,
    reason: response.reason,
    bodyLength: response.bodyLength,
    fields,
    head: request.head,
    http10: request.http10,
    close: request.close,
    connect: request.connect === true,
    date,
    framed,
  };
}

function sameFrameInputs(m: FrameMemo, response: ResponseHead, request: RequestContext, date: string | undefined): boolean {
  if (m.status !== response.status || m.bodyLength !== response.bodyLength || m.reason !== response.reason || m.date !== date) return false;
  if (m.head !== request.head || m.http10 !== request.http10 || m.close !== request.close || m.connect !== (request.connect === true)) return false;
  const headers = response.headers;
  if (headers.length * 2 !== m.fields.length) return false;
  for (let i = 0; i < headers.length; i++) {
    const f = headers[i]!;
    if (f.name !== m.fields[2 * i] || f.value !== m.fields[2 * i + 1]) return false;
  }
  return true;
}

/**
 * A compiled core module: `WebAssembly.Module` where the WebAssembly types are declared.
 *
 * Looked up on `globalThis` rather than named, because those types come with TypeScript's
 * DOM and web worker libs, not with `@types/node`: a Node program compiled without them
 * sees `never` here (and passes bytes) instead of an error in this package's types.
 */
export type CompiledCoreModule = typeof globalThis extends {
  /** The WebAssembly namespace, where the libs declare it. */
  WebAssembly: {
    /** The `WebAssembly.Module` constructor. */
    Module: {
      /** What the constructor makes: `WebAssembly.Module`. */
      prototype: infer M;
    };
  };
}
  ? M
  : never;

/**
 * The core module as a host has it: the bytes of a core `.wasm` build (for example fetched
 * from the package's `tophat/core/wasm`), or the module compiled from them.
 */
export type CoreSource = Uint8Array<ArrayBuffer> | ArrayBuffer | CompiledCoreModule;

/**
 * One instance of the protocol core. Calls are synchronous and cheap; a trap replaces
 * the instance and throws {@link CoreTrapError} for that call only.
 *
 * Byte outputs (framed heads and messages, chunk-size lines, last chunks) are plain
 * `Uint8Array`s here; `tophat/core`'s Core, for Node, makes them Buffers.
 */
export class Core {
  #module: WebAssembly.Module;
  #x!: CoreExports;
  #u8!: Uint8Array;
  #u32!: Uint32Array;
  #view!: DataView;
  /** How many times a trap made the core start over (for tests and monitoring). */
  restarts = 0;

  /**
   * Compiles (when given bytes) and instantiates the core module, synchronously. Browsers
   * may refuse to compile a large module on the main thread this way; the core is small
   * enough for Chromium, and {@link Core.compile} is the asynchronous alternative.
   */
  constructor(source: CoreSource) {
    this.#module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source as BufferSource);
    this.#instantiate();
  }

  /**
   * Compiles a core module given as bytes (for example one of the package's `tophat/core/…`
   * builds). Called on a subclass (`tophat/core`'s Core), it makes one of that subclass.
   */
  static fromBytes<C extends Core>(this: new (source: CoreSource) => C, bytes: Uint8Array<ArrayBuffer> | ArrayBuffer): C {
    return new this(bytes);
  }

  /**
   * Compiles the core module asynchronously (`WebAssembly.compile`, which browsers allow on
   * the main thread for a module of any size), then instantiates it.
   */
  static async compile<C extends Core>(this: new (source: CoreSource) => C, source: CoreSource): Promise<C> {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source as BufferSource);
    return new this(module);
  }

  /**
   * A byte array of `length` for an output; its contents are overwritten by the caller.
   * Node's subclass takes Buffers from Node's pool instead.
   * @internal
   */
  protected allocate(length: number): Uint8Array {
    return new Uint8Array(length);
  }

  /**
   * How many bytes `text` takes as UTF-8, as {@link Core.writeUtf8} writes it: the two are
   * overridden together, since a message is sized by one and filled by the other.
   * @internal
   */
  protected utf8Length(text: string): number {
    return utf8Length(text);
  }

  /**
   * Writes `text` as UTF-8 into `into` at `at`; `into` has room for exactly
   * `this.utf8Length(text)` bytes there.
   * @internal
   */
  protected writeUtf8(into: Uint8Array, at: number, text: string): void {
    utf8.encodeInto(text, into.subarray(at));
  }

  /** Writes `body` (a string as UTF-8, `length` bytes) into `out` at `at`. */
  #putBody(out: Uint8Array, at: number, body: string | Uint8Array, length: number): void {
    if (typeof body !== "string") out.set(body, at);
    else if (length === body.length && length <= SHORT_TEXT) {
      // ASCII (its UTF-8 is as long as the string only then) and short: cheaper copied
      // here than through an encoder.
      for (let i = 0; i < length; i++) out[at + i] = body.charCodeAt(i);
    } else this.writeUtf8(out, at, body);
  }

  /** A copy of `bytes` in an output array of its own. */
  #copyOf(bytes: Uint8Array): Uint8Array {
    const out = this.allocate(bytes.length);
    out.set(bytes);
    return out;
  }

  #instantiate(): void {
    this.#x = exportsOf(new WebAssembly.Instance(this.#module, {}));
    this.#refresh();
  }

  #refresh(): void {
    const buffer = this.#x.memory.buffer;
    this.#u8 = new Uint8Array(buffer);
    this.#u32 = new Uint32Array(buffer);
    this.#view = new DataView(buffer);
  }

  #fresh(): void {
    // Growing the memory detaches the old buffer, and views of a detached buffer have
    // length 0 (cheaper to read than the memory's `buffer` getter).
    if (this.#u8.length === 0) this.#refresh();
  }

  #trapped(call: string, error: unknown): never {
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    this.restarts++;
    this.#instantiate();
    throw new CoreTrapError(call, error);
  }

  /** Copies `bytes` into the core's memory; returns the address. */
  #put(bytes: Uint8Array): number {
    const ptr = this.#x.cabi_realloc(0, 0, 1, bytes.length);
    this.#fresh();
    this.#u8.set(bytes, ptr);
    return ptr;
  }

  /** A u64 the core keeps at most 2^53 - 1, read without allocating a BigInt. */
  #u53(at: number): number {
    return this.#view.getUint32(at, true) + this.#view.getUint32(at + 4, true) * 0x1_0000_0000;
  }

  #span(at: number): Span {
    const u32 = this.#u32;
    return { start: u32[at >>> 2]!, len: u32[(at >>> 2) + 1]! };
  }

  #optionSpan(at: number): Span | undefined {
    return this.#u8[at] === 0 ? undefined : this.#span(at + 4);
  }

  #rejection(at: number): Rejection {
    const reason = REJECT_REASONS[this.#u8[at]!];
    if (reason === undefined) throw new Error(`the core returned an unknown reject reason ${this.#u8[at]}`);
    return { reason, status: this.#view.getUint16(at + 2, true), offset: this.#view.getUint32(at + 4, true) };
  }

  /** Copies `len` bytes out of the core's memory into an output array. */
  #copyOut(ptr: number, len: number): Uint8Array {
    const out = this.allocate(len);
    out.set(this.#u8.subarray(ptr, ptr + len));
    return out;
  }

  /** Four numbers per field line, copied out of the core's memory. */
  #spanList(ptr: number, count: number): number[] {
    const u32 = this.#u32;
    const n = count * 4;
    const out = new Array<number>(n);
    for (let i = 0, at = ptr >>> 2; i < n; i++) out[i] = u32[at + i]!;
    return out;
  }

  /** Parses the request head at the start of `bytes` (see `parse-head` in the WIT). */
  parseHead(bytes: Uint8Array, limits: Limits): ParseOutcome {
    const x = this.#x;
    let ret: number;
    try {
      const ptr = this.#put(bytes);
      ret = x.parseHead(ptr, bytes.length, limits.maxHeadBytes, limits.maxHeaders, limits.maxTargetLength, limits.maxChunkExtensionLength);
    } catch (error) {
      this.#trapped("parse-head", error);
    }
    this.#fresh();
    const u8 = this.#u8;
    let out: ParseOutcome;
    switch (u8[ret]) {
      case 0:
        out = { tag: "incomplete", val: this.#u32[(ret + 8) >>> 2]! };
        break;
      case 1: {
        const h = ret + 8;
        const u32 = this.#u32;
        const bodyTag = u8[h + 64];
        const body: BodyFraming =
          bodyTag === 0 ? BODY_NONE
          : bodyTag === 1 ? { tag: "content-length", val: this.#u53(h + 72) }
          : BODY_CHUNKED;
        out = {
          tag: "complete",
          val: {
            method: this.#span(h),
            target: this.#span(h + 8),
            path: this.#span(h + 16),
            query: this.#optionSpan(h + 24),
            authority: this.#optionSpan(h + 36),
            version: u8[h + 48] === 0 ? "http10" : "http11",
            headers: this.#spanList(u32[(h + 52) >>> 2]!, u32[(h + 56) >>> 2]!),
            headLength: u32[(h + 60) >>> 2]!,
            body,
            keepAlive: u8[h + 80] !== 0,
            expectContinue: u8[h + 81] !== 0,
            upgrade: u8[h + 82] !== 0,
          },
        };
        break;
      }
      default:
        out = { tag: "invalid", val: this.#rejection(ret + 8) };
    }
    x.postParseHead(ret);
    return out;
  }

  /** Decodes as much of a chunked body as `bytes` holds (see `chunked.decode` in the WIT). */
  decodeChunked(bytes: Uint8Array, state: ChunkedState, limits: Limits): ChunkedOutcome {
    const x = this.#x;
    let ret: number;
    try {
      const ptr = this.#put(bytes);
      ret = x.decode(
        ptr, bytes.length, CHUNKED_PHASES.indexOf(state.phase), state.remaining, state.trailerBytes, state.trailerCount,
        limits.maxHeadBytes, limits.maxHeaders, limits.maxTargetLength, limits.maxChunkExtensionLength,
      );
    } catch (error) {
      this.#trapped("chunked.decode", error);
    }
    this.#fresh();
    const u32 = this.#u32;
    let out: ChunkedOutcome;
    if (this.#u8[ret] === 0) {
      const dataPtr = u32[(ret + 12) >>> 2]!;
      const dataCount = u32[(ret + 16) >>> 2]!;
      const data: Span[] = new Array<Span>(dataCount);
      for (let i = 0; i < dataCount; i++) data[i] = this.#span(dataPtr + i * 8);
      const phase = CHUNKED_PHASES[this.#u8[ret + 32]!];
      if (phase === undefined) throw new Error(`the core returned an unknown chunked phase ${this.#u8[ret + 32]}`);
      out = {
        tag: "progress",
        val: {
          consumed: u32[(ret + 8) >>> 2]!,
          data,
          trailers: this.#spanList(u32[(ret + 20) >>> 2]!, u32[(ret + 24) >>> 2]!),
          state: {
            phase,
            remaining: this.#view.getBigUint64(ret + 40, true),
            trailerBytes: u32[(ret + 48) >>> 2]!,
            trailerCount: u32[(ret + 52) >>> 2]!,
          },
        },
      };
    } else {
      out = { tag: "invalid", val: this.#rejection(ret + 8) };
    }
    x.postDecode(ret);
    return out;
  }

  /** Where `#putString` writes next. */
  #cursor = 0;

  /** Writes `s` as UTF-8 at the cursor; returns its length in bytes. */
  #putString(s: string): number {
    // Header text is almost always ASCII: copy it byte by byte; hand anything else to the
    // UTF-8 encoder.
    const u8 = this.#u8;
    let at = this.#cursor;
    const begin = at;
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      u8[at++] = c;
    }
    if (i < s.length) at += utf8.encodeInto(s.slice(i), u8.subarray(at)).written;
    this.#cursor = at;
    return at - begin;
  }

  /**
   * Writes `fields` as a canonical-ABI `list<field>` and the strings it points to, in one
   * allocation with room for `extraChars` more characters at the cursor; returns the
   * list's address.
   */
  #putFields(fields: readonly Field[], extraChars: number): number {
    let size = fields.length * 16 + extraChars * 3;
    for (const f of fields) size += (f.name.length + f.value.length) * 3;
    if (size > MAX_FIELDS_BYTES) throw new RangeError(`the response fields are too large to frame (over ${MAX_FIELDS_BYTES / 3} characters)`);
    const list = this.#x.cabi_realloc(0, 0, 4, size);
    this.#fresh();
    const view = this.#view;
    this.#cursor = list + fields.length * 16;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const entry = list + i * 16;
      view.setUint32(entry, this.#cursor, true);
      view.setUint32(entry + 4, this.#putString(f.name), true);
      view.setUint32(entry + 8, this.#cursor, true);
      view.setUint32(entry + 12, this.#putString(f.value), true);
    }
    return list;
  }

  #frameError(at: number): FrameError {
    const reason = FRAME_ERROR_REASONS[this.#u8[at]!];
    if (reason === undefined) throw new Error(`the core returned an unknown frame error ${this.#u8[at]}`);
    return { reason, headerIndex: this.#u8[at + 4] === 0 ? undefined : this.#view.getUint32(at + 8, true) };
  }

  /** The last head framed, and what it was framed from (see `frameHead`). */
  #lastFrame: FrameMemo | undefined;

  /**
   * Frames a response head (see `framer.frame-head` in the WIT). Framing is a pure
   * function, so a call with the same inputs as the previous one (a server answering
   * the same kind of response over and over) gets a copy of the previous head without
   * entering the core. Every outcome owns its `bytes`: nothing is shared between calls.
   */
  frameHead(response: ResponseHead, request: RequestContext, date?: string): FrameOutcome {
    const framed = this.#framedFor(response, request, date);
    if ("reason" in framed) return { tag: "invalid", val: framed };
    const { bytes, body, contentLength, close } = framed;
    return { tag: "head", val: { bytes: this.#copyOf(bytes), body, contentLength, close } };
  }

  /**
   * Frames a response head with the length of `body` (a string is UTF-8), as `frameHead`
   * does, and puts the body right behind it: one buffer for one write. The body is left
   * out when the framing carries none (HEAD, 204, 304).
   */
  frameMessage(response: Omit<ResponseHead, "bodyLength">, request: RequestContext, date: string | undefined, body: string | Uint8Array): MessageOutcome {
    const bodyLength = typeof body === "string" ? this.utf8Length(body) : body.length;
    const framed = this.#framedFor({ status: response.status, reason: response.reason, headers: response.headers, bodyLength }, request, date);
    if ("reason" in framed) return { tag: "invalid", val: framed };
    const { bytes: head, body: mode, contentLength, close } = framed;
    const length = mode === "none" ? 0 : bodyLength;
    const bytes = this.allocate(head.length + length);
    bytes.set(head);
    if (length > 0) this.#putBody(bytes, head.length, body, length);
    return { tag: "message", val: { bytes, headLength: head.length, body: mode, contentLength, close } };
  }

  /**
   * The memo's own head for these inputs (framed now if the memo holds others), or the
   * frame error (told apart by its `reason`; no wrapper is made per call). Callers copy
   * its bytes: they are never handed out.
   */
  #framedFor(response: ResponseHead, request: RequestContext, date: string | undefined): FramedHead | FrameError {
    const memo = this.#lastFrame;
    if (memo !== undefined && sameFrameInputs(memo, response, request, date)) return memo.framed;
    const outcome = this.#frameHead(response, request, date);
    if (outcome.tag === "invalid") return outcome.val;
    this.#lastFrame = frameMemo(response, request, date, outcome.val);
    return this.#lastFrame.framed;
  }

  #frameHead(response: ResponseHead, request: RequestContext, date: string | undefined): FrameOutcome {
    const x = this.#x;
    if (!Number.isInteger(response.status) || response.status < 0 || response.status > 0xffff) {
      throw new RangeError(`frameHead: status must be an integer, got ${response.status}`);
    }
    if (response.bodyLength !== undefined) checkU64("frameHead: bodyLength", response.bodyLength);
    let ret: number;
    try {
      const reason = response.reason;
      const list = this.#putFields(response.headers, (reason?.length ?? 0) + (date?.length ?? 0));
      const reasonPtr = this.#cursor;
      const reasonLen = reason === undefined ? 0 : this.#putString(reason);
      const datePtr = this.#cursor;
      const dateLen = date === undefined ? 0 : this.#putString(date);
      const hasLength = response.bodyLength !== undefined;
      ret = x.frameHead(
        response.status, reason === undefined ? 0 : 1, reasonPtr, reasonLen,
        list, response.headers.length, hasLength ? 1 : 0, hasLength ? BigInt(response.bodyLength!) : 0n,
        request.head ? 1 : 0, request.http10 ? 1 : 0, request.close ? 1 : 0, request.connect === true ? 1 : 0,
        date === undefined ? 0 : 1, datePtr, dateLen,
      );
    } catch (error) {
      this.#trapped("frame-head", error);
    }
    this.#fresh();
    let out: FrameOutcome;
    if (this.#u8[ret] === 0) {
      const u32 = this.#u32;
      const ptr = u32[(ret + 8) >>> 2]!;
      out = {
        tag: "head",
        val: {
          bytes: this.#copyOut(ptr, u32[(ret + 12) >>> 2]!),
          body: BODY_MODES[this.#u8[ret + 16]!]!,
          contentLength: this.#u53(ret + 24),
          close: this.#u8[ret + 32] !== 0,
        },
      };
    } else {
      out = { tag: "invalid", val: this.#frameError(ret + 8) };
    }
    x.postFrameHead(ret);
    return out;
  }

  /** The chunk-size line for `size` bytes of chunk data. */
  chunkSizeLine(size: number): Uint8Array {
    checkLength("chunkSizeLine: size", size);
    const x = this.#x;
    let ret: number;
    try {
      ret = x.chunkSizeLine(BigInt(size));
    } catch (error) {
      this.#trapped("chunk-size-line", error);
    }
    this.#fresh();
    const ptr = this.#u32[ret >>> 2]!;
    const bytes = this.#copyOut(ptr, this.#u32[(ret >>> 2) + 1]!);
    x.postChunkSizeLine(ret);
    return bytes;
  }

  /** The last chunk, trailer fields and final CRLF of a chunked body. */
  lastChunk(trailers: readonly Field[]): TrailerOutcome {
    const x = this.#x;
    let ret: number;
    try {
      const list = this.#putFields(trailers, 0);
      ret = x.lastChunk(list, trailers.length);
    } catch (error) {
      this.#trapped("last-chunk", error);
    }
    this.#fresh();
    let out: TrailerOutcome;
    if (this.#u8[ret] === 0) {
      const ptr = this.#u32[(ret + 4) >>> 2]!;
      out = { tag: "bytes", val: this.#copyOut(ptr, this.#u32[(ret + 8) >>> 2]!) };
    } else {
      out = { tag: "invalid", val: this.#frameError(ret + 4) };
    }
    x.postLastChunk(ret);
    return out;
  }
}
