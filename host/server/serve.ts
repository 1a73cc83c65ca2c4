/**
 * `serve()`: the convenience for Node — a TCP (or TLS) listener whose every connection is
 * served by `accept()`'s connection loop, with graceful shutdown.
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { Connection, defaultCore, type Handler } from "../connection/connection.js";
import type { AcceptOptions } from "../connection/accept.js";
import { resolveOptions } from "../connection/options.js";
import { toTransport } from "../connection/transport.js";

/** Options of `serve()`. */
export interface ServeOptions extends AcceptOptions {
  /** The port; 0 (the default) picks a free one. */
  port?: number;
  /** The address to listen on. Default 127.0.0.1 (this machine only); `0.0.0.0` or `::` accepts connections from elsewhere. */
  host?: string;
  /**
   * Serve HTTPS with this key and certificate (PEM). A handshake that does not finish
   * within `headersTimeoutMs` is cut off. Default: plain HTTP.
   */
  tls?: {
    /** The private key, PEM-encoded. */
    key: string | Buffer;
    /** The certificate (chain), PEM-encoded. */
    cert: string | Buffer;
  };
  /** Aborting it closes the server (gracefully, with the default grace period). */
  signal?: AbortSignal;
}

/** What {@link Server.close} did. */
export interface ServerClosed {
  /** Connections open when the close began. */
  connections: number;
  /** Of those, connections a handler had taken over (`res.upgrade()`: WebSockets…); their `signal` aborted. */
  upgraded: number;
  /** Connections still open at the grace deadline, destroyed then. */
  destroyed: number;
  /** Of the destroyed ones, taken-over connections. */
  destroyedUpgraded: number;
}

/** A running server. */
export interface Server {
  /** The port the server listens on: the one asked for, or the one picked for port 0. */
  readonly port: number;
  /** `http://host:port` (or `https://…`). */
  readonly url: string;
  /**
   * Stops accepting connections, closes idle ones at once, lets in-flight requests finish
   * (their responses get `Connection: close`), tells taken-over connections (their
   * `signal` aborts: a WebSocket closes with 1001) and force-closes what is left after
   * `graceMs` (default 5000). Resolves with what it did; a second call gets the same.
   */
  close(options?: { graceMs?: number }): Promise<ServerClosed>;
}

/** Starts an HTTP/1.1 server; resolves once it listens. */
export async function serve(handler: Handler, options: ServeOptions = {}): Promise<Server> {
  const resolved = resolveOptions(options);
  const core = options.core ?? defaultCore();
  const host = options.host ?? "127.0.0.1";
  const connections = new Set<Connection>();
  /** Set while close() waits for the connections to finish. */
  let allDone: (() => void) | undefined;
  // One callback for every connection (no promise or closure held per connection).
  const onDone = (_summary: unknown, connection: Connection): void => {
    connections.delete(connection);
    if (connections.size === 0) allDone?.();
  };
  const finished = (): Promise<void> => (connections.size === 0 ? Promise.resolve() : new Promise((resolve) => (allDone = resolve)));

  const onSocket = (socket: net.Socket): void => {
    socket.setNoDelay(true);
    const connection = new Connection(toTransport(socket), handler, resolved, core);
    connections.add(connection);
    connection.start(onDone);
    // Accepted as close() began: it closes too.
    if (closing) connection.shutdown();
  };

  // allowHalfOpen: a client that sends its request and then half-closes still gets its
  // answer. Not for TLS: there a half-close before the handshake would leave the socket
  // open forever, and TLS clients don't half-close after a request.
  const server: net.Server = options.tls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert, handshakeTimeout: resolved.headersTimeoutMs }, onSocket)
    : net.createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
  // A failed or timed-out TLS handshake: Node reports it but leaves the socket open.
  server.on("tlsClientError", (_error: Error, socket: tls.TLSSocket) => socket.destroy());
  // TLS sockets still in their handshake (which no Connection serves yet), so close() can
  // cut them off. (A plain TCP socket is a Connection's from the moment it is accepted.)
  const sockets = new Set<net.Socket>();
  if (options.tls) {
    const forget = function (this: net.Socket): void {
      sockets.delete(this);
    };
    server.on("connection", (socket: net.Socket) => {
      sockets.add(socket);
      socket.on("close", forget);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => resolved.logger.error("tophat: the server failed", error));

  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("serve(): the server has no TCP address");
  const port = address.port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<ServerClosed> | undefined;
  const close = ({ graceMs = 5000 }: { graceMs?: number } = {}): Promise<ServerClosed> =>
    (closing ??= (async () => {
      const report: ServerClosed = { connections: connections.size, upgraded: 0, destroyed: 0, destroyedUpgraded: 0 };
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) {
        if (c.upgraded) report.upgraded++;
        c.shutdown();
      }
      const grace = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
      const all = finished();
      if ((await Promise.race([all, grace])) === "timeout") {
        for (const c of connections) {
          report.destroyed++;
          if (c.upgraded) report.destroyedUpgraded++;
          c.destroy(new Error("the server closed before this request finished"));
        }
        await all;
      }
      // What is left never became a connection (a TLS handshake that didn't finish).
      for (const socket of sockets) socket.destroy();
      await stopped;
      return report;
    })());

  if (options.signal) {
    if (options.signal.aborted) await close();
    else options.signal.addEventListener("abort", () => void close(), { once: true });
  }

  return { port, url: `${options.tls ? "https" : "http"}://${urlHost}:${port}`, close };
}
