/**
 * Switching protocols (RFC 9110 §7.8, §15.2.2): what a handler gets when it takes its
 * connection over with {@link ResponseWriter.upgrade}, and the checks on the 101 head.
 * @module
 */
import type { Duplex } from "node:stream";
import type { Field } from "../core/index.js";
import type { ResponseWritten } from "./response-written.js";

/** What {@link ResponseWriter.upgrade} sends with the 101 (Switching Protocols) response. */
export interface UpgradeOptions {
  /**
   * Header fields of the 101, added to those already set on the writer. `Upgrade` is
   * required and must name a protocol the client offered; `Connection: Upgrade` is added
   * when absent. (A WebSocket handshake also needs `Sec-WebSocket-Accept`: the
   * `websocket()` convenience does all of it.)
   */
  headers?: Record<string, string | number>;
  /**
   * The status: 101 for an Upgrade request (the default), a 2xx for CONNECT (default 200;
   * needs the `acceptConnect` connection option), which opens a tunnel: the head carries
   * no Content-Length or Transfer-Encoding, and the connection's bytes are the tunnel's.
   */
  status?: number;
}

/** What every taken-over connection gives its new owner. */
interface UpgradedCommon {
  /** The report of the 101 head: the handler returns it (the response *is* the 101). */
  readonly written: ResponseWritten;
  /**
   * Bytes the client sent after the request head that the server had already read (the
   * first frames of the new protocol, often in the same packet as the handshake). They
   * come before anything read from the stream; empty when there were none.
   */
  readonly head: Buffer;
  /**
   * Aborts when the server starts closing (`server.close()`): end the new protocol's
   * session politely (a WebSocket closes with 1001). What is still open at the grace
   * deadline is destroyed.
   */
  readonly signal: AbortSignal;
}

/**
 * A connection over a Node duplex (`serve()`, `accept(socket)`) once taken over: the
 * socket itself. Tophat no longer reads, writes or times it out; it is **paused** (so
 * nothing is read before you listen): `pipe()`, `for await` or `resume()` after adding a
 * `data` listener start it. Errors on it after the take-over are recorded in the
 * connection's summary, so an unhandled one doesn't crash the process.
 */
export interface UpgradedDuplex extends UpgradedCommon {
  /** Which kind of stream the connection had. */
  readonly kind: "duplex";
  /** The connection's stream (a `net.Socket` or `tls.TLSSocket` under `serve()`). */
  readonly socket: Duplex;
}

/** A connection over a Web Streams pair (`accept({ readable, writable })`) once taken over. */
export interface UpgradedStreams extends UpgradedCommon {
  /** Which kind of stream the connection had. */
  readonly kind: "streams";
  /** The bytes from the client after `head`. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Where the new protocol's bytes go; closing it ends the connection's write side. */
  readonly writable: WritableStream<Uint8Array>;
}

/** What {@link ResponseWriter.upgrade} resolves to: the raw connection, by its kind. */
export type Upgraded = UpgradedDuplex | UpgradedStreams;

/** What the connection hands over to a handler that takes it over: an {@link Upgraded} without `written`, which the writer adds. */
export type HandedOver = Omit<UpgradedDuplex, "written"> | Omit<UpgradedStreams, "written">;

/**
 * A take-over that isn't allowed: the request didn't ask to upgrade, it is HTTP/1.0, its
 * body wasn't read, the response had begun, or the 101 names a protocol the client didn't
 * offer. Thrown (as a rejection) by {@link ResponseWriter.upgrade}; the connection is untouched.
 */
export class UpgradeError extends Error {
  /** `"UpgradeError"`. */
  override readonly name = "UpgradeError";
}

/** The comma-separated tokens of a field value, trimmed and lower-cased. */
function tokens(value: string): string[] {
  return value
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0);
}

/**
 * The fields of a 101 answering a request that offered `offered` (its Upgrade value):
 * `headers` with `Connection: Upgrade` added when absent. Throws an {@link UpgradeError}
 * when the 101 names no protocol, one the client didn't offer (RFC 9110 §7.8: a server
 * MUST NOT switch to it), or has a Connection field without the `upgrade` option.
 */
export function upgradeFields(headers: readonly Field[], offered: string): Field[] {
  const lower = (f: Field): string => f.name.toLowerCase();
  const chosen = headers.filter((f) => lower(f) === "upgrade").flatMap((f) => tokens(f.value));
  if (chosen.length === 0) {
    throw new UpgradeError("a 101 needs an Upgrade header naming the protocol switched to (RFC 9110 §15.2.2), e.g. { Upgrade: \"websocket\" }");
  }
  const offers = new Set(tokens(offered));
  for (const protocol of chosen) {
    if (!offers.has(protocol)) {
      throw new UpgradeError(`the client did not offer to upgrade to "${protocol}" (it offered "${offered}"); a server must not switch to it (RFC 9110 §7.8)`);
    }
  }
  const connection = headers.filter((f) => lower(f) === "connection");
  if (connection.length === 0) return [...headers, { name: "Connection", value: "Upgrade" }];
  if (!connection.some((f) => tokens(f.value).includes("upgrade"))) {
    throw new UpgradeError(`the 101's Connection field must include the "upgrade" option (RFC 9110 §7.8), got "${connection.map((f) => f.value).join(", ")}"`);
  }
  return [...headers];
}
