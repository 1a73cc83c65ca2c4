/**
 * Reads one request body off the connection: Content-Length or chunked (decoded by the
 * core), handing out zero-copy views of the bytes as they arrive.
 * @module
 */
import { CoreTrapError, initialChunkedState, type ChunkedState, type Core, type Limits, type RequestHead } from "../core/index.js";
import { Headers } from "../http/headers.js";
import { Glitch } from "../http/glitch.js";
import type { BodySource } from "../http/request.js";

/** What the body reader needs from the connection. */
export interface ByteSupply {
  /** Bytes already received after the head (or the previous body piece). */
  takeBuffered(): Buffer;
  /** Gives back bytes that belong to whatever follows the body. */
  putBack(bytes: Buffer): void;
  /** The next chunk from the client; null at EOF; throws on timeouts and when the client is gone. */
  next(): Promise<Buffer | null>;
  /** Called before the first read (to send `100 Continue`). */
  beforeFirstRead(): void;
}

const EMPTY = Buffer.alloc(0);
/** The shared, never-filled queue of a body that isn't chunked. */
const NOTHING_READY: Buffer[] = Object.freeze([]) as unknown as Buffer[];
/** What a read answers when the received bytes hold no piece yet: it waits for the client. */
const NEED_INPUT = Symbol("need input");
/** Most bytes handed to the chunked decoder in one call. */
const DECODE_SLICE = 64 * 1024;
/**
 * Bytes handed to the chunked decoder between chunks' data (a size line, a CRLF, trailers):
 * enough for the framing, so that the data behind it bypasses the core (see `#feed`).
 */
const FRAMING_SLICE = 1024;
/** The least chunk data left for it to bypass the core (fewer bytes aren't worth a turn of their own). */
const BYPASS_MIN = 4096n;
/** The least the core's chunked decoder looks at per call (wit/tophat.wit, `decode`). */
const DECODE_WINDOW = 1024 * 1024;

export class BodyReader implements BodySource {
  readonly declaredLength: number | undefined;
  readonly #supply: ByteSupply;
  readonly #core: Core;
  readonly #limits: Limits;
  readonly #chunked: boolean;
  /** Content-Length bytes still to come. */
  #left: number;
  #state: ChunkedState | undefined;
  /** The last bytes fed were chunk data that bypassed the core (see `#feed`). */
  #bypassed = false;
  /** Unconsumed chunked bytes (an incomplete size line, CRLF or trailer line). */
  #tail: Buffer = EMPTY;
  /** Decoded pieces not handed out yet (chunked bodies only: made on first use). */
  #ready: Buffer[] = NOTHING_READY;
  #trailerPairs: [string, string][] | undefined;
  #trailers: Headers | undefined;
  #started = false;
  #done: boolean;
  #failure: Error | undefined;
  /** A read is under way; callers waiting for their turn are in #turns. */
  #busy = false;
  #turns: (() => void)[] = [];

  constructor(head: RequestHead, supply: ByteSupply, core: Core, limits: Limits) {
    this.#supply = supply;
    this.#core = core;
    this.#limits = limits;
    this.#chunked = head.body.tag === "chunked";
    this.#left = head.body.tag === "content-length" ? head.body.val : 0;
    this.declaredLength = head.body.tag === "content-length" ? head.body.val : head.body.tag === "none" ? 0 : undefined;
    this.#done = head.body.tag === "none" || (head.body.tag === "content-length" && head.body.val === 0);
  }

  /** Whether the body was read to its end. */
  get complete(): boolean {
    return this.#done && this.#ready.length === 0;
  }

  /** Whether reading the body failed (bad framing, timeout, client gone): it can't be skipped. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Content-Length bytes not read yet (undefined for a chunked body, whose size is unknown). */
  get unreadDeclared(): number | undefined {
    return this.#chunked ? undefined : this.#left;
  }

  /** Whether anyone started reading the body. */
  get started(): boolean {
    return this.#started;
  }

  get trailers(): Headers | undefined {
    return this.#trailers;
  }

  /**
   * The next piece of the body. A call made while another is under way waits its turn: a
   * parser that reads ahead (multipart) may still be waiting on the client when the
   * connection comes to skip what is left, and the connection's input has one reader.
   * (Not an async function: one piece costs one promise and, when it has to wait for the
   * client, one reaction on the connection's read, not a chain of suspended frames.)
   */
  read(): Promise<Uint8Array | null> {
    if (this.#busy) return new Promise<void>((resolve) => this.#turns.push(resolve)).then(this.#turn);
    this.#busy = true;
    return this.#turn();
  }

  /** One read, holding the turn (#busy); hands the turn on once its outcome is known. */
  readonly #turn = (): Promise<Uint8Array | null> => {
    let out: Uint8Array | null | typeof NEED_INPUT;
    try {
      if (this.#failure) throw this.#failure;
      if (!this.#started) {
        this.#started = true;
        if (!this.#done) this.#supply.beforeFirstRead();
      }
      out = this.#fromBuffered();
    } catch (error) {
      return Promise.reject(this.#fail(error));
    }
    if (out === NEED_INPUT) return this.#supply.next().then(this.#onInput, this.#onInputError);
    this.#release();
    return Promise.resolve(out);
  };

  /** What the client sent next (null: its end) goes on from where the read left off. */
  readonly #onInput = (chunk: Buffer | null): Uint8Array | null | Promise<Uint8Array | null> => {
    let out: Uint8Array | null | typeof NEED_INPUT;
    try {
      if (chunk === null) {
        throw new Glitch(400, this.#chunked ? "the chunked request body ended before its last chunk" : `the request body ended ${this.#left} bytes before its Content-Length`);
      }
      if (this.#chunked) {
        this.#feed(chunk);
        out = this.#chunkedPiece();
      } else {
        out = this.#lengthPiece(chunk);
      }
    } catch (error) {
      throw this.#fail(error);
    }
    if (out === NEED_INPUT) return this.#supply.next().then(this.#onInput, this.#onInputError);
    this.#release();
    return out;
  };

  readonly #onInputError = (error: unknown): never => {
    throw this.#fail(error);
  };

  /** Reading failed (bad framing, timeout, client gone): remembered, so later reads fail too. */
  #fail(error: unknown): Error {
    this.#failure = error instanceof Error ? error : new Error(String(error));
    this.#release();
    return this.#failure;
  }

  /** Hands the turn to the next caller, if one waits (#busy stays true for it). */
  #release(): void {
    const next = this.#turns.shift();
    if (next) next();
    else this.#busy = false;
  }

