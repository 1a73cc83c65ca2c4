/**
 * `accept()`: serve one connection over any duplex byte stream.
 * @module
 */
import type { Core } from "../core/index.js";
import { Connection, defaultCore, type ConnectionSummary, type Handler } from "./connection.js";
import { resolveOptions, type ConnectionOptions } from "./options.js";
import { toTransport, type Connectable } from "./transport.js";

/** Options of `accept()`: the connection options, and the core to use. */
export interface AcceptOptions extends ConnectionOptions {
  /** The protocol core instance (default: one shared by the whole process). */
  core?: Core;
}

/**
 * Serves HTTP/1.1 on one connection — a `net.Socket`, a `tls.TLSSocket`, any
 * `stream.Duplex`, or a Web Streams pair `{ readable, writable }` — until it closes.
 * Resolves with a summary; never rejects for anything the client does.
 */
export function accept(conn: Connectable, handler: Handler, options: AcceptOptions = {}): Promise<ConnectionSummary> {
  const connection = new Connection(toTransport(conn), handler, resolveOptions(options), options.core ?? defaultCore());
  return connection.run();
}
