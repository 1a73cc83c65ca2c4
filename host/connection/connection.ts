/**
 * The connection loop: one HTTP/1.1 connection, request after request. Asks its reader
 * for each head, hands each request to the handler, and owns keep-alive, pipelining,
 * body draining, backpressure between responses, take-overs, shutdown and the close. The
 * reading itself (request-reader), the writing (outbound), the library's own responses
 * (library-responses) and the port the parts reach the loop through (link) are modules
 * of their own, so that what is here is the order of things, not how each is done.
 * @module
 */
import { Core, type RequestHead } from "../core/index.js";
import { Glitch } from "../http/glitch.js";
import { ClientClosedError } from "../http/http-error.js";
import { statusText } from "../http/status-text.js";
import { Request } from "../http/request.js";
import { ResponseWriter } from "../http/response-writer.js";
import type { HandedOver } from "../http/upgrade.js";
import { BodyReader } from "./body-reader.js";
import { publishRequestStart } from "./diagnostics.js";
import { Exchange } from "./exchange.js";
import { HandlerRun, type Handler } from "./handler-run.js";
import { Inbound } from "./inbound.js";
import { sendContinue, sendErrorResponse } from "./library-responses.js";
import { Link } from "./link.js";
import { Outbound } from "./outbound.js";
import type { HeadResult, RequestReader } from "./request-reader.js";
import { Takeover } from "./takeover.js";
import type { ResolvedOptions } from "./options.js";
import type { Transport } from "./transport.js";

export type { Handler } from "./handler-run.js";

/** How a connection went, once it is closed. */
export interface ConnectionSummary {
  /** Requests whose heads were parsed (answered or not). */
  requests: number;
  /** Bytes received from the client, including any read and discarded while the connection lingered. */
  bytesRead: number;
  /** Bytes the transport confirmed as written. */
  bytesWritten: number;
  /**
   * Who ended the connection: the `client` (it closed or half-closed), the `server` (a
   * response that closes, a shutdown, a refused request), a `timeout` (head, body, keep-alive
   * idle or write), or a transport `error` (see `error`); `upgrade` when a handler took it
   * over (`res.upgrade()`): the summary then counts up to the 101, and resolves once the
   * stream is gone.
   */
  closedBy: "client" | "server" | "timeout" | "error" | "upgrade";
  /** The transport error that ended the connection, or a library bug it ran into (also logged); absent after a clean close. */
  error?: Error;
}

/** How long a closing connection keeps reading (and discarding) so its last response isn't lost to a reset. */
const LINGER_MS = 2_000;
/**
 * While shutting down, how long a connection that was just active may still send its next
 * request (answered with `Connection: close`) before it is closed. A busy keep-alive client
 * sends it within this; closing at once would race it (the request would cross the FIN).
 */
const SHUTDOWN_IDLE_MS = 500;

let sharedCore: Core | undefined;
/** The process-wide core instance: stateless between calls, so every connection shares it. */
export function defaultCore(): Core {
  return (sharedCore ??= Core.load());
}

/**
 * One HTTP/1.1 connection over a transport. `accept()` runs one; `serve()` runs one per
 * socket and uses `shutdown()`/`destroy()` for graceful close.
 */
export class Connection {
  readonly #transport: Transport;
  readonly #handler: Handler;
  readonly #options: ResolvedOptions;
  readonly #core: Core;
  readonly #in: Inbound;
  readonly #out: Outbound;
  /** What the transport, the reads, the exchanges and handler runs reach this connection through. */
  readonly #link: Link;
  readonly #reader: RequestReader;

  // State
  #exchange: Exchange | undefined;
  /** The current exchange's handler, while the connection waits for it. */
  #run: HandlerRun | undefined;
  #idle = true;
  /** When the connection last finished an exchange (or opened), `performance.now()` time. */
  #lastActive = performance.now();
  #shuttingDown = false;
  /** Set once a handler took the connection over (`res.upgrade()`). */
  #takeover: Takeover | undefined;
  #requests = 0;
  #bytesRead = 0;
  #closedBy: ConnectionSummary["closedBy"] | undefined;
  #error: Error | undefined;
  /** Gets the summary once the loop ended and the transport closed (cleared once called). */
  #onDone: ((summary: ConnectionSummary, connection: Connection) => void) | undefined;
  /** The loop ended (the connection is closing or closed). */
  #loopDone = false;
  /** The transport closed (or, once taken over, its new owner's stream is gone). */
  #transportClosed = false;
  /** Cuts off a closing connection whose peer never closes (see #close). */
  #linger: NodeJS.Timeout | undefined;
  /** While waiting for the next request: whether it is the connection's first. */
  #waitFirst = true;
  #closing = false;

