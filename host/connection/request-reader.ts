/**
 * Reading requests off a connection: the received bytes not yet consumed, the request
 * heads found in them (parsed by the core, incrementally as a head trickles in), and the
 * body's next chunks for the body reader, each read under its deadline (idle, head,
 * request, body). Its own file because it is the connection's one reading job, apart from
 * the loop that decides what to do with what it reads: the loop asks for a head, this
 * answers with one, a refusal, or the end.
 * @module
 */
import { CoreTrapError, mayEndHead, type Core, type Limits, type RequestHead } from "../core/index.js";
import { Glitch } from "../http/glitch.js";
import { ClientClosedError } from "../http/http-error.js";
import type { Exchange } from "./exchange.js";
import { ReadTimeout, type Inbound, type Reader } from "./inbound.js";
import type { ResolvedOptions } from "./options.js";
import type { Outbound } from "./outbound.js";

const EMPTY = Buffer.alloc(0);
/** Bytes of a buffer holding several requests that a head is first looked for in. */
const FIRST_PARSE_WINDOW = 2048;

/** What reading a request head gave: the head (and the bytes it was parsed from), a refusal to answer, or the connection's end. */
export type HeadResult =
  | { kind: "complete"; head: RequestHead; bytes: Buffer }
  | { kind: "reject"; status: number; detail: string }
  | { kind: "end" };

/** What the reader needs from its connection (besides reading through it, as a `Reader`). */
export interface RequestReaderHost extends Reader {
  /** Whether the connection is shutting down: an idle wait is cut short, and its end is the server's doing. */
  readonly shuttingDown: boolean;
  /** While shutting down: when an idle connection closes (a request must begin before). */
  readonly shutdownIdleAt: number;
  /** A read ends the connection: a deadline passed (`timeout`), or a shutdown stopped the wait (`server`); unless something else already ended it. */
  endedBy(by: "server" | "timeout"): void;
  /** A body chunk came: the handler reading it made progress. */
  progress(): void;
}

/**
 * A connection's reading: one per connection, owned by it. Holds what was received and
 * not yet consumed (the bytes after the last head or body), and when the current request
 * (and the wait for it) began, which its deadlines count from.
 */
export class RequestReader {
  readonly #host: RequestReaderHost;
  readonly #in: Inbound;
  readonly #out: Outbound;
  readonly #core: Core;
  readonly #options: ResolvedOptions;
  readonly #limits: Limits;
  /** Received bytes not yet consumed (after the last head or body). */
  #buf: Buffer = EMPTY;
  /** Where the search for the end of a partly received head resumes (the core's `incomplete` offset). */
  #headSearchFrom = 0;
  /** How many bytes of the partly received head the core was last handed. */
  #headParsedAt = 0;
  /** When the current request's first byte arrived (its requestTimeoutMs counts from here). */
  #requestStart = 0;
  /** While waiting for the next request's first bytes: when the wait began (its deadline counts from there). */
  #waitStart: number | undefined;

  /** `outbound` is corked when a head has more bytes behind it (pipelining). */
  constructor(host: RequestReaderHost, inbound: Inbound, outbound: Outbound, core: Core, options: ResolvedOptions) {
    this.#host = host;
    this.#in = inbound;
    this.#out = outbound;
    this.#core = core;
    this.#options = options;
    this.#limits = options.limits;
  }

  /** Whether received bytes are held, not yet consumed. */
  get holding(): boolean {
    return this.#buf.length > 0;
  }

  /** When the current request's first byte arrived (`performance.now()` time). */
  get requestStart(): number {
    return this.#requestStart;
  }

