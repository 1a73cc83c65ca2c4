/**
 * Glitch: an error that becomes an error response. Throw one from a handler (or anything
 * it calls) and the client gets its status, its headers and its public message.
 * @module
 */
import { statusText } from "./status-text.js";

/** What a Glitch can carry besides its status and message. */
export interface GlitchOptions {
  /** The underlying error: logged, and sent to the client only with the connection option `verboseErrors`. */
  cause?: unknown;
  /** Extra response headers, e.g. `Allow` for a 405 or `Retry-After` for a 503. */
  headers?: Record<string, string>;
  /**
   * RFC 9457 extension members for the `application/problem+json` body, e.g. the `errors`
   * of a 422 or the `limit` of a 413. They are public, like the message. They don't replace
   * the standard members (`type`, `title`, `status`, `detail`), and the text/plain body
   * doesn't show them: the message should say in words what they say in data.
   */
  extensions?: Record<string, unknown>;
}

/** Which Glitches capture a stack trace when made: see {@link Glitch.captureStacks}. */
export type GlitchStacks = "server-errors" | "all" | "none";

/**
 * Set while a Glitch is made whose stack is about to be replaced or is of no use (a copy
 * in `withHeaders`, the library's own 404/405): its constructor then captures none.
 */
let skipCapture = false;

/**
 * Makes a Glitch (with `make`) that captures no stack trace whatever
 * {@link Glitch.captureStacks} says: for copies, and for the library's own 404/405, where
 * a stack would only point into the library. (Not exported from the package.)
 */
export function withoutStack(make: () => Glitch): Glitch {
  skipCapture = true;
  try {
    return make();
  } finally {
    skipCapture = false;
  }
}

/**
 * An error with the HTTP status it should be answered with. Its `message` is public: it
 * becomes the response body (text/plain, or the `detail` of an RFC 9457
 * `application/problem+json` when the client's Accept prefers JSON). The `cause` stays
 * private unless the connection runs with `verboseErrors: true`. Any error that is not a
 * Glitch becomes a 500 whose cause is never disclosed.
 *
 * A Glitch is an expected outcome, not a bug, so most don't capture a stack trace (which
 * is most of the cost of making an `Error`, ~2–5 µs against ~0.3 µs): their `stack` is
 * just `Glitch: <message>`. By default only a 5xx without a `cause` captures one: it is
 * logged as itself, and its stack is what shows where it was thrown. A Glitch with a
 * `cause` is logged through the cause, which keeps its own stack. To find where a 4xx
 * comes from, set {@link Glitch.captureStacks} to `"all"` while debugging.
 *
 * ```ts
 * if (!item) throw Glitch.notFound(`no item ${id}`);
 * throw new Glitch(418, "I'm a teapot");
 * ```
 */
export class Glitch extends Error {
  /**
   * Which Glitches capture a stack trace when they are made (read by the constructor):
   *
   * - `"server-errors"` (the default): a 5xx without a `cause`, the only kind logged as
   *   itself (a 4xx isn't logged; a Glitch with a cause is logged through the cause).
   * - `"all"`: every Glitch, e.g. to find out while debugging where a 404 is thrown
   *   (`stack` shows it, as does `verboseErrors` for a 5xx's cause).
   * - `"none"`: no Glitch, e.g. for a server that sheds load with many 503s.
   *
   * The router's own 404 and 405 never capture one: it would only point into the router.
   *
   * ```ts
   * if (process.env.NODE_ENV === "development") Glitch.captureStacks = "all";
   * ```
   */
  static captureStacks: GlitchStacks = "server-errors";

  /** The response status, 400–599. */
  readonly status: number;
  /** Extra response headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** RFC 9457 extension members of the problem+json body (see {@link GlitchOptions.extensions}). */
  readonly extensions: Readonly<Record<string, unknown>>;