  constructor(transport: Transport, handler: Handler, options: ResolvedOptions, core: Core) {
    this.#transport = transport;
    this.#in = new Inbound(transport);
    this.#out = new Outbound(
      transport,
      this.#in,
      options.writeTimeoutMs,
      () => (this.#closedBy ??= "timeout"),
      // Waiting on the client isn't the handler's stall: its clock starts again.
      () => this.#run?.progress(),
    );
    this.#handler = handler;
    this.#options = options;
    this.#core = core;
    this.#link = new Link(this, transport, options, core, this.#in, this.#out);
    this.#reader = this.#link.reader;
  }

  /** Whether the connection is between requests (nothing in flight). */
  get idle(): boolean {
    return this.#idle && !this.#reader.holding && this.#in.queued === 0;
  }

  /**
   * Starts a graceful close: a busy connection finishes its current exchange (its response
   * gets `Connection: close`) and closes; an idle one closes once it has been idle for
   * SHUTDOWN_IDLE_MS (at once if it already was), and a request it sends before that is
   * answered, with `Connection: close`.
   */
  shutdown(): void {
    this.#shuttingDown = true;
    if (this.#takeover) return this.#takeover.shutdown();
    if (!this.idle) return;
    this.#in.shorten(this.#lastActive + SHUTDOWN_IDLE_MS);
    this.#in.wake();
  }

  /** Closes the connection now. */
  destroy(error?: Error): void {
    this.#closedBy ??= "server";
    // A taken-over stream is cut without an error: its owner may not listen for one.
    this.#transport.destroy(this.#takeover ? undefined : error);
  }

  /** Whether a handler took the connection over (it no longer serves HTTP). */
  get upgraded(): boolean {
    return this.#takeover !== undefined;
  }

  /** Serves requests until the connection closes. */
  run(): Promise<ConnectionSummary> {
    return new Promise((resolve) => this.start(resolve));
  }

  /**
   * Serves requests until the connection closes; then calls `onDone` with the summary (and
   * this connection). `run()` without a promise: what `serve()` uses, one callback for all.
   */
  start(onDone: (summary: ConnectionSummary, connection: Connection) => void): void {
    this.#onDone = onDone;
    this.#transport.start(this.#link);
    this.#serveFrom(true);
  }

  /**
   * The loop: request after request until one says the connection closes. A request served
   * without waiting (its head was buffered and its handler handed its response off before
   * returning) answers a plain boolean: no promise, no turn. Between requests, with nothing
   * received, it waits through `#link` (its `ready()` resumes here), not with an `await`:
   * an idle keep-alive connection holds no pending promise and no suspended frame.
   */
  #serveFrom(first: boolean): void {
    for (;; first = false) {
      let more: boolean | Promise<boolean>;
      try {
        if (this.#awaitRequest(first)) return;
        more = this.#serveOne(first);
      } catch (error) {
        return this.#failed(error);
      }
      if (typeof more !== "boolean") {
        more.then(
          (again) => (again ? this.#serveFrom(false) : this.#loopEnded()),
          (error: unknown) => this.#failed(error),
        );
        return;
      }
      if (!more) return this.#loopEnded();
    }
  }

  /** Anything reaching here is a bug in the library, not the client's doing. */
  #failed(error: unknown): void {
    this.#error = error instanceof Error ? error : new Error(String(error));
    this.#closedBy ??= "error";
    this.#options.logger.error("tophat: connection failed", this.#error);
    this.#loopEnded();
  }

  #loopEnded(): void {
    if (this.#loopDone) return;
    this.#loopDone = true;
    this.#close();
    if (this.#transportClosed) this.#complete();
  }

  /** The transport closed: once the loop ended too, the connection is done. */
  #markClosed(): void {
    if (this.#transportClosed) return;
    this.#transportClosed = true;
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#linger = undefined;
    if (this.#loopDone) this.#complete();
  }

  #complete(): void {
    const onDone = this.#onDone;
    if (onDone === undefined) return;
    this.#onDone = undefined;
    this.#in.dispose();
    this.#out.dispose();
    onDone(
      {
        requests: this.#requests,
        bytesRead: this.#bytesRead,
        bytesWritten: this.#out.bytesWritten,
        closedBy: this.#closedBy ?? "server",
        ...(this.#error ? { error: this.#error } : {}),
      },
      this,
    );
  }

  /**
   * Between requests, with nothing received: waits for the next request's first bytes; true
   * while it waits (the link's `ready()` resumes the loop, its `expired()` ends it).
   */
  #awaitRequest(first: boolean): boolean {
    if (this.#reader.holding) return false;
    this.#idle = true;
    this.#waitFirst = first;
    this.#reader.awaitRequest(first);
    return !this.#in.readyOrWait(this.#link);
  }

  // ---- one request --------------------------------------------------------------------

  /**
   * Serves one request; false when the connection should close. Not `async`: a pipelined
   * request whose head is already buffered goes straight to its exchange, and when its
   * response is handed off synchronously the answer is a plain boolean.
   */
  #serveOne(first: boolean): boolean | Promise<boolean> {
    this.#idle = true;
    const reader = this.#reader;
    if (!reader.holding) {
      // The usual keep-alive request: its bytes came in one chunk, already queued. Taken
      // and parsed here, it is served in this turn (no trip through readHead's awaits).
      const chunk = this.#in.take();
      if (chunk !== undefined) {
        const read = reader.startHead(chunk, first);
        if (read) return this.#serveRead(read, reader.requestStart);
        return reader.readHead(first, true).then((more) => this.#serveRead(more, performance.now()));
      }
    }
    // Pipelined requests are parsed straight from the buffer; only a partial head waits.
    if (reader.holding) {
      const read = reader.parseHeld();
      if (read) return this.#serveRead(read, reader.requestStart);
    }
    return reader.readHead(first).then((read) => this.#serveRead(read, performance.now()));
  }

  /** Serves what reading a head gave; `headAt` is when the head was complete. */
  #serveRead(read: HeadResult, headAt: number): boolean | Promise<boolean> {
    this.#idle = false;
    if (read.kind === "end") return false;
    if (read.kind === "reject") {
      const refusal = new Glitch(read.status, `${statusText(read.status)} (${read.detail})`);
      return sendErrorResponse(this.#link, this.#options, refusal, undefined).then(() => false);
    }
    this.#requests++;
    return this.#exchangeWith(read.head, read.bytes, headAt);
  }

  #exchangeWith(head: RequestHead, bytes: Buffer, startedAt: number): boolean | Promise<boolean> {
    const o = this.#options;
    const ex = new Exchange(this.#link, head, startedAt);
    this.#reader.beginBody(ex);
    const body = (ex.body = new BodyReader(head, ex, this.#core, o.limits));
    ex.req = new Request(bytes, head, body, ex);
    const req = ex.req;
    this.#exchange = ex;
    // Unless the server offers tunnels, CONNECT is refused before any handler sees it.
    if (req.method === "CONNECT" && !o.acceptConnect) {
      ex.mustClose = true;
      const refusal = new Glitch(501, "CONNECT is not supported by this server");
      return sendErrorResponse(this.#link, o, refusal, ex).then(() => false);
    }
    const res = (ex.res = new ResponseWriter(ex));
    publishRequestStart(req, res);

    // The next request may start once this response is handed to the transport: a
    // handler's code after `await res.send()` (which waits for the flush) overlaps it.
    // The common case: the handler sent its whole response before returning.
    const run = new HandlerRun(this.#link, ex, req, res);
    // (It finishes in the turn its head was read: that timestamp will do as its end.)
    if (run.start(this.#handler)) return this.#afterExchange(ex, startedAt);
    this.#run = run;
    return run.finish().then((ok) => {
      this.#run = undefined;
      return ok && this.#afterExchange(ex, performance.now());
    });
  }

  /** After a response was handed off (at `endedAt`): whether the connection serves another request. */
  #afterExchange(ex: Exchange, endedAt: number): boolean | Promise<boolean> {
    this.#exchange = undefined;
    this.#lastActive = endedAt;
    if (ex.mustClose || this.#in.gone) return false;
    // A client that sends requests but doesn't read the responses: wait until it reads
    // before answering more, so responses can't pile up in memory.
    if (this.#transport.needsDrain) {
      return this.#out.drained().then(
        () => this.#afterDrained(ex),
        (error: unknown) => {
          if (error instanceof ClientClosedError) return false;
          throw error;
        },
      );
    }
    return this.#afterDrained(ex);
  }

  #afterDrained(ex: Exchange): boolean | Promise<boolean> {
    const body = ex.body!;
    if (!body.complete) {
      // A body the handler didn't read: skip it (up to a limit) so the next request
      // starts where it should — unless the client is still waiting for 100 Continue.
      if (ex.head!.expectContinue && !ex.continueSent) return false;
      return body.skip(this.#options.maxDrainBytes);
    }
    // Shutting down, too: a request already read is answered, and one that comes within
    // SHUTDOWN_IDLE_MS (readHead waits that long, no more); both with `Connection: close`.
    return true;
  }

  // ---- for the link (link.ts): what only the loop knows or does --------------------------

  /** @internal Bytes from the client. */
  received(chunk: Buffer): void {
    this.#bytesRead += chunk.length;
    if (this.#closing) return; // lingering: discard
    this.#in.push(chunk);
  }

  /** @internal The client finished sending. */
  peerEnded(): void {
    this.#in.finish();
    if (this.#closing) return;
    this.#closedBy ??= "client";
    this.#exchange?.peerFinished();
  }

  /** @internal The transport is gone. */
  transportClosed(error?: Error): void {
    if (!this.#closing) {
      this.#closedBy ??= error ? "error" : "client";
      if (error && !this.#error) this.#error = error;
    }
    this.#in.lose(error);
    this.#exchange?.abort?.abort(new ClientClosedError("before the response was complete", { cause: error }));
    this.#exchange?.peerFinished();
    this.#run?.lost();
    this.#markClosed();
  }

  /** @internal Whether a shutdown closes this idle connection now (reads then see the end). */
  idleShutdown(): boolean {
    return this.#shuttingDown && this.#idle && !this.#reader.holding && performance.now() >= this.#lastActive + SHUTDOWN_IDLE_MS;
  }

  /** @internal The wait between requests saw something. */
  waitReady(): void {
    // A turn later, as an awaited read would resume.
    queueMicrotask(() => this.#serveFrom(this.#waitFirst));
  }

  /** @internal No request began: a silent idle connection just closes. */
  waitExpired(): void {
    this.#reader.waitExpired();
    this.#idle = false;
    this.#closedBy ??= this.#shuttingDown ? "server" : "timeout";
    this.#loopEnded();
  }

  /** @internal Whether `shutdown()` was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** @internal While shutting down: when an idle connection closes. */
  get shutdownIdleAt(): number {
    return this.#lastActive + SHUTDOWN_IDLE_MS;
  }

  /** @internal A read ends the connection, unless something already did. */
  endedBy(by: "server" | "timeout"): void {
    this.#closedBy ??= by;
  }

  /** @internal The current handler made progress. */
  progress(): void {
    this.#run?.progress();
  }

  /** @internal The client is gone, or ended its side before its request was complete. */
  get left(): boolean {
    return this.#in.gone || (this.#in.eof && this.#exchange?.body?.complete === false);
  }

  /** @internal Hands the connection over after `head` (a framed 101): the loop ends with this exchange. */
  takeOver(ex: Exchange, head: Uint8Array): Promise<HandedOver> {
    sendContinue(ex, this.#out); // RFC 9110 §7.8: a 100 Continue that was asked for goes before the 101
    ex.responseStarted = true;
    ex.mustClose = true;
    this.#closedBy = "upgrade";
    const takeover = (this.#takeover = new Takeover());
    const read = this.#reader.takeAll();
    this.#in.dispose();
    this.#out.uncork();
    return takeover.hand(this.#transport, read, (done) => this.#out.writeLast(ex, [head], done));
  }

  // ---- closing -------------------------------------------------------------------------

  /** Ends the connection: flush, half-close, keep reading briefly (so the peer isn't reset), then close. */
  #close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#closedBy ??= "server";
    if (this.#takeover) {
      // The stream is its new owner's: the connection is over when it is gone.
      void this.#takeover.closed.then((error) => {
        if (error) this.#error ??= error;
        this.#markClosed();
      });
      return;
    }
    this.#in.discard();
    const t = this.#transport;
    if (this.#in.gone || t.destroyed) {
      this.#markClosed();
      return;
    }
    // The transport closes once both sides are done; a peer that never closes is cut off
    // LINGER_MS after our last byte left. (Not after end(): a slow client may still be
    // reading a large last response, which the write deadline watches.)
    this.#out.end(() => {
      if (!t.destroyed) this.#linger = setTimeout(() => t.destroy(), LINGER_MS);
    });
  }
}
