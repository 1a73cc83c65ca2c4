/**
 * The access log: one line per response, from its ResponseWritten, to a pluggable sink.
 * @module
 */
import type { Logger } from "../../connection/options.js";
import type { Request } from "../../http/request.js";
import type { ResponseOutcome, ResponseWritten } from "../../http/response-written.js";

/** One response, as the access log records it. */
export interface AccessLogEntry {
  /** `-` for the library's error responses to requests whose head couldn't be read. */
  method: string;
  /** The request-target as sent (`-` when the head couldn't be read); JSON-quoted in the line when it holds spaces, controls or `"`. */
  target: string;
  /** The status code sent. */
  status: number;
  /** Bytes the client received (head and body). */
  bytes: number;
  /** Ms from the complete request head to the first byte handed to the socket. */
  firstByteMs: number;
  /** Ms from the complete request head to the last byte flushed. */
  lastByteMs: number;
  /** How the response ended: `complete`, `client-closed` or `error`. */
  outcome: ResponseOutcome;
  /** The client's address, when the transport knows it (not part of the line; in the entry only). */
  remoteAddress?: string | undefined;
  /** For `client-closed` and `error`: what went wrong. */
  error?: string | undefined;
}

/**
 * A pino-style logger: each method takes an object of fields and a message (pino, bunyan
 * and similar loggers fit as they are).
 */
export interface StructuredLogger {
  /** Gets each response: the {@link AccessLogEntry} as fields, the formatted line as message. */
  info(fields: object, message: string): void;
  /** Gets the library's warnings (see {@link Logger.warn}), with an Error under `err` or other details under `detail`. */
  warn(fields: object, message: string): void;
  /** Gets the library's errors (see {@link Logger.error}), with an Error under `err` or other details under `detail`. */
  error(fields: object, message: string): void;
}

/**
 * Where the lines go: a function given each line (and its entry), or a pino-style logger
 * (given the entry's fields and the line). Default: `console.info` for responses and
 * `console.warn`/`console.error` for the library's own warnings.
 */
export type AccessLogSink = ((line: string, entry: AccessLogEntry) => void) | StructuredLogger;

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /**
   * Where the lines go: a function (the library's warnings then stay on the console) or a
   * pino-style logger (which gets the warnings too). Default: `console.info`. Anything
   * else throws a TypeError.
   */
  sink?: AccessLogSink;
}

/** Connection options that route responses and the library's warnings to one sink. */
export interface AccessLogConnectionOptions {
  /** Logs one entry per response (see {@link ConnectionOptions.onResponse}); `req` is undefined for error responses to unreadable heads. */
  onResponse: (req: Request | undefined, written: ResponseWritten) => void;
  /** The library's warnings and errors: to the structured sink's `warn`/`error`, or to the console for a function sink or none. */
  logger: Logger;
}

/**
 * An access log as connection options: spread it into `serve()` or `accept()` options and
 * every response (the library's own error responses included) is logged, and the
 * library's warnings go to the same sink.
 *
 * ```ts
 * await serve(app, { ...accessLog() });                  // lines on the console
 * await serve(app, { ...accessLog({ sink: pino() }) });  // fields and line through pino
 * ```
 *
 * A line reads: `GET /items?id=3 200 512B first=0.42ms last=0.61ms complete`.
 */
export function accessLog(options: AccessLogOptions = {}): AccessLogConnectionOptions {
  const sink = options.sink;
  if (sink !== undefined && typeof sink !== "function" && !isStructured(sink)) {
    throw new TypeError("accessLog: sink must be a function or an object with info, warn and error methods");
  }
  const write = typeof sink === "function" ? sink : sink ? (line: string, entry: AccessLogEntry) => sink.info(entry, line) : (line: string) => console.info(line);
  return {
    onResponse(req, written) {
      const entry = entryOf(req, written);
      write(formatLine(entry), entry);
    },
    logger: sink === undefined || typeof sink === "function" ? console : structuredWarnings(sink),
  };
}

function isStructured(value: object): value is StructuredLogger {
  const candidate = value as Partial<Record<keyof StructuredLogger, unknown>>;
  return typeof candidate.info === "function" && typeof candidate.warn === "function" && typeof candidate.error === "function";
}

/** The library's warnings as a pino-style logger wants them: an Error under `err`, other details under `detail`. */
function structuredWarnings(sink: StructuredLogger): Logger {
  const fields = (rest: unknown[]): object => {
    if (rest.length === 0) return {};
    const [first] = rest;
    if (rest.length === 1) return first instanceof Error ? { err: first } : { detail: first };
    return { detail: rest };
  };
  return {
    warn: (message, ...rest) => sink.warn(fields(rest), message),
    error: (message, ...rest) => sink.error(fields(rest), message),
  };
}

/** The entry for one response. */
export function entryOf(req: Request | undefined, written: ResponseWritten): AccessLogEntry {
  const entry: AccessLogEntry = {
    method: req?.method ?? "-",
    target: req?.target ?? "-",
    status: written.status,
    bytes: written.bytesWritten,
    firstByteMs: round(written.firstByteMs),
    lastByteMs: round(written.lastByteMs),
    outcome: written.outcome,
  };
  if (req?.remoteAddress !== undefined) entry.remoteAddress = req.remoteAddress;
  if (written.error !== undefined) entry.error = written.error.message;
  return entry;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** `GET /items?id=3 200 512B first=0.42ms last=0.61ms complete` (plus `: <error>` when it failed). */
export function formatLine(e: AccessLogEntry): string {
  // The target is the client's bytes; JSON-escape anything that could forge a second line.
  const target = /[\x00-\x20\x7f"]/.test(e.target) ? JSON.stringify(e.target) : e.target;
  const line = `${e.method} ${target} ${e.status} ${e.bytes}B first=${e.firstByteMs}ms last=${e.lastByteMs}ms ${e.outcome}`;
  return e.error === undefined ? line : `${line}: ${e.error}`;
}
