/**
 * ResponseWritten: the report of what a response really put on the wire.
 * @module
 */

/** How a response ended. */
export type ResponseOutcome = "complete" | "client-closed" | "error";

/** The facts a {@link ResponseWritten} reports. */
export interface ResponseFacts {
  /** The status code sent. */
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
  /**
   * How the response ended: `complete` (every byte flushed), `client-closed` (the client
   * went away first) or `error` (a write failed, or the handler failed or left a streamed
   * body unfinished). Anything but `complete` closes the connection.
   */
  outcome: ResponseOutcome;
  /** What went wrong, for `client-closed` and `error`. */
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
