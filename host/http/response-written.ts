/**
 * ResponseWritten: the report of what a response really put on the wire.
 * @module
 */

/**
 * How a response ended:
 *
 * - `complete`: every byte was flushed to the transport.
 * - `client-closed`: the client went away first (it reset or closed the connection, or
 *   stopped reading past `writeTimeoutMs`). Not a server failure. When it left before
 *   anything was sent, `status` is 499 (nginx's "client closed request", never on the
 *   wire) and every byte count is 0.
 * - `body-failed`: the head went out, then the body given to `send()` (an AsyncIterable,
 *   a ReadableStream, a file stream) threw: the client got a truncated response.
 * - `length-mismatch`: the head declared a Content-Length and the body came out shorter
 *   (`end()` early) or longer: the client got a truncated response.
 * - `error`: any other failure after the head went out: the handler threw or returned
 *   before ending its streamed body, it timed out mid-response (`handlerTimeoutMs`), its
 *   trailers were invalid, a body transform failed, or a write failed.
 *
 * Anything but `complete` closes the connection, so the client can tell the response is
 * incomplete (no last chunk, fewer bytes than the Content-Length, or a reset for a
 * close-delimited body); every outcome but `complete` and `client-closed` is logged once
 * at error level with the request line and what was written.
 */
export type ResponseOutcome = "complete" | "client-closed" | "body-failed" | "length-mismatch" | "error";

/** The facts a {@link ResponseWritten} reports. */
export interface ResponseFacts {
  /** The status code sent (499 when the client left before anything was: see {@link ResponseOutcome}). */
  status: number;
  /** Bytes of the status line and header fields. */
  headBytes: number;
  /** Bytes of body framing and data written (0 for HEAD, 1xx, 204, 304). */
  bodyBytes: number;
  /** Bytes the transport confirmed as written: what the client received. */
  bytesWritten: number;
  /** When the request head was complete (`performance.timeOrigin`-relative ms). */
  startedAt: number;
  /** Ms from `startedAt` until the head was handed to the transport. */
  firstByteMs: number;
  /** Ms from `startedAt` until the last byte was flushed. */
  lastByteMs: number;
  /** How the response ended (see {@link ResponseOutcome}); anything but `complete` closes the connection. */
  outcome: ResponseOutcome;
  /** What went wrong, for every outcome but `complete`. */
  error?: Error | undefined;
}

const minted = Symbol("ResponseWritten");

/**
 * What really happened to a response. Only the library makes these (handlers can't
 * construct one), so a handler returning one proves it sent its response.
 */
export class ResponseWritten implements Readonly<ResponseFacts> {
  readonly status: number;
  readonly headBytes: number;
  readonly bodyBytes: number;
  readonly bytesWritten: number;
  readonly startedAt: number;
  readonly firstByteMs: number;
  readonly lastByteMs: number;
  readonly outcome: ResponseOutcome;
  readonly error?: Error | undefined;

  /** @internal Made by the library only (through `mintResponseWritten`); a handler can't. */
  constructor(token: symbol, facts: ResponseFacts) {
    if (token !== minted) throw new TypeError("ResponseWritten is made by the library: return what res.send() resolves to");
    this.status = facts.status;
    this.headBytes = facts.headBytes;
    this.bodyBytes = facts.bodyBytes;
    this.bytesWritten = facts.bytesWritten;
    this.startedAt = facts.startedAt;
    this.firstByteMs = facts.firstByteMs;
    this.lastByteMs = facts.lastByteMs;
    this.outcome = facts.outcome;
    if (facts.error !== undefined) this.error = facts.error;
  }
}

/** @internal For the response writer only (not exported from the package). */
export function mintResponseWritten(facts: ResponseFacts): ResponseWritten {
  return new ResponseWritten(minted, facts);
}
