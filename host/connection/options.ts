/**
 * Connection options and their defaults.
 * @module
 */
import type { Limits } from "../core/index.js";
import type { Request } from "../http/request.js";
import type { ResponseWritten } from "../http/response-written.js";
import { compileTrustProxy, type TrustProxy } from "./trust-proxy.js";

/**
 * Where the library's own events go: console by default. `(message, ...rest)` is
 * console's shape; `rest` holds the Error, if any, then an object of fields (the request,
 * the status, the bytes written…). A pino or bunyan logger, whose methods take
 * `(fields, message)`, fits through {@link structuredLogger}.
 *
 * | level | the library's events |
 * | --- | --- |
 * | `error` | a handler threw (500 sent) or answered a 5xx Glitch; a response failed after its head went out (outcome `body-failed`, `length-mismatch`, `error`: once, with the request line and what was written); a handler made no progress for `handlerTimeoutMs` (503 sent); `onResponse` threw; the core trapped; a connection or the server failed |
 * | `warn` | a handler misused the API and the library recovered: it resolved without sending (500 sent), threw after sending, or returned something other than its ResponseWritten |
 * | `info` | nothing of the connection's own (the access log writes its lines at info) |
 * | `debug` | a client went away (outcome `client-closed`): not a failure |
 *
 * `debug` and `info` are optional: a logger without them doesn't get those events.
 */
export interface Logger {
  /** Routine events worth seeing only while debugging: a client that went away. */
  debug?(message: string, ...rest: unknown[]): void;
  /** Routine events: the library's own are none today (the access log uses its sink's `info`). */
  info?(message: string, ...rest: unknown[]): void;
  /** A handler misused the API but the library recovered; `rest` holds the error, if any. */
  warn(message: string, ...rest: unknown[]): void;
  /** A server-side failure (see the table above); `rest` holds the error, then fields. */
  error(message: string, ...rest: unknown[]): void;
}

/**
 * How one connection is served. Every field is optional; a limit or timeout that is not a
 * positive number (or is above its maximum) is refused with a RangeError before anything is served.
 */
export interface ConnectionOptions {
  /** Most bytes in a request head (431 beyond). Default 16 KiB, at most 1 MiB. */
  maxHeadBytes?: number;
  /** Most header fields in a request (431 beyond). Default 100, at most 10 000. */
  maxHeaders?: number;
  /** Longest request-target, in bytes (414 beyond). Default 8 KiB, at most 1 MiB. */
  maxTargetLength?: number;
  /** Longest chunk extension in a chunked request body, in bytes (400 beyond). Default 1 KiB, at most 64 KiB. */
  maxChunkExtensionLength?: number;
  /** Most body bytes `req.bytes()`, `text()` and `json()` read (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Most unread body bytes skipped after a response to keep the connection; past it, the connection closes. Default 1 MiB. */
  maxDrainBytes?: number;
  /** Time for a request head to arrive, from its first byte (from the connection's start for the first request); then 408 and close. Default 30 s. */
  headersTimeoutMs?: number;
  /** Time for a whole request (head and body) to arrive; then 408 (if no response began) and close. Default 5 min. */
  requestTimeoutMs?: number;
  /** Idle time between requests before the connection is closed quietly. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Longest pause in a request body the server waits through; then 408 (if no response began) and close. Default 30 s. */
  bodyTimeoutMs?: number;
  /**
   * Longest a response write may wait on a client that takes none of its bytes; then the
   * connection is closed (the response is `client-closed`). Over TCP a slow client that
   * keeps taking bytes isn't cut off, however long a large write takes. Default 30 s.
   */
  writeTimeoutMs?: number;
  /**
   * Longest a handler may go without progress: from its call, or from its last read of
   * the request body or write of its response, until it answers or does one of those
   * again. Past it the client gets 503 (or, if the response had begun, the connection is
   * cut), the connection closes, `req.signal` aborts with a `HandlerTimeoutError`, and
   * the handler's later attempts to respond throw it. Time spent waiting on the client
   * (a slow upload, a client that reads slowly) doesn't count: `bodyTimeoutMs` and
   * `writeTimeoutMs` govern it. A server-sent-events stream stays alive through its
   * heartbeats. `Infinity` turns the limit off. Default 120 s.
   */
  handlerTimeoutMs?: number;
  /** Called for every response, including the error responses the library sends itself (then `req` is undefined when no head could be parsed). */
  onResponse?: (req: Request | undefined, written: ResponseWritten) => void;
  /** Where the library's own events go, by level (see {@link Logger}). Default: console. */
  logger?: Logger;
  /**
   * Send the cause of an error response to the client (a Glitch's `cause`, or the error a
   * handler threw, with its stack). For development only: it discloses internals. Default false.
   */
  verboseErrors?: boolean;
  /**
   * The body of error responses (a thrown Glitch, a 500, the library's own 4xx):
   * `"negotiate"` (the default) sends RFC 9457 `application/problem+json` when the request's
   * Accept prefers JSON and text/plain otherwise (so `fetch`, which sends `*\/*`, gets text);
   * `"problem+json"` sends problem+json to every client; `"prefer-json"` sends problem+json
   * unless the Accept prefers text (`text/plain`, `text/html`, `text/*`) over JSON, so
   * `fetch` (`*\/*`) and clients without Accept get problem+json and a browser's page
   * load (`text/html,…`) gets text. The router's 405 keeps its `Allow` in every format.
   */
  errorFormat?: ErrorFormat;
  /**
   * Let handlers see CONNECT requests (default false: they are answered 501 before any
   * handler runs). A handler accepts one with `await res.upgrade({ status: 200 })`, which
   * writes the 2xx with no Content-Length or Transfer-Encoding (RFC 9110 §9.3.6) and hands
   * over the connection as a tunnel; any other answer (403, 407, 502, …) is an ordinary
   * response, and a 2xx through `send()` is refused as an error.
   */
  acceptConnect?: boolean;
  /**
   * The proxies in front of this server whose forwarding fields are believed, for
   * `req.clientIp`, `req.protocol` and `req.host`: addresses and CIDR ranges (IPv4 and
   * IPv6), or `"loopback"`, `"private"`, `"linklocal"`. Only when the connection's peer is
   * one of them are `Forwarded` (RFC 7239) or else `X-Forwarded-For`/`-Proto`/`-Host` read,
   * the chain walked from the nearest hop and stopped at the first untrusted one. Default:
   * none (a client can't spoof its address by sending those fields).
   */
  trustProxy?: TrustProxy;
}