  /** Reads and discards the rest of the body, up to `max` bytes; false if there was more (or it failed). */
  async skip(max: number): Promise<boolean> {
    let skipped = 0;
    try {
      for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) {
        skipped += chunk.length;
        if (skipped > max) return false;
      }
      return true;
    } catch {
      // The body can't be read to its end (bad framing, timeout, client gone): the caller
      // closes the connection, which is all that can be done with it.
      return false;
    }
  }

  /** The next piece out of what is already received, or NEED_INPUT. */
  #fromBuffered(): Uint8Array | null | typeof NEED_INPUT {
    if (this.#chunked) return this.#chunkedPiece();
    if (this.#done) return null;
    const chunk = this.#supply.takeBuffered();
    return chunk.length > 0 ? this.#lengthPiece(chunk) : NEED_INPUT;
  }

  /** The part of `chunk` that is body (the rest goes back to the connection). */
  #lengthPiece(chunk: Buffer): Buffer {
    if (chunk.length >= this.#left) {
      const piece = chunk.subarray(0, this.#left);
      this.#supply.putBack(chunk.subarray(this.#left));
      this.#left = 0;
      this.#done = true;
      return piece;
    }
    this.#left -= chunk.length;
    return chunk;
  }

  /** The next decoded piece, decoding what is received as needed; NEED_INPUT when that isn't enough. */
  #chunkedPiece(): Uint8Array | null | typeof NEED_INPUT {
    while (this.#ready.length === 0) {
      if (this.#done) return null;
      const chunk = this.#supply.takeBuffered();
      if (chunk.length === 0) return NEED_INPUT;
      this.#feed(chunk);
    }
    return this.#ready.shift()!;
  }

  /** Decodes received bytes (chunked bodies). */
  #feed(chunk: Buffer): void {
    const state = this.#state;
    if (state !== undefined && state.phase === "data" && state.remaining >= BYPASS_MIN && this.#tail.length === 0) {
      // Inside a chunk's data the next `remaining` bytes are body as they are (then
      // `data-end`, the CRLF): they go straight to the reader, not through the core's
      // memory and back (a copy of every 64 KiB read).
      this.#bypassed = true;
      const whole = state.remaining <= BigInt(chunk.length);
      const n = whole ? Number(state.remaining) : chunk.length;
      this.#state = { ...state, phase: whole ? "data-end" : "data", remaining: whole ? 0n : state.remaining - BigInt(n) };
      if (this.#ready === NOTHING_READY) this.#ready = [];
      this.#ready.push(chunk.subarray(0, n));
      if (n < chunk.length) this.#supply.putBack(chunk.subarray(n));
      return;
    }
    // The core's memory is bounded: feed it slices, keeping the rest for the next turn.
    // After a large chunk's data a small one: the next chunk's data, behind its size line,
    // then bypasses the core too. (Small chunks go through the core, many per call.)
    const slice = this.#bypassed && this.#tail.length === 0 ? FRAMING_SLICE : DECODE_SLICE;
    this.#bypassed = false;
    if (chunk.length > slice) {
      this.#supply.putBack(chunk.subarray(slice));
      chunk = chunk.subarray(0, slice);
    }
    this.#decode(this.#tail.length > 0 ? Buffer.concat([this.#tail, chunk]) : chunk);
  }

  #decode(input: Buffer): void {
    let out;
    try {
      out = this.#core.decodeChunked(input, (this.#state ??= initialChunkedState()), this.#limits);
    } catch (error) {
      if (error instanceof CoreTrapError) throw new Glitch(400, "the chunked body could not be decoded", { cause: error });
      throw error;
    }
    if (out.tag === "invalid") {
      throw new Glitch(out.val.status, `bad chunked body: ${out.val.reason}`);
    }
    const { consumed, data, trailers, state } = out.val;
    if (this.#ready === NOTHING_READY) this.#ready = [];
    for (const span of data) if (span.len > 0) this.#ready.push(input.subarray(span.start, span.start + span.len));
    for (let i = 0; i < trailers.length; i += 4) {
      const name = input.toString("latin1", trailers[i]!, trailers[i]! + trailers[i + 1]!);
      const value = input.toString("latin1", trailers[i + 2]!, trailers[i + 2]! + trailers[i + 3]!);
      (this.#trailerPairs ??= []).push([name, value]);
    }
    this.#state = state;
    // (Not an empty view when all was consumed: it would keep the chunk until the next read.)
    const rest = consumed < input.length ? input.subarray(consumed) : EMPTY;
    if (state.phase === "done") {
      this.#done = true;
      this.#tail = EMPTY;
      this.#trailers = Headers.fromPairs(this.#trailerPairs ?? []);
      this.#supply.putBack(rest);
    } else if (consumed > 0 && input.length > DECODE_WINDOW) {
      // The core looks at a window of each call's bytes (wit: chunked.decode): go on
      // with the rest rather than wait for bytes that may never come.
      this.#decode(rest);
    } else {
      this.#tail = rest;
    }
  }
}