  /**
   * @param status 400–599; anything else throws a RangeError.
   * @param message The public message; defaults to the status's reason phrase.
   */
  constructor(status: number, message?: string, options?: GlitchOptions) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`a Glitch's status must be an integer from 400 to 599, got ${status}`);
    }
    const cause = options?.cause;
    const mode = Glitch.captureStacks;
    const capture = !skipCapture && (mode === "all" || (mode === "server-errors" && status >= 500 && cause === undefined));
    if (capture) {
      super(message ?? statusText(status), cause === undefined ? undefined : { cause });
    } else {
      // A limit that isn't a number makes V8 capture nothing at all; a limit of 0 would
      // still walk the stack (~3× the cost of the rest of the constructor).
      const errorLimit = Error as unknown as { stackTraceLimit: unknown };
      const limit = errorLimit.stackTraceLimit;
      errorLimit.stackTraceLimit = undefined;
      try {
        super(message ?? statusText(status), cause === undefined ? undefined : { cause });
      } finally {
        errorLimit.stackTraceLimit = limit;
      }
    }
    this.name = "Glitch";
    this.status = status;
    this.headers = { ...options?.headers };
    this.extensions = { ...options?.extensions };
    // Without a captured trace V8 leaves `stack` undefined; what it would say with a limit of 0.
    if (!capture) this.stack = `Glitch: ${this.message}`;
  }

  /**
   * `error` as a Glitch: a Glitch as it is, anything else as a 500 with `error` as its
   * private cause. For middleware that must add to whatever error response goes out.
   */
  static from(error: unknown): Glitch {
    return error instanceof Glitch ? error : new Glitch(500, undefined, { cause: error });
  }

  /**
   * A copy with `headers` added (replacing same-named ones): how middleware puts its
   * headers (CORS, Vary) on the error responses of the handlers it wraps.
   *
   * ```ts
   * catch (error) { throw Glitch.from(error).withHeaders({ "Access-Control-Allow-Origin": origin }); }
   * ```
   */
  withHeaders(headers: Record<string, string>): Glitch {
    const merged: Record<string, string> = {};
    const replaced = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
    for (const [name, value] of Object.entries(this.headers)) if (!replaced.has(name.toLowerCase())) merged[name] = value;
    // The copy keeps the original's stack (or lack of one): capturing another would only point here.
    const copy = withoutStack(() => new Glitch(this.status, this.message, { cause: this.cause, headers: { ...merged, ...headers }, extensions: this.extensions }));
    if (this.stack !== undefined) copy.stack = this.stack;
    return copy;
  }

  /** 400: the request is malformed or invalid. */
  static badRequest(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(400, message, options);
  }
  /** 401: no valid credentials. Pass a `WWW-Authenticate` header when the scheme calls for one. */
  static unauthorized(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(401, message, options);
  }
  /** 403: the credentials don't allow this. */
  static forbidden(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(403, message, options);
  }
  /** 404: nothing here. */
  static notFound(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(404, message, options);
  }
  /** 405 with the `Allow` header listing `allowed` (RFC 9110 §15.5.6 requires it). */
  static methodNotAllowed(allowed: readonly string[], message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(405, message, { ...options, headers: { ...options?.headers, Allow: allowed.join(", ") } });
  }
  /** 409: the request conflicts with the resource's current state. */
  static conflict(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(409, message, options);
  }
  /** 410: it was here and is gone for good. */
  static gone(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(410, message, options);
  }
  /** 413: the request body is too large. */
  static payloadTooLarge(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(413, message, options);
  }
  /** 415: the request body's media type isn't supported. */
  static unsupportedMediaType(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(415, message, options);
  }
  /** 422: well-formed, but the content is invalid (validation errors). */
  static unprocessable(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(422, message, options);
  }
  /** 429, with `Retry-After` when `retryAfterSeconds` is given. */
  static tooManyRequests(message?: string, retryAfterSeconds?: number, options?: GlitchOptions): Glitch {
    return new Glitch(429, message, withRetryAfter(options, retryAfterSeconds));
  }
  /** 500: something failed on the server; put the reason in `cause`, not in the message. */
  static internal(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(500, message, options);
  }
  /** 501: the server doesn't do this. */
  static notImplemented(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(501, message, options);
  }
  /** 502: an upstream answered badly. */
  static badGateway(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(502, message, options);
  }
  /** 503, with `Retry-After` when `retryAfterSeconds` is given. */
  static serviceUnavailable(message?: string, retryAfterSeconds?: number, options?: GlitchOptions): Glitch {
    return new Glitch(503, message, withRetryAfter(options, retryAfterSeconds));
  }
  /** 504: an upstream didn't answer in time. */
  static gatewayTimeout(message?: string, options?: GlitchOptions): Glitch {
    return new Glitch(504, message, options);
  }
}

function withRetryAfter(options: GlitchOptions | undefined, seconds: number | undefined): GlitchOptions | undefined {
  if (seconds === undefined) return options;
  if (!Number.isInteger(seconds) || seconds < 0) throw new RangeError(`Retry-After must be a whole number of seconds ≥ 0, got ${seconds}`);
  return { ...options, headers: { ...options?.headers, "Retry-After": String(seconds) } };
}

/**
 * Awaits `promise`; if it rejects, throws a Glitch with `status` and the public `context`
 * message, keeping the rejection as its private cause. A rejection that is already a Glitch
 * passes through unchanged.
 *
 * ```ts
 * const row = await orGlitch(db.get(id), 500, "lookup failed");
 * ```
 */
export async function orGlitch<T>(promise: PromiseLike<T>, status: number, context: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof Glitch) throw error;
    throw new Glitch(status, context, { cause: error });
  }
}

/**
 * Returns `value` when it is neither null nor undefined; otherwise throws a Glitch with
 * `status` and the public `context` message.
 *
 * ```ts
 * const user = ensure(users.get(id), 404, "no such user");
 * ```
 */
export function ensure<T>(value: T | null | undefined, status: number, context: string): T {
  if (value === null || value === undefined) throw new Glitch(status, context);
  return value;
}
