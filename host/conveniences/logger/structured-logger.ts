/**
 * The library's {@link Logger} over a pino-style logger: pino, bunyan and their kind take
 * `(fields, message)`, where the library calls `(message, error?, fields?)` (console's shape).
 * @module
 */
import type { Logger } from "../../connection/options.js";

/**
 * A pino-style logger: each method takes an object of fields and a message. pino and
 * bunyan loggers fit as they are; `debug` is optional.
 */
export interface StructuredLogger {
  /** Gets the library's debug events (a client that went away), if present. */
  debug?(fields: object, message: string): void;
  /** Gets info events (the access log's lines). */
  info(fields: object, message: string): void;
  /** Gets the library's warnings (see {@link Logger.warn}). */
  warn(fields: object, message: string): void;
  /** Gets the library's errors (see {@link Logger.error}). */
  error(fields: object, message: string): void;
}

/**
 * Adapts a pino-style logger to the library's {@link Logger}: an Error in a call's
 * arguments goes under `err` (which pino serializes with its stack), a plain object's
 * fields are merged in (the request, status, bytes written…), anything else goes under
 * `detail`. Levels map one to one.
 *
 * ```ts
 * import pino from "pino";
 * const log = pino();
 * await serve(app, { logger: structuredLogger(log) });
 * ```
 */
export function structuredLogger(sink: StructuredLogger): Logger {
  if (!isStructuredLogger(sink)) throw new TypeError("structuredLogger: the logger needs info, warn and error methods taking (fields, message)");
  const debug = sink.debug;
  return {
    ...(debug === undefined ? {} : { debug: (message: string, ...rest: unknown[]) => debug.call(sink, fieldsOf(rest), message) }),
    info: (message, ...rest) => sink.info(fieldsOf(rest), message),
    warn: (message, ...rest) => sink.warn(fieldsOf(rest), message),
    error: (message, ...rest) => sink.error(fieldsOf(rest), message),
  };
}

/** Whether `value` has the methods of a {@link StructuredLogger} (debug is optional). */
export function isStructuredLogger(value: unknown): value is StructuredLogger {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Record<keyof StructuredLogger, unknown>>;
  const debugOk = candidate.debug === undefined || typeof candidate.debug === "function";
  return debugOk && typeof candidate.info === "function" && typeof candidate.warn === "function" && typeof candidate.error === "function";
}

/** A call's arguments as fields: an Error under `err`, plain objects merged, the rest under `detail`. */
function fieldsOf(rest: readonly unknown[]): object {
  const fields: Record<string, unknown> = {};
  const details: unknown[] = [];
  for (const item of rest) {
    if (item === undefined) continue;
    if (item instanceof Error && fields["err"] === undefined) fields["err"] = item;
    else if (isPlainObject(item)) Object.assign(fields, item);
    else details.push(item);
  }
  if (details.length > 0) fields["detail"] = details.length === 1 ? details[0] : details;
  return fields;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
