/**
 * The errors a handler sees when its client went away or its time ran out. (Errors that
 * become responses are Glitches: `glitch.ts`.)
 * @module
 */

/** The peer closed the connection before a response or a body was complete. */
export class ClientClosedError extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`the client closed the connection ${what}`, options);
    this.name = "ClientClosedError";
  }
}

/**
 * The handler went longer than the connection option `handlerTimeoutMs` without answering
 * or making progress (reading the request body, writing its response). The connection
 * answered 503 in its place (or cut off a response already under way) and closed;
 * `req.signal` aborts with this error, and the handler's later attempts to respond throw it.
 */
export class HandlerTimeoutError extends Error {
  /** The `handlerTimeoutMs` that passed. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`the handler made no progress for ${timeoutMs} ms (handlerTimeoutMs): the connection answered or closed without it`);
    this.name = "HandlerTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}
