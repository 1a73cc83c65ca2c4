/**
 * The request head as a handler sees it: strings decoded on first use from the bytes
 * the head arrived in, using the spans the core returned.
 * @module
 */
import type { RequestHead, Span } from "../core/index.js";
import { Headers } from "./headers.js";

// Standard methods, so the common case allocates no string.
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

function methodOf(bytes: Buffer, span: Span): string {
  for (const m of METHODS) {
    if (m.length !== span.len) continue;
    let k = 0;
    while (k < m.length && bytes[span.start + k] === m.charCodeAt(k)) k++;
    if (k === m.length) return m;
  }
  return bytes.toString("latin1", span.start, span.start + span.len);
}

/** A parsed request head over its bytes. */
export class RequestHeadView {
  readonly #bytes: Buffer;
  readonly #head: RequestHead;
  #method: string | undefined;
  #headers: Headers | undefined;

  /** `bytes` must hold the head at the offsets `head` was parsed with; they are not copied. */
  constructor(bytes: Buffer, head: RequestHead) {
    this.#bytes = bytes;
    this.#head = head;
  }

  #text(span: Span): string {
    return this.#bytes.toString("latin1", span.start, span.start + span.len);
  }

  /** The method, case-sensitive (`GET`, `PROPFIND`, …). */
  get method(): string {
    return (this.#method ??= methodOf(this.#bytes, this.#head.method));
  }

  /** The request-target exactly as sent. */
  get target(): string {
    return this.#text(this.#head.target);
  }

  /** The path: `/` for an absolute-form target without one; empty for CONNECT. */
  get path(): string {
    const span = this.#head.path;
    if (span.len === 0 && this.#head.authority !== undefined) return this.method === "CONNECT" ? "" : "/";
    return this.#text(span);
  }

  /** The query without `?`, or undefined when the target has none. */
  get rawQuery(): string | undefined {
    return this.#head.query === undefined ? undefined : this.#text(this.#head.query);
  }

  /** The authority of an absolute-form or CONNECT target. */
  get authority(): string | undefined {
    return this.#head.authority === undefined ? undefined : this.#text(this.#head.authority);
  }

  /** The request's HTTP version, `"1.0"` or `"1.1"` (1.2–1.9 count as 1.1; the core refuses another major version with 505). */
  get httpVersion(): "1.0" | "1.1" {
    return this.#head.version === "http11" ? "1.1" : "1.0";
  }

  /** The header fields, decoded lazily. */
  get headers(): Headers {
    return (this.#headers ??= new Headers(this.#bytes, this.#head.headers));
  }

  /** The parsed head (spans and framing) this view reads. */
  get parsed(): RequestHead {
    return this.#head;
  }
}
