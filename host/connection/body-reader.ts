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
/** Most bytes handed to the chunked decoder in one call. */
const DECODE_SLICE = 64 * 1024;
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
   */
  async read(): Promise<Uint8Array | null> {
    if (this.#busy) await new Promise<void>((resolve) => this.#turns.push(resolve));
    this.#busy = true;
    try {
      return await this.#readNow();
    } finally {
      // Hand the turn to the next caller, if one waits (#busy stays true for it).
      const next = this.#turns.shift();
      if (next) next();
      else this.#busy = false;
    }
  }

  async #readNow(): Promise<Uint8Array | null> {
    if (this.#failure) throw this.#failure;
    if (!this.#started) {
      this.#started = true;
      if (!this.#done) this.#supply.beforeFirstRead();
    }
    try {
      return this.#chunked ? await this.#readChunked() : await this.#readLength();
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      throw this.#failure;
    }
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

  async #input(): Promise<Buffer | null> {
    const buffered = this.#supply.takeBuffered();
    if (buffered.length > 0) return buffered;
    return this.#supply.next();
  }

  async #readLength(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    const chunk = await this.#input();
    if (chunk === null) throw new Glitch(400, `the request body ended ${this.#left} bytes before its Content-Length`);
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

  async #readChunked(): Promise<Uint8Array | null> {
    while (this.#ready.length === 0) {
      if (this.#done) return null;
      let chunk = await this.#input();
      if (chunk === null) throw new Glitch(400, "the chunked request body ended before its last chunk");
      // The core's memory is bounded: feed it slices, keeping the rest for the next turn.
      if (chunk.length > DECODE_SLICE) {
        this.#supply.putBack(chunk.subarray(DECODE_SLICE));
        chunk = chunk.subarray(0, DECODE_SLICE);
      }
      this.#decode(this.#tail.length > 0 ? Buffer.concat([this.#tail, chunk]) : chunk);
    }
    return this.#ready.shift()!;
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
    const rest = input.subarray(consumed);
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
