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
import type { ResponseWritten } from "../http/response-written.js";
import { BodyReader } from "./body-reader.js";
import { publishRequestStart } from "./diagnostics.js";
import { Exchange, type ConnectionPort } from "./exchange.js";
import { HandlerRun, type Handler, type HandlerHost } from "./handler-run.js";
import { Inbound, ReadTimeout, type Reader, type ReadWaiter } from "./inbound.js";
import { Outbound } from "./outbound.js";
import { reportResponse } from "./response-report.js";
import { Takeover, upgradeRefusal } from "./takeover.js";
import type { Logger, ResolvedOptions } from "./options.js";
import type { Transport, TransportSink } from "./transport.js";

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
  /** Gets the summary once the loop ended and the transport closed (cleared once called). */
  #onDone: ((summary: ConnectionSummary, connection: Connection) => void) | undefined;
  /** The loop ended (the connection is closing or closed). */
  #loopDone = false;
  /** The transport closed (or, once taken over, its new owner's stream is gone). */
  #transportClosed = false;
  /** Cuts off a closing connection whose peer never closes (see #close). */
  #linger: NodeJS.Timeout | undefined;
  /** While waiting for the next request's first bytes: when the wait began (its deadline counts from there). */
  #waitStart: number | undefined;
  /** Whether that wait is for the connection's first request. */
  #waitFirst = true;

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
    return this.#in.next(this.#link);
  }

  /** Whether a shutdown closes this idle connection now (reads then see the end). */
  #idleShutdown(): boolean {
    return this.#shuttingDown && this.#idle && this.#buf.length === 0 && performance.now() >= this.#lastActive + SHUTDOWN_IDLE_MS;
  }

  /**
   * Between requests, with nothing received: waits for the next request's first bytes; true
   * while it waits (`#link.ready()` resumes the loop, `#link.expired()` ends it). Its
   * deadline is set when the wait begins; a wake that brings nothing keeps it.
   */
  #awaitRequest(first: boolean): boolean {
    if (this.#buf.length > 0) return false;
    this.#idle = true;
    this.#waitFirst = first;
    if (this.#waitStart === undefined) {
      const start = (this.#waitStart = performance.now());
      const o = this.#options;
      this.#in.setDeadline("idle", start + (first ? o.headersTimeoutMs : o.keepAliveTimeoutMs));
      if (this.#shuttingDown) this.#in.shorten(this.#lastActive + SHUTDOWN_IDLE_MS);
    }
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
    if (this.#buf.length === 0) {
      // The usual keep-alive request: its bytes came in one chunk, already queued. Taken
      // and parsed here, it is served in this turn (no trip through #readHead's awaits).
      const chunk = this.#in.take();
      if (chunk !== undefined) {
        this.#headBegan(first, this.#waitStart ?? performance.now());
        this.#waitStart = undefined;
        const read = this.#parseBuffered(chunk);
        if (read) return this.#serveRead(read, this.#requestStart);
        return this.#readHead(first, true).then((more) => this.#serveRead(more, performance.now()));
      }
    }
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
      // (Not an empty view when all was read: it would keep the received chunk's memory.)
      this.#buf = out.val.headLength < buf.length ? buf.subarray(out.val.headLength) : EMPTY;
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

  /**
   * The first bytes of a request's head were taken: it has headersTimeoutMs (counted from
   * `start` for the connection's first request, which must arrive within it of the
   * connection) and requestTimeoutMs from now.
   */
  #headBegan(first: boolean, start: number): void {
    const o = this.#options;
    const now = (this.#requestStart = performance.now());
    this.#in.setDeadline("head", Math.min((first ? start : now) + o.headersTimeoutMs, now + o.requestTimeoutMs));
  }

  /**
   * Reads until a whole head arrived (or the connection ends, or a deadline passes);
   * `began` when its first bytes were already taken (#headBegan set the deadline).
   */
  async #readHead(first: boolean, began = false): Promise<HeadResult> {
    const o = this.#options;
    // (When #awaitRequest waited for the head's first bytes, from when that wait began.)
    const start = this.#waitStart ?? performance.now();
    this.#waitStart = undefined;
    let buf = this.#buf;
    let started = buf.length > 0;
    // The first request's head must arrive within headersTimeoutMs of the connection;
    // later ones have keepAliveTimeoutMs to begin, then headersTimeoutMs to complete.
    if (started && !began) this.#in.setDeadline("head", Math.min(start + o.headersTimeoutMs, this.#requestStart + o.requestTimeoutMs));
    else if (!started) {
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
        this.#headBegan(first, start);
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
    const ex = new Exchange(this.#link, head, startedAt);
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
    const exchange = ex ?? new Exchange(this.#link, undefined, performance.now());
    const rendered = renderError(error, exchange.req?.headers.get("accept"), this.#options.verboseErrors, this.#options.errorFormat);
    const res = (exchange.res = new ResponseWriter(exchange));
    res.setStatus(rendered.status);
    for (const [name, value] of Object.entries(rendered.headers)) res.setHeader(name, value);
    res.setHeader("Content-Type", rendered.contentType).setBody(rendered.body);
    if (this.#in.gone) return;
    await res.send();
  }

  /**
   * What this connection's exchanges, handler runs, transport and inbound reads use of it:
   * one small object whose members live on a shared prototype, so a connection costs no
   * closures or accessor pairs for them. Made once, shared by every exchange and run.
   */
  static readonly #Link = class Link implements ConnectionPort, HandlerHost, TransportSink, Reader, ReadWaiter {
    readonly #c: Connection;
    constructor(connection: Connection) {
      this.#c = connection;
    }

    // TransportSink: what the transport reads.
    data(chunk: Buffer): void {
      this.#c.#onData(chunk);
    }
    end(): void {
      this.#c.#onEnd();
    }
    close(error?: Error): void {
      this.#c.#onClose(error);
    }

    // Reader and ReadWaiter: reads from the inbound; the wait between requests.
    stopReading(): boolean {
      return this.#c.#idleShutdown();
    }
    beforeWait(): void {
      this.#c.#out.uncork();
    }
    ready(): void {
      // A turn later, as an awaited read would resume.
      queueMicrotask(() => this.#c.#serveFrom(this.#c.#waitFirst));
    }
    expired(): void {
      // No request began: a silent idle connection just closes.
      const c = this.#c;
      c.#waitStart = undefined;
      c.#idle = false;
      c.#closedBy ??= c.#shuttingDown ? "server" : "timeout";
      c.#loopEnded();
    }

    // HandlerHost
    get logger(): Logger {
      return this.#c.#options.logger;
    }
    get handlerTimeoutMs(): number {
      return this.#c.#options.handlerTimeoutMs;
    }
    get left(): boolean {
      const c = this.#c;
      return c.#in.gone || (c.#in.eof && c.#exchange?.body?.complete === false);
    }
    get waitingOnClient(): boolean {
      return this.#c.#in.waiting || this.#c.#out.waiting;
    }
    sendError(error: unknown, ex: Exchange): Promise<void> {
      return this.#c.#sendError(error, ex);
    }
    reset(): void {
      this.#c.#transport.reset();
    }

    // ConnectionPort (and `gone`, which HandlerHost has too)
    get core(): Core {
      return this.#c.#core;
    }
    get shuttingDown(): boolean {
      return this.#c.#shuttingDown;
    }
    get buffered(): boolean {
      return this.#c.#moreRead();
    }
    get maxDrainBytes(): number {
      return this.#c.#options.maxDrainBytes;
    }
    get maxBodyBytes(): number {
      return this.#c.#options.maxBodyBytes;
    }
    get remoteAddress(): string | undefined {
      return this.#c.#transport.remoteAddress;
    }
    get encrypted(): boolean {
      return this.#c.#transport.encrypted;
    }
    get seesWriteProgress(): boolean {
      return this.#c.#transport.unsentBytes !== undefined;
    }
    get trustProxy(): ((address: string) => boolean) | undefined {
      return this.#c.#options.trustProxy;
    }
    get gone(): boolean {
      return this.#c.#in.gone;
    }
    get finished(): boolean {
      return this.#c.#in.gone || this.#c.#in.eof;
    }
    takeBuffered(): Buffer {
      const b = this.#c.#buf;
      this.#c.#buf = EMPTY;
      return b;
    }
    putBack(rest: Buffer): void {
      // (Not an empty view: it would keep the received chunk's memory while idle.)
      this.#c.#buf = rest.length > 0 ? rest : EMPTY;
    }
    nextBodyChunk(ex: Exchange): Promise<Buffer | null> {
      return this.#c.#nextBodyChunk(ex);
    }
    sendContinue(ex: Exchange): void {
      this.#c.#sendContinue(ex);
    }
    write(ex: Exchange, chunks: readonly Uint8Array[], last: boolean): Promise<void> {
      this.#c.#run?.progress();
      return this.#c.#out.write(ex, chunks, last);
    }
    writeLast(ex: Exchange, chunks: readonly Uint8Array[], done: (error: Error | undefined) => void): void {
      this.#c.#run?.progress();
      this.#c.#out.writeLast(ex, chunks, done);
    }
    upgradable(ex: Exchange): { offered: string; tunnel: boolean } | { refused: Error } {
      return upgradeRefusal(ex, this.#c.#shuttingDown, this.#c.#in.gone);
    }
    takeOver(ex: Exchange, head: Uint8Array): Promise<HandedOver> {
      return this.#c.#takeOver(ex, head);
    }
    responded(ex: Exchange, written: ResponseWritten): void {
      reportResponse(this.#c.#options, ex.req, written);
    }
  };

  readonly #link = new Connection.#Link(this);

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
    this.#out.end(() => {
      if (!t.destroyed) this.#linger = setTimeout(() => t.destroy(), LINGER_MS);
    });
  }
}
