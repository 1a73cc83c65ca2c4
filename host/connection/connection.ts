/**
 * The connection loop: one HTTP/1.1 connection, request after request. Reads heads
 * through the core, hands each request to the handler, writes responses in order, and
 * owns keep-alive, pipelining, body draining, 100-continue, timeouts and backpressure.
 * @module
 */
import { Core, CoreTrapError, mayEndHead, type Limits, type RequestHead } from "../core/index.js";
import { renderError } from "../http/error-response.js";
import { Glitch } from "../http/glitch.js";
import { ClientClosedError } from "../http/http-error.js";
import { statusText } from "../http/status-text.js";
import { Request } from "../http/request.js";
import { ResponseWriter } from "../http/response-writer.js";
import type { HandedOver } from "../http/upgrade.js";
import { BodyReader } from "./body-reader.js";
import { publishRequestStart } from "./diagnostics.js";
import { Exchange, type ConnectionPort } from "./exchange.js";
import { HandlerRun, type Handler, type HandlerHost } from "./handler-run.js";
import { Inbound, ReadTimeout } from "./inbound.js";
import { Outbound } from "./outbound.js";
import { reportResponse } from "./response-report.js";
import { Takeover, upgradeRefusal } from "./takeover.js";
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
const EMPTY = Buffer.alloc(0);
/**
 * While shutting down, how long a connection that was just active may still send its next
 * request (answered with `Connection: close`) before it is closed. A busy keep-alive client
 * sends it within this; closing at once would race it (the request would cross the FIN).
 */
const SHUTDOWN_IDLE_MS = 500;
/** Bytes of a buffer holding several requests that a head is first looked for in. */
const FIRST_PARSE_WINDOW = 2048;

let sharedCore: Core | undefined;
/** The process-wide core instance: stateless between calls, so every connection shares it. */
export function defaultCore(): Core {
  return (sharedCore ??= Core.load());
}

type HeadResult =
  | { kind: "complete"; head: RequestHead; bytes: Buffer }
  | { kind: "reject"; status: number; detail: string }
  | { kind: "end" };

/**
 * One HTTP/1.1 connection over a transport. `accept()` runs one; `serve()` runs one per
 * socket and uses `shutdown()`/`destroy()` for graceful close.
 */
export class Connection {
  readonly #transport: Transport;
  readonly #handler: Handler;
  readonly #options: ResolvedOptions;
  readonly #core: Core;
  readonly #limits: Limits;

  // Reading
  readonly #in: Inbound;
  /** Received bytes not yet consumed (after the last head or body). */
  #buf: Buffer = EMPTY;
  /** Where the search for the end of a partly received head resumes (the core's `incomplete` offset). */
  #headSearchFrom = 0;
  /** How many bytes of the partly received head the core was last handed. */
  #headParsedAt = 0;

  readonly #out: Outbound;

  // State
  #exchange: Exchange | undefined;
  /** The current exchange's handler, while the connection waits for it. */
  #run: HandlerRun | undefined;
  #idle = true;
  /** When the connection last finished an exchange (or opened), `performance.now()` time. */
  #lastActive = performance.now();
  /** When the current request's first byte arrived (its requestTimeoutMs counts from here). */
  #requestStart = 0;
  #shuttingDown = false;
  /** Set once a handler took the connection over (`res.upgrade()`). */
  #takeover: Takeover | undefined;
  #requests = 0;
  #bytesRead = 0;
  #closedBy: ConnectionSummary["closedBy"] | undefined;
  #error: Error | undefined;
  #closed: Promise<void>;
  #markClosed!: () => void;

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
    this.#limits = options.limits;
    this.#closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  /** Whether the connection is between requests (nothing in flight). */
  get idle(): boolean {
    return this.#idle && this.#buf.length === 0 && this.#in.queued === 0;
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
  async run(): Promise<ConnectionSummary> {
    this.#transport.start({
      data: (chunk) => this.#onData(chunk),
      end: () => this.#onEnd(),
      close: (error) => this.#onClose(error),
    });
    try {
      // A request served without waiting (its head was buffered and its handler handed
      // its response off before returning) answers a plain boolean: no promise, no turn.
      for (let first = true; ; first = false) {
        const more = this.#serveOne(first);
        if (!(typeof more === "boolean" ? more : await more)) break;
      }
    } catch (error) {
      // Anything reaching here is a bug in the library, not the client's doing.
      this.#error = error instanceof Error ? error : new Error(String(error));
      this.#closedBy ??= "error";
      this.#options.logger.error("tophat: connection failed", this.#error);
    } finally {
      this.#close();
    }
    await this.#closed;
    this.#in.dispose();
    this.#out.dispose();
    return {
      requests: this.#requests,
      bytesRead: this.#bytesRead,
      bytesWritten: this.#out.bytesWritten,
      closedBy: this.#closedBy ?? "server",
      ...(this.#error ? { error: this.#error } : {}),
    };
  }

