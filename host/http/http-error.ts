/**
 * An error that carries the HTTP status it should be answered with.
 * @module
 */

/**
 * Thrown (by the library, or by handlers) to answer with `status`. The message is public:
 * it becomes the response body. Any other error becomes a 500 whose cause is not disclosed.
 */
export class HttpError extends Error {
  readonly status: number;
  /** Extra response headers, e.g. `Allow` for a 405. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message?: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message ?? `HTTP ${status}`, options?.cause === undefined ? undefined : { cause: options.cause });
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`HttpError status must be 400–599, got ${status}`);
    this.name = "HttpError";
    this.status = status;
    this.headers = options?.headers ?? {};
  }
}

/** The peer closed the connection before a response or a body was complete. */
export class ClientClosedError extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`the client closed the connection ${what}`, options);
    this.name = "ClientClosedError";
  }
}
