/**
 * The error a handler sees when its client went away. (Errors that become responses are
 * Glitches: `glitch.ts`.)
 * @module
 */

/** The peer closed the connection before a response or a body was complete. */
export class ClientClosedError extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`the client closed the connection ${what}`, options);
    this.name = "ClientClosedError";
  }
}
