/**
 * Request header fields as lazy views over the bytes they arrived in: nothing is decoded
 * until a handler asks, and lookups compare bytes, not strings.
 * @module
 */

/** Lower-cases ASCII letters of byte `c`. */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/**
 * Header fields of a request (or trailer fields), in wire order. Names match
 * case-insensitively; values are decoded as Latin-1 (RFC 9110 §5.5: field values are
 * octets; obs-text bytes keep their values).
 */
export class Headers {
  readonly #bytes: Buffer;
  readonly #spans: readonly number[];

  /** `spans`: four numbers per field (name start, name length, value start, value length) into `bytes`. */
  constructor(bytes: Buffer, spans: readonly number[]) {
    this.#bytes = bytes;
    this.#spans = spans;
  }

  /** Fields from name/value pairs (for trailers collected across reads). */
  static fromPairs(pairs: readonly (readonly [string, string])[]): Headers {
    const spans: number[] = [];
    let text = "";
    for (const [name, value] of pairs) {
      spans.push(text.length, name.length, text.length + name.length, value.length);
      text += name + value;
    }
    return new Headers(Buffer.from(text, "latin1"), spans);
  }

  /** How many field lines there are. */
  get size(): number {
    return this.#spans.length >>> 2;
  }

  #nameIs(i: number, name: string): boolean {
    const spans = this.#spans;
    const len = spans[i + 1]!;
    if (len !== name.length) return false;
    const bytes = this.#bytes;
    const start = spans[i]!;
    for (let k = 0; k < len; k++) {
      if (lower(bytes[start + k]!) !== lower(name.charCodeAt(k))) return false;
    }
    return true;
  }

  #value(i: number): string {
    const start = this.#spans[i + 2]!;
    return this.#bytes.toString("latin1", start, start + this.#spans[i + 3]!);
  }

  /** The first value of `name`, or undefined. (Use `getAll` for fields that may repeat.) */
  get(name: string): string | undefined {
    const spans = this.#spans;
    for (let i = 0; i < spans.length; i += 4) if (this.#nameIs(i, name)) return this.#value(i);
    return undefined;
  }

  /** Every value of `name`, in wire order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    const spans = this.#spans;
    for (let i = 0; i < spans.length; i += 4) if (this.#nameIs(i, name)) out.push(this.#value(i));
    return out;
  }

  /** Whether a field named `name` is present. */
  has(name: string): boolean {
    const spans = this.#spans;
    for (let i = 0; i < spans.length; i += 4) if (this.#nameIs(i, name)) return true;
    return false;
  }

  /** `[name, value]` pairs in wire order, names with the case the client sent. */
  *entries(): IterableIterator<[string, string]> {
    const spans = this.#spans;
    for (let i = 0; i < spans.length; i += 4) {
      const start = spans[i]!;
      yield [this.#bytes.toString("latin1", start, start + spans[i + 1]!), this.#value(i)];
    }
  }

  /** Iterates `[name, value]` pairs in wire order, as {@link Headers.entries} does (so `for (const [name, value] of headers)` works). */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}