  // ---- transport events --------------------------------------------------------------

  #onData(chunk: Buffer): void {
    this.#bytesRead += chunk.length;
    if (this.#closing) return; // lingering: discard
    this.#in.push(chunk);
  }

  #onEnd(): void {
    this.#in.finish();
    if (this.#closing) return;
    this.#closedBy ??= "client";
    this.#exchange?.peerFinished();
  }

  #onClose(error?: Error): void {
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

  /** The next chunk from the client, under the current read deadline; null at EOF (or an idle shutdown). */
  #next(): Promise<Buffer | null> {
    return this.#in.next(this.#idleShutdown, this.#beforeWait);
  }

  // Made once: #next runs for every chunk read.
  readonly #idleShutdown = (): boolean =>
    this.#shuttingDown && this.#idle && this.#buf.length === 0 && performance.now() >= this.#lastActive + SHUTDOWN_IDLE_MS;
  readonly #beforeWait = (): void => this.#out.uncork();

  // ---- one request --------------------------------------------------------------------

  /**
   * Serves one request; false when the connection should close. Not `async`: a pipelined
   * request whose head is already buffered goes straight to its exchange, and when its
   * response is handed off synchronously the answer is a plain boolean.
   */
  #serveOne(first: boolean): boolean | Promise<boolean> {
    this.#idle = true;
    // Pipelined requests are parsed straight from the buffer; only a partial head waits.
    if (this.#buf.length > 0) {
      const now = (this.#requestStart = performance.now());
      const read = this.#parseBuffered(this.#buf);
      if (read) return this.#serveRead(read, now);
    }
    return this.#readHead(first).then((read) => this.#serveRead(read, performance.now()));
  }

  /** Serves what reading a head gave; `headAt` is when the head was complete. */
  #serveRead(read: HeadResult, headAt: number): boolean | Promise<boolean> {
    this.#idle = false;
    if (read.kind === "end") return false;
    if (read.kind === "reject") {
      return this.#sendError(new Glitch(read.status, `${statusText(read.status)} (${read.detail})`), undefined).then(() => false);
    }
    this.#requests++;
    return this.#exchangeWith(read.head, read.bytes, headAt);
  }

  /** Parses `buf` (the received, unconsumed bytes) as a request head; undefined when it is incomplete. */
  #parseBuffered(buf: Buffer): HeadResult | undefined {
    const max = this.#limits.maxHeadBytes;
    let out;
    try {
      // The core gets a copy of what it parses: with many requests buffered (pipelining),
      // try a window that holds most heads before copying up to the limit.
      const window = Math.min(max, FIRST_PARSE_WINDOW);
      out = buf.length > window ? this.#core.parseHead(buf.subarray(0, window), this.#limits) : undefined;
      if (out === undefined || out.tag === "incomplete") out = this.#core.parseHead(buf.length > max ? buf.subarray(0, max) : buf, this.#limits);
    } catch (error) {
      if (!(error instanceof CoreTrapError)) throw error;
      this.#options.logger.error("tophat: the protocol core trapped on a request head; closing that connection", error);
      this.#buf = EMPTY;
      return { kind: "reject", status: 500, detail: "the request could not be parsed" };
    }
    if (out.tag === "complete") {
      this.#buf = buf.subarray(out.val.headLength);
      // More bytes behind this head (pipelining): let the responses written before the
      // event loop turns leave together.
      if (this.#buf.length > 0 || this.#in.queued > 0) this.#out.cork();
      return { kind: "complete", head: out.val, bytes: buf };
    }
    if (out.tag === "invalid") {
      this.#buf = EMPTY;
      return { kind: "reject", status: out.val.status, detail: out.val.reason };
    }
    this.#buf = buf;
    this.#headSearchFrom = out.val;
    this.#headParsedAt = buf.length;
    return undefined;
  }

  /** Reads until a whole head arrived (or the connection ends, or a deadline passes). */
  async #readHead(first: boolean): Promise<HeadResult> {
    const o = this.#options;
    const start = performance.now();
    let buf = this.#buf;
    let started = buf.length > 0;
    // The first request's head must arrive within headersTimeoutMs of the connection;
    // later ones have keepAliveTimeoutMs to begin, then headersTimeoutMs to complete.
    if (started) this.#in.setDeadline("head", Math.min(start + o.headersTimeoutMs, this.#requestStart + o.requestTimeoutMs));
    else {
      this.#in.setDeadline("idle", start + (first ? o.headersTimeoutMs : o.keepAliveTimeoutMs));
      if (this.#shuttingDown) this.#in.shorten(this.#lastActive + SHUTDOWN_IDLE_MS);
    }
    for (;;) {
      let chunk: Buffer | null;
      try {
        chunk = await this.#next();
      } catch (error) {
        if (!(error instanceof ReadTimeout)) throw error;
        this.#closedBy ??= this.#shuttingDown && !started ? "server" : "timeout";
        // A silent idle connection just closes; a slow head gets 408.
        return started ? { kind: "reject", status: 408, detail: "the request head took too long" } : { kind: "end" };
      }
      if (chunk === null) {
        if (this.#shuttingDown) this.#closedBy ??= "server";
        return { kind: "end" };
      }
      if (!started) {
        started = true;
        this.#requestStart = performance.now();
        const headDeadline = (first ? start : this.#requestStart) + o.headersTimeoutMs;
        this.#in.setDeadline("head", Math.min(headDeadline, this.#requestStart + o.requestTimeoutMs));
      }
      const had = buf.length;
      buf = had > 0 ? Buffer.concat([buf, chunk]) : chunk;
      this.#buf = buf;
      // Parse again only when the head may have ended (the core parses from the start), or
      // when the bytes have doubled since the last parse: a client trickling a head byte
      // by byte costs at most about 3n bytes of parsing, not n²/2, and a head that breaks
      // a rule (too many fields, a bad line) is refused before max-head-bytes arrive.
      if (
        had === 0 ||
        buf.length >= this.#limits.maxHeadBytes ||
        buf.length >= 2 * this.#headParsedAt ||
        mayEndHead(buf, Math.max(this.#headSearchFrom, had - 2))
      ) {
        const read = this.#parseBuffered(buf);
        if (read) return read;
      }
    }
  }

  #exchangeWith(head: RequestHead, bytes: Buffer, startedAt: number): boolean | Promise<boolean> {
    const o = this.#options;
    const ex = new Exchange(this.#port, head, startedAt);
    ex.requestStart = this.#requestStart || startedAt;
    const body = (ex.body = new BodyReader(head, ex, this.#core, this.#limits));
    this.#in.setDeadline("body", ex.requestStart + o.requestTimeoutMs);
    ex.req = new Request(bytes, head, body, ex);
    const req = ex.req;
    this.#exchange = ex;
    // Unless the server offers tunnels, CONNECT is refused before any handler sees it.
    if (req.method === "CONNECT" && !o.acceptConnect) {
      ex.mustClose = true;
      return this.#sendError(new Glitch(501, "CONNECT is not supported by this server"), ex).then(() => false);
    }
    const res = (ex.res = new ResponseWriter(ex));
    publishRequestStart(req, res);

    // The next request may start once this response is handed to the transport: a
    // handler's code after `await res.send()` (which waits for the flush) overlaps it.
    // The common case: the handler sent its whole response before returning.
    const run = new HandlerRun(this.#handlerHost, ex, req, res);
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
    // SHUTDOWN_IDLE_MS (#readHead waits that long, no more); both with `Connection: close`.
    return true;
  }

  /** Bytes of another request were read (empty lines between requests don't count, RFC 9112 §2.2). */
  #moreRead(): boolean {
    if (this.#in.queued > 0) return true;
    const buf = this.#buf;
    for (let i = 0; i < buf.length; i++) if (buf[i] !== 13 && buf[i] !== 10) return true;
    return false;
  }

  /** The body's next chunk, under the body and request deadlines. */
  async #nextBodyChunk(ex: Exchange): Promise<Buffer | null> {
    const o = this.#options;
    const bodyIdle = performance.now() + o.bodyTimeoutMs;
    const whole = ex.requestStart + o.requestTimeoutMs;
    this.#in.setDeadline("body", Math.min(bodyIdle, whole));
    try {
      const chunk = await this.#next();
      if (chunk === null) {
        if (this.#in.gone) throw new ClientClosedError("before the request body was complete", { cause: this.#in.goneError });
        if (this.#in.eof) {
          // The client ended its side in the middle of its body: a cancelled request (RFC
          // 9112 §8), which is how fetch and curl abort an upload. Not a server failure,
          // and no one waits for an answer to a request that can never be complete.
          ex.mustClose = true;
          throw new ClientClosedError("in the middle of the request body (it stopped sending before the body's end)");
        }
      }
      this.#run?.progress();
      return chunk;
    } catch (error) {
      if (error instanceof ReadTimeout) {
        ex.mustClose = true;
        this.#closedBy ??= "timeout";
        throw new Glitch(408, "the request body took too long");
      }
      throw error;
    }
  }

  /** Hands the connection over after `head` (a framed 101): the loop ends with this exchange. */
  #takeOver(ex: Exchange, head: Uint8Array): Promise<HandedOver> {
    this.#sendContinue(ex); // RFC 9110 §7.8: a 100 Continue that was asked for goes before the 101
    ex.responseStarted = true;
    ex.mustClose = true;
    this.#closedBy = "upgrade";
    const takeover = (this.#takeover = new Takeover());
    const read = Buffer.concat([this.#buf, ...this.#in.takeAll()]);
    this.#buf = EMPTY;
    this.#in.dispose();
    this.#out.uncork();
    return takeover.hand(this.#transport, read, (done) => this.#out.writeLast(ex, [head], done));
  }

  #sendContinue(ex: Exchange): void {
    if (!ex.head?.expectContinue || ex.continueSent || ex.responseStarted) return;
    ex.continueSent = true;
    const framed = this.#core.frameHead({ status: 100, headers: [], bodyLength: 0 }, { head: false, http10: false, close: false });
    if (framed.tag !== "head") throw new Error(`tophat: 100 Continue could not be framed: ${framed.val.reason}`);
    this.#out.writeInterim(framed.val.bytes);
  }

  /**
   * Sends the error response for `error` (a Glitch keeps its status, headers and message;
   * anything else is a 500), as text or problem+json (per the Accept, or always). Without an
   * exchange (the head couldn't be read), the connection closes after it.
   */
  async #sendError(error: unknown, ex: Exchange | undefined): Promise<void> {
    const exchange = ex ?? new Exchange(this.#port, undefined, performance.now());
    const rendered = renderError(error, exchange.req?.headers.get("accept"), this.#options.verboseErrors, this.#options.errorFormat);
    const res = (exchange.res = new ResponseWriter(exchange));
    res.setStatus(rendered.status);
    for (const [name, value] of Object.entries(rendered.headers)) res.setHeader(name, value);
    res.setHeader("Content-Type", rendered.contentType).setBody(rendered.body);
    if (this.#in.gone) return;
    await res.send();
  }

  /** What exchanges use of this connection: made once, shared by every exchange. */
  readonly #port: ConnectionPort = this.#makePort();

  /** What handler runs use of this connection: made once, shared by every run. */
  readonly #handlerHost: HandlerHost = this.#makeHandlerHost();

  #makeHandlerHost(): HandlerHost {
    // The getters below read the connection's live state.
    const connection = this;
    return {
      get logger() {
        return connection.#options.logger;
      },
      get handlerTimeoutMs() {
        return connection.#options.handlerTimeoutMs;
      },
      get gone() {
        return connection.#in.gone;
      },
      get left() {
        return connection.#in.gone || (connection.#in.eof && connection.#exchange?.body?.complete === false);
      },
      get waitingOnClient() {
        return connection.#in.waiting || connection.#out.waiting;
      },
      sendError: (error, ex) => this.#sendError(error, ex),
      reset: () => this.#transport.reset(),
    };
  }

  #makePort(): ConnectionPort {
    // The getters below read the connection's live state.
    const connection = this;
    return {
      get core(): Core {
        return connection.#core;
      },
      get shuttingDown(): boolean {
        return connection.#shuttingDown;
      },
      get buffered(): boolean {
        return connection.#moreRead();
      },
      get maxDrainBytes(): number {
        return connection.#options.maxDrainBytes;
      },
      get maxBodyBytes(): number {
        return connection.#options.maxBodyBytes;
      },
      get remoteAddress(): string | undefined {
        return connection.#transport.remoteAddress;
      },
      get encrypted(): boolean {
        return connection.#transport.encrypted;
      },
      get seesWriteProgress(): boolean {
        return connection.#transport.unsentBytes !== undefined;
      },
      get trustProxy(): ((address: string) => boolean) | undefined {
        return connection.#options.trustProxy;
      },
      get gone(): boolean {
        return connection.#in.gone;
      },
      get finished(): boolean {
        return connection.#in.gone || connection.#in.eof;
      },
      takeBuffered: () => {
        const b = this.#buf;
        this.#buf = EMPTY;
        return b;
      },
      putBack: (rest) => {
        this.#buf = rest;
      },
      nextBodyChunk: (ex) => this.#nextBodyChunk(ex),
      sendContinue: (ex) => this.#sendContinue(ex),
      write: (ex, chunks, last) => {
        this.#run?.progress();
        return this.#out.write(ex, chunks, last);
      },
      writeLast: (ex, chunks, done) => {
        this.#run?.progress();
        this.#out.writeLast(ex, chunks, done);
      },
      upgradable: (ex) => upgradeRefusal(ex, this.#shuttingDown, this.#in.gone),
      takeOver: (ex, head) => this.#takeOver(ex, head),
      responded: (ex, written) => reportResponse(this.#options, ex.req, written),
    };
  }

  // ---- closing -------------------------------------------------------------------------

  #closing = false;

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
    let linger: NodeJS.Timeout | undefined;
    this.#out.end(() => {
      if (!t.destroyed) linger = setTimeout(() => t.destroy(), LINGER_MS);
    });
    void this.#closed.then(() => clearTimeout(linger));
  }
}
