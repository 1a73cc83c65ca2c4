/**
 * Taking a connection over after a 101 (RFC 9110 §7.8, §15.2.2): whether an exchange may,
 * and the hand-over itself — the transport's stream detached from the connection loop,
 * the 101 written, the bytes already read past the request head given along — and the
 * signal that tells the new owner the server is closing.
 * @module
 */
import { Glitch } from "../http/glitch.js";
import { ClientClosedError } from "../http/http-error.js";
import { UpgradeError, type HandedOver } from "../http/upgrade.js";
import type { Exchange } from "./exchange.js";
import type { Transport } from "./transport.js";

/**
 * Whether `ex` may take its connection over now: for an Upgrade request, what the client
 * offered; for CONNECT, that it is a tunnel; or why not.
 */
export function upgradeRefusal(ex: Exchange, shuttingDown: boolean, gone: boolean): { offered: string; tunnel: boolean } | { refused: Error } {
  const refused = (why: string): { refused: Error } => ({ refused: new UpgradeError(why) });
  const head = ex.head;
  const req = ex.req;
  if (head === undefined || req === undefined) return refused("there is no request to upgrade");
  if (ex.cancelled) return { refused: ex.cancelled };
  if (gone) return { refused: new ClientClosedError("before the connection could be taken over") };
  if (req.method === "CONNECT") {
    if (ex.responseStarted) return refused("the response had begun: a tunnel can be opened only before anything is written");
    if (ex.body?.complete !== true) return refused("read the request body before opening the tunnel: the tunnel's bytes start after it");
    if (shuttingDown) return { refused: Glitch.serviceUnavailable("the server is closing") };
    return { offered: "", tunnel: true };
  }
  if (!head.upgrade) {
    return refused("the request did not ask to upgrade: that takes an Upgrade header with the upgrade option in Connection (RFC 9110 §7.8)");
  }
  if (head.version === "http10") return refused("an HTTP/1.0 request can't be upgraded: 101 is an HTTP/1.1 status (RFC 9110 §15.2)");
  if (ex.responseStarted) return refused("the response had begun: a connection can be taken over only before anything is written");
  // The new protocol starts after the whole request (RFC 9110 §7.8): its bytes come next.
  if (ex.body?.complete !== true) return refused("read the request body before taking the connection over: the new protocol starts after it");
  if (shuttingDown) return { refused: Glitch.serviceUnavailable("the server is closing") };
  return { offered: req.headers.getAll("upgrade").join(", "), tunnel: false };
}

/** A connection taken over: the new owner's signal, and when its stream is gone. */
export class Takeover {
  readonly #abort = new AbortController();
  #closed: Promise<Error | undefined> = Promise.resolve(undefined);

  /** The server is closing: the new owner's `signal` aborts (it decides how to end). */
  shutdown(): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(new Error("the server is closing"));
  }

  /** Settles once the stream is gone, with the error that ended it, if one did. */
  get closed(): Promise<Error | undefined> {
    return this.#closed;
  }

  /**
   * Detaches `transport` from the loop (no more reads, deadlines or listeners of the
   * connection), has `write101` write the 101, and resolves once it is flushed with the
   * stream and `head` (the bytes read past the request head).
   */
  hand(transport: Transport, head: Buffer, write101: (done: (error: Error | undefined) => void) => void): Promise<HandedOver> {
    const detached = transport.detach();
    this.#closed = detached.closed;
    const signal = this.#abort.signal;
    return new Promise((resolve, reject) =>
      write101((error) => {
        if (error) return reject(error);
        resolve(
          detached.kind === "duplex"
            ? { kind: "duplex", socket: detached.socket, head, signal }
            : { kind: "streams", readable: detached.readable, writable: detached.writable, head, signal },
        );
      }),
    );
  }
}
