/**
 * The access log: one line per response, from its ResponseWritten, to a pluggable sink.
 * @module
 */
import type { Logger } from "../../connection/options.js";
import { isStructuredLogger, structuredLogger, type StructuredLogger } from "../logger/structured-logger.js";
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
  /** How the response ended (see {@link ResponseOutcome}). */
  outcome: ResponseOutcome;
  /** The client's address, when the transport knows it (not part of the line; in the entry only). */
  remoteAddress?: string | undefined;
  /** For every outcome but `complete`: what went wrong. */
  error?: string | undefined;
}

/**
 * Where the lines go: a function given each line (and its entry), or a pino-style logger
 * (given the entry's fields and the line, at `info`). Default: `console.info` for
 * responses and the console's levels for the library's own events.
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
  /** The library's own events, by level: to the structured sink (through {@link structuredLogger}), or to the console for a function sink or none. */
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
  if (sink !== undefined && typeof sink !== "function" && !isStructuredLogger(sink)) {
    throw new TypeError("accessLog: sink must be a function or an object with info, warn and error methods");
  }
  const write = typeof sink === "function" ? sink : sink ? (line: string, entry: AccessLogEntry) => sink.info(entry, line) : (line: string) => console.info(line);
  return {
    onResponse(req, written) {
      const entry = entryOf(req, written);
      write(formatLine(entry), entry);
    },
    logger: sink === undefined || typeof sink === "function" ? console : structuredLogger(sink),
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