/** How error responses are written: see {@link ConnectionOptions.errorFormat}. */
export type ErrorFormat = "negotiate" | "problem+json" | "prefer-json";

/** Options with every default filled in. */
export interface ResolvedOptions {
  limits: Limits;
  maxBodyBytes: number;
  maxDrainBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  bodyTimeoutMs: number;
  writeTimeoutMs: number;
  handlerTimeoutMs: number;
  onResponse: ((req: Request | undefined, written: ResponseWritten) => void) | undefined;
  logger: Logger;
  verboseErrors: boolean;
  errorFormat: ErrorFormat;
  acceptConnect: boolean;
  /** Whether a peer is a trusted proxy; undefined when none is. */
  trustProxy: ((address: string) => boolean) | undefined;
}

function positive(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new RangeError(`option ${name} must be a positive number up to ${max}, got ${value}`);
  }
  return value;
}

export function resolveOptions(o: ConnectionOptions = {}): ResolvedOptions {
  return {
    limits: {
      // Upper bounds keep every core call well inside the core's bounded memory.
      maxHeadBytes: positive("maxHeadBytes", o.maxHeadBytes, 16 * 1024, 1024 * 1024),
      maxHeaders: positive("maxHeaders", o.maxHeaders, 100, 10_000),
      maxTargetLength: positive("maxTargetLength", o.maxTargetLength, 8 * 1024, 1024 * 1024),
      maxChunkExtensionLength: positive("maxChunkExtensionLength", o.maxChunkExtensionLength, 1024, 64 * 1024),
    },
    maxBodyBytes: positive("maxBodyBytes", o.maxBodyBytes, 1024 * 1024),
    maxDrainBytes: positive("maxDrainBytes", o.maxDrainBytes, 1024 * 1024),
    headersTimeoutMs: positive("headersTimeoutMs", o.headersTimeoutMs, 30_000),
    requestTimeoutMs: positive("requestTimeoutMs", o.requestTimeoutMs, 300_000),
    keepAliveTimeoutMs: positive("keepAliveTimeoutMs", o.keepAliveTimeoutMs, 5_000),
    bodyTimeoutMs: positive("bodyTimeoutMs", o.bodyTimeoutMs, 30_000),
    writeTimeoutMs: positive("writeTimeoutMs", o.writeTimeoutMs, 30_000),
    handlerTimeoutMs: o.handlerTimeoutMs === Infinity ? Infinity : positive("handlerTimeoutMs", o.handlerTimeoutMs, 120_000, 2 ** 31 - 1),
    onResponse: o.onResponse,
    logger: o.logger ?? console,
    verboseErrors: o.verboseErrors ?? false,
    errorFormat: errorFormat(o.errorFormat),
    acceptConnect: o.acceptConnect ?? false,
    trustProxy: compileTrustProxy(o.trustProxy),
  };
}

function errorFormat(value: ErrorFormat | undefined): ErrorFormat {
  if (value === undefined) return "negotiate";
  if (value !== "negotiate" && value !== "problem+json" && value !== "prefer-json") {
    throw new RangeError(`option errorFormat must be "negotiate", "problem+json" or "prefer-json", got ${String(value)}`);
  }
  return value;
}
