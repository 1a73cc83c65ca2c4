/**
 * The responses a connection writes itself, not a handler: the error response (for a
 * request it refuses, a head it couldn't read, or a handler that failed or ran out of
 * time) and the interim 100 Continue. Apart from the loop because they are about what is
 * written, not about when the connection moves on.
 * @module
 */
import { renderError } from "../http/error-response.js";
import { ResponseWriter } from "../http/response-writer.js";
import { Exchange, type ConnectionPort } from "./exchange.js";
import type { ResolvedOptions } from "./options.js";
import type { Outbound } from "./outbound.js";

/** The options an error response reads. */
export type ErrorResponseOptions = Pick<ResolvedOptions, "verboseErrors" | "errorFormat">;

/**
 * Sends the error response for `error` (a Glitch keeps its status, headers and message;
 * anything else is a 500), as text or problem+json (per the Accept, or always). Without an
 * exchange (the head couldn't be read), one is made on `port`, and the connection closes
 * after it. Resolves once it is flushed (at once when the client is gone).
 */
export async function sendErrorResponse(port: ConnectionPort, options: ErrorResponseOptions, error: unknown, ex: Exchange | undefined): Promise<void> {
  const exchange = ex ?? new Exchange(port, undefined, performance.now());
  const rendered = renderError(error, exchange.req?.headers.get("accept"), options.verboseErrors, options.errorFormat);
  const res = (exchange.res = new ResponseWriter(exchange));
  res.setStatus(rendered.status);
  for (const [name, value] of Object.entries(rendered.headers)) res.setHeader(name, value);
  res.setHeader("Content-Type", rendered.contentType).setBody(rendered.body);
  if (port.gone) return;
  await res.send();
}

/** Writes the 100 Continue `ex`'s client asked for, unless it went already or the response began. */
export function sendContinue(ex: Exchange, out: Outbound): void {
  if (!ex.head?.expectContinue || ex.continueSent || ex.responseStarted) return;
  ex.continueSent = true;
  const framed = ex.core.frameHead({ status: 100, headers: [], bodyLength: 0 }, { head: false, http10: false, close: false });
  if (framed.tag !== "head") throw new Error(`tophat: 100 Continue could not be framed: ${framed.val.reason}`);
  out.writeInterim(framed.val.bytes);
}