  /**
   * Between requests, with nothing received: the next request's first bytes are due by the
   * idle deadline. It is set when the wait begins; a wake that brings nothing keeps it.
   */
  awaitRequest(first: boolean): void {
    if (this.#waitStart !== undefined) return;
    this.#idleDeadline(first, (this.#waitStart = performance.now()));
  }

  /** The wait for a request ended with none begun (its deadline passed, or a shutdown). */
  waitExpired(): void {
    this.#waitStart = undefined;
  }

  /**
   * A request's first bytes, taken from the queue in one chunk (nothing was held): starts
   * its head deadline and parses them; undefined while the head is incomplete (then
   * `readHead(first, true)` reads the rest).
   */
  startHead(chunk: Buffer, first: boolean): HeadResult | undefined {
    this.#headBegan(first, this.#waitStart ?? performance.now());
    this.#waitStart = undefined;
    return this.#parse(chunk);
  }

  /** Parses the held bytes (a pipelined request) as the next head; undefined while it is incomplete. */
  parseHeld(): HeadResult | undefined {
    this.#requestStart = performance.now();
    return this.#parse(this.#buf);
  }

  /**
   * Reads until a whole head arrived (or the connection ends, or a deadline passes);
   * `began` when its first bytes were already taken (`startHead` set the deadline).
   */
  async readHead(first: boolean, began = false): Promise<HeadResult> {
    const o = this.#options;
    const host = this.#host;
    // (When the loop waited for the head's first bytes, from when that wait began.)
    const start = this.#waitStart ?? performance.now();
    this.#waitStart = undefined;
    let buf = this.#buf;
    let started = buf.length > 0;
    // The first request's head must arrive within headersTimeoutMs of the connection;
    // later ones have keepAliveTimeoutMs to begin, then headersTimeoutMs to complete.
    if (started && !began) this.#in.setDeadline("head", Math.min(start + o.headersTimeoutMs, this.#requestStart + o.requestTimeoutMs));
    else if (!started) this.#idleDeadline(first, start);
    for (;;) {
      let chunk: Buffer | null;
      try {
        chunk = await this.#in.next(host);
      } catch (error) {
        if (!(error instanceof ReadTimeout)) throw error;
        host.endedBy(host.shuttingDown && !started ? "server" : "timeout");
        // A silent idle connection just closes; a slow head gets 408.
        return started ? { kind: "reject", status: 408, detail: "the request head took too long" } : { kind: "end" };
      }
      if (chunk === null) {
        if (host.shuttingDown) host.endedBy("server");
        return { kind: "end" };
      }
      if (!started) {
        started = true;
        this.#headBegan(first, start);
      }
      const had = buf.length;
      buf = had > 0 ? Buffer.concat([buf, chunk]) : chunk;
      this.#buf = buf;
      // Parse again only when the head may have ended (the core parses from the start), or
      // when the bytes have doubled since the last parse: a client trickling a head byte
      // by byte costs at most about 3n bytes of parsing, not n²/2, and a head that breaks
      // a rule (too many fields, a bad line) is refused before max-head-bytes arrive.
      if (
        had === 0 ||
        buf.length >= this.#limits.maxHeadBytes ||
        buf.length >= 2 * this.#headParsedAt ||
        mayEndHead(buf, Math.max(this.#headSearchFrom, had - 2))
      ) {
        const read = this.#parse(buf);
        if (read) return read;
      }
    }
  }

  /** `ex`'s head was read: its body must arrive within requestTimeoutMs of the request's first byte. */
  beginBody(ex: Exchange): void {
    ex.requestStart = this.#requestStart || ex.startedAt;
    this.#in.setDeadline("body", ex.requestStart + this.#options.requestTimeoutMs);
  }

  /** The body's next chunk, under the body and request deadlines. */
  async nextBodyChunk(ex: Exchange): Promise<Buffer | null> {
    const o = this.#options;
    const bodyIdle = performance.now() + o.bodyTimeoutMs;
    const whole = ex.requestStart + o.requestTimeoutMs;
    this.#in.setDeadline("body", Math.min(bodyIdle, whole));
    try {
      const chunk = await this.#in.next(this.#host);
      if (chunk === null) {
        if (this.#in.gone) throw new ClientClosedError("before the request body was complete", { cause: this.#in.goneError });
        if (this.#in.eof) {
          // The client ended its side in the middle of its body: a cancelled request (RFC
          // 9112 §8), which is how fetch and curl abort an upload. Not a server failure,
          // and no one waits for an answer to a request that can never be complete.
          ex.mustClose = true;
          throw new ClientClosedError("in the middle of the request body (it stopped sending before the body's end)");
        }
      }
      this.#host.progress();
      return chunk;
    } catch (error) {
      if (error instanceof ReadTimeout) {
        ex.mustClose = true;
        this.#host.endedBy("timeout");
        throw new Glitch(408, "the request body took too long");
      }
      throw error;
    }
  }

  /** Takes the held bytes (the body reader's, after the head or the previous body piece). */
  takeHeld(): Buffer {
    const b = this.#buf;
    this.#buf = EMPTY;
    return b;
  }

  /** Holds `rest` again: bytes that belong to whatever follows the body. */
  putBack(rest: Buffer): void {
    // (Not an empty view: it would keep the received chunk's memory while idle.)
    this.#buf = rest.length > 0 ? rest : EMPTY;
  }

  /** Takes everything received, held and queued (the connection is being taken over: it is the new owner's). */
  takeAll(): Buffer {
    const read = Buffer.concat([this.#buf, ...this.#in.takeAll()]);
    this.#buf = EMPTY;
    return read;
  }

  /** Bytes of another request were read (empty lines between requests don't count, RFC 9112 §2.2). */
  moreRead(): boolean {
    if (this.#in.queued > 0) return true;
    const buf = this.#buf;
    for (let i = 0; i < buf.length; i++) if (buf[i] !== 13 && buf[i] !== 10) return true;
    return false;
  }

  /** The next request's first bytes are due: the first within headersTimeoutMs of `start`, later ones within keepAliveTimeoutMs. */
  #idleDeadline(first: boolean, start: number): void {
    const o = this.#options;
    this.#in.setDeadline("idle", start + (first ? o.headersTimeoutMs : o.keepAliveTimeoutMs));
    if (this.#host.shuttingDown) this.#in.shorten(this.#host.shutdownIdleAt);
  }

  /**
   * The first bytes of a request's head were taken: it has headersTimeoutMs (counted from
   * `start` for the connection's first request, which must arrive within it of the
   * connection) and requestTimeoutMs from now.
   */
  #headBegan(first: boolean, start: number): void {
    const o = this.#options;
    const now = (this.#requestStart = performance.now());
    this.#in.setDeadline("head", Math.min((first ? start : now) + o.headersTimeoutMs, now + o.requestTimeoutMs));
  }

  /** Parses `buf` (the received, unconsumed bytes) as a request head; undefined when it is incomplete. */
  #parse(buf: Buffer): HeadResult | undefined {
    const max = this.#limits.maxHeadBytes;
    let out;
    try {
      // The core gets a copy of what it parses: with many requests buffered (pipelining),
      // try a window that holds most heads before copying up to the limit.
      const window = Math.min(max, FIRST_PARSE_WINDOW);
      out = buf.length > window ? this.#core.parseHead(buf.subarray(0, window), this.#limits) : undefined;
      if (out === undefined || out.tag === "incomplete") out = this.#core.parseHead(buf.length > max ? buf.subarray(0, max) : buf, this.#limits);
    } catch (error) {
      if (!(error instanceof CoreTrapError)) throw error;
      this.#options.logger.error("tophat: the protocol core trapped on a request head; closing that connection", error);
      this.#buf = EMPTY;
      return { kind: "reject", status: 500, detail: "the request could not be parsed" };
    }
    if (out.tag === "complete") {
      // (Not an empty view when all was read: it would keep the received chunk's memory.)
      this.#buf = out.val.headLength < buf.length ? buf.subarray(out.val.headLength) : EMPTY;
      // More bytes behind this head (pipelining): let the responses written before the
      // event loop turns leave together.
      if (this.#buf.length > 0 || this.#in.queued > 0) this.#out.cork();
      return { kind: "complete", head: out.val, bytes: buf };
    }
    if (out.tag === "invalid") {
      this.#buf = EMPTY;
      return { kind: "reject", status: out.val.status, detail: out.val.reason };
    }
    this.#buf = buf;
    this.#headSearchFrom = out.val;
    this.#headParsedAt = buf.length;
    return undefined;
  }
}
