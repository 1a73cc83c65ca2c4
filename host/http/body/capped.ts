/**
 * A request body read under a byte cap: refused before reading when its Content-Length is
 * over the cap, cut off with 413 as soon as the bytes read go over it otherwise (a chunked
 * body's size isn't known in advance).
 * @module
 */
import { Glitch } from "../glitch.js";
import type { BodySource } from "../request.js";

/** The 413 for a body over `max` bytes; `limit` names the option that set the cap. */
export function tooLarge(max: number, limit: string): Glitch {
  return Glitch.payloadTooLarge(`the request body is larger than ${max} bytes (${limit})`, { extensions: { limit, max } });
}

/** Throws the 413 at once when the declared Content-Length is already over `max`. */
export function checkDeclared(source: BodySource, max: number, limit: string): void {
  if (source.declaredLength !== undefined && source.declaredLength > max) throw tooLarge(max, limit);
}

/**
 * Reads `source` chunk by chunk, failing with 413 once more than `max` bytes came. Holds
 * nothing: each chunk goes to the caller as it arrives.
 */
export class CappedReader {
  readonly #source: BodySource;
  readonly #max: number;
  readonly #limit: string;
  #total = 0;

  constructor(source: BodySource, max: number, limit: string) {
    checkDeclared(source, max, limit);
    this.#source = source;
    this.#max = max;
    this.#limit = limit;
  }

  /** The bytes read so far. */
  get total(): number {
    return this.#total;
  }

  /** The next chunk, or null at the end of the body. */
  async read(): Promise<Uint8Array | null> {
    const chunk = await this.#source.read();
    if (chunk === null) return null;
    this.#total += chunk.length;
    if (this.#total > this.#max) throw tooLarge(this.#max, this.#limit);
    return chunk;
  }
}

/** `source` as an async iterable of chunks, capped at `max` bytes (Infinity: no cap). */
export function cappedChunks(source: BodySource, max: number, limit: string): AsyncIterable<Uint8Array> {
  const reader = new CappedReader(source, max, limit);
  return {
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        const chunk = await reader.read();
        return chunk === null ? { done: true, value: undefined } : { done: false, value: chunk };
      },
    }),
  };
}
