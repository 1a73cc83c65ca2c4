/**
 * What the connection does with each finished response: hands its ResponseWritten to
 * `onResponse`, and tells the logger about one that didn't complete — a failure after the
 * head went out once at error level, with the request line and what was written; a client
 * that went away at debug (not a server failure: the access log's line says it at info).
 * @module
 */
import type { Request } from "../http/request.js";
import type { ResponseWritten } from "../http/response-written.js";
import type { Logger } from "./options.js";

/** The options a report reads. */
export interface ReportOptions {
  readonly onResponse: ((req: Request | undefined, written: ResponseWritten) => void) | undefined;
  readonly logger: Logger;
}

/** What a log line about a response carries as fields (a structured logger gets them as such). */
export interface ResponseLogFields {
  /** `-` when no request head could be read. */
  method: string;
  target: string;
  status: number;
  outcome: ResponseWritten["outcome"];
  headBytes: number;
  bodyBytes: number;
  bytesWritten: number;
}

/** Reports a finished response: the log line its outcome calls for, then `onResponse`. */
export function reportResponse(options: ReportOptions, req: Request | undefined, written: ResponseWritten): void {
  if (written.outcome !== "complete") logOutcome(options.logger, req, written);
  const onResponse = options.onResponse;
  if (!onResponse) return;
  try {
    onResponse(req, written);
  } catch (error) {
    options.logger.error("tophat: onResponse threw", error);
  }
}

function logOutcome(logger: Logger, req: Request | undefined, written: ResponseWritten): void {
  const fields: ResponseLogFields = {
    method: req?.method ?? "-",
    target: req?.target ?? "-",
    status: written.status,
    outcome: written.outcome,
    headBytes: written.headBytes,
    bodyBytes: written.bodyBytes,
    bytesWritten: written.bytesWritten,
  };
  const request = `${fields.method} ${JSON.stringify(fields.target)}`;
  if (written.outcome === "client-closed") {
    // The client's doing, not the server's: a note for whoever debugs, no more.
    const what = written.headBytes === 0 && written.bytesWritten === 0 ? "before anything was sent" : `after ${written.bytesWritten} bytes of a ${written.status}`;
    logger.debug?.(`tophat: the client closed the connection during ${request}, ${what}`, written.error, fields);
    return;
  }
  // A response the client got truncated: the server's failure, said once, here.
  logger.error(
    `tophat: the response to ${request} failed after its head was sent (${written.outcome}): ` +
      `status ${written.status}, ${written.bytesWritten} bytes written; the connection was closed` +
      (written.error ? `: ${written.error.message}` : ""),
    written.error,
    fields,
  );
}
