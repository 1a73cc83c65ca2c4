/**
 * One call of the request handler, from the call until the connection may move on — the
 * response was handed off, the client left, or the handler went quiet for longer than
 * `handlerTimeoutMs` — and what the connection does with the handler's outcome.
 * @module
 */
import { Glitch } from "../http/glitch.js";
import { ClientClosedError, HandlerTimeoutError } from "../http/http-error.js";
import type { Request } from "../http/request.js";
import type { ResponseWriter } from "../http/response-writer.js";
import { ResponseWritten } from "../http/response-written.js";
import { publishRequestError } from "./diagnostics.js";
import type { Exchange } from "./exchange.js";
import type { Logger } from "./options.js";

/**
 * Whether `error` is the client's leaving seen by the handler: a ClientClosedError, or an
 * error caused by one (a library that wrapped it), a few causes deep.
 */
function leftFirst(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ClientClosedError) return true;
  }
  return false;
}

type HandlerOutcome = { ok: true; value: ResponseWritten } | { ok: false; error: unknown };

/** A request handler: answers through `res` and returns what `res.send()` resolved to. */
export type Handler = (req: Request, res: ResponseWriter) => Promise<ResponseWritten>;

/** What a handler run needs from its connection. */
export interface HandlerHost {
  readonly logger: Logger;
  /** Longest a handler may go without progress; Infinity for no limit. */
  readonly handlerTimeoutMs: number;
  /** The client is gone (the transport closed). */
  readonly gone: boolean;
  /**
   * The client is gone, or ended its side before its request was complete (a cancelled
   * request, RFC 9112 §8: how fetch and curl abort an upload).
   */
  readonly left: boolean;
  /** A body read or a response write is waiting on the client (its own deadline governs). */
  readonly waitingOnClient: boolean;
  /** Sends the error response for `error` on `ex` (resolves once it is flushed or failed). */
  sendError(error: unknown, ex: Exchange): Promise<void>;
  /** Cuts the connection with a reset (a close-delimited body that can't be finished). */
  reset(): void;
}

/**
 * The lifetime of one handler call. The connection calls `start()`; when the response
 * wasn't handed off before the handler returned, it awaits `finish()`, and tells the run
 * about progress (body reads, writes) and about the client leaving.
 */
export class HandlerRun {
  readonly #host: HandlerHost;
  readonly #ex: Exchange;
  readonly #req: Request;
  readonly #res: ResponseWriter;
  #outcome: HandlerOutcome | undefined;
  /** The connection no longer waits for the outcome: a later one is only checked. */
  #movedOn = false;
  /** Why the connection stopped waiting before a hand-off: the client left, or the deadline. */
  #released: "lost" | "timeout" | undefined;
  #wake: (() => void) | undefined;
  #deadline = Infinity;
  #timer: NodeJS.Timeout | undefined;

  constructor(host: HandlerHost, ex: Exchange, req: Request, res: ResponseWriter) {
    this.#host = host;
    this.#ex = ex;
    this.#req = req;
    this.#res = res;
  }

  /**
   * Calls the handler. True when its response was handed off before it returned (the
   * common case): the connection moves on at once and the outcome is checked when it comes.
   */
  start(handler: Handler): boolean {
    let answer: Promise<ResponseWritten>;
    try {
      // A handler that isn't `async` may return something that isn't a promise…
      answer = Promise.resolve(handler(this.#req, this.#res));
    } catch (error) {
      // … or throw instead of rejecting.
      answer = Promise.reject(error);
    }
    answer.then(
      (value) => this.#settled({ ok: true, value }),
      (error: unknown) => this.#settled({ ok: false, error }),
    );
    if (this.#ex.handedOff) this.#movedOn = true;
    return this.#movedOn;
  }

  /**
   * Waits until the connection may move on, handling the outcome if the handler settled
   * first; resolves to whether the connection can serve another request.
   */
  async finish(): Promise<boolean> {
    // The client may have left before this run began (a close queued behind the request).
    if (this.#host.gone) this.lost();
    this.#arm();
    try {
      if (this.#outcome === undefined && !this.#ex.handedOff && this.#released === undefined) await this.#event();
      this.#movedOn = true;
      if (this.#released !== undefined) return false;
      const outcome = this.#outcome;
      // Handed off first: the outcome is checked when it comes.
      if (outcome === undefined) return true;
      const ok = await this.#afterOutcome(outcome);
      return ok && this.#released === undefined;
    } finally {
      this.#disarm();
    }
  }

  /** The handler read or wrote: its deadline starts again. */
  progress(): void {
    if (this.#timer !== undefined) this.#deadline = performance.now() + this.#host.handlerTimeoutMs;
  }

  /**
   * The client is gone: stop waiting (the handler's `req.signal` has aborted). A response
   * not begun is reported at once as `client-closed` (the handler may never answer); a
   * begun one when the handler settles, with what its writes managed.
   */
  lost(): void {
    this.#released ??= "lost";
    if (!this.#res.sent) this.#res.clientGone(this.#clientClosed());
    this.#notify();
  }

  /** Why the response couldn't be finished: the reason `req.signal` aborted with, if it did. */
  #clientClosed(): ClientClosedError {
    const reason: unknown = this.#ex.abort?.signal.reason;
    return reason instanceof ClientClosedError ? reason : new ClientClosedError("before the response was complete");
  }

  #settled(outcome: HandlerOutcome): void {
    this.#outcome = outcome;
    if (!outcome.ok) publishRequestError(this.#req, outcome.error);
    if (!this.#movedOn) this.#notify();
    else if (this.#released === "lost") this.#checkOutcomeAfterLoss(outcome);
    // (A timeout was logged once, when it happened.)
    else if (this.#ex.handedOff && this.#released === undefined) this.#checkLateOutcome(outcome);
  }

  /** The client left first: its leaving is no failure, but a handler's own bug still is. */
  #checkOutcomeAfterLoss(outcome: HandlerOutcome): void {
    // A begun response the handler's failed writes didn't end is reported now (once).
    this.#res.clientGone(this.#clientClosed());
    if (outcome.ok || leftFirst(outcome.error)) return;
    if (outcome.error === this.#ex.abort?.signal.reason) return;
    if (outcome.error instanceof Glitch && outcome.error.status < 500) return;
    this.#host.logger.error(`tophat: ${this.#what} failed after the client left`, outcome.error);
  }

  /** Resolves at the next event: hand-off, the handler settling, the client leaving, the deadline. */
  #event(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#ex.onHandedOff = resolve;
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** What to do when the handler settled before its response was handed off; false to close. */
  async #afterOutcome(outcome: HandlerOutcome): Promise<boolean> {
    const log = this.#host.logger;
    const res = this.#res;
    if (!outcome.ok) {
      // The client left (the handler saw it while reading the body or writing): nobody to
      // answer, and not the handler's fault: reported as client-closed, never as a 500.
      if (this.#host.left && leftFirst(outcome.error)) {
        this.#res.clientGone(this.#clientClosed());
        return false;
      }
      if (!res.sent) {
        this.#logError(outcome.error);
        await this.#host.sendError(outcome.error, this.#ex);
        return true;
      }
      if (!res.settling) {
        // Logged once, with what was written, when the abandoned response is reported.
        this.#abandon(outcome.error);
        return false;
      }
      log.warn(`tophat: ${this.#what} threw after sending`, outcome.error);
    } else if (!res.sent) {
      log.warn(`tophat: ${this.#what} resolved without sending a response; sent 500`);
      await this.#host.sendError(Glitch.internal(), this.#ex);
      return true;
    } else if (!res.settling) {
      // A truncated response: logged once at error level when it is reported.
      this.#abandon(new Error(`${this.#what} returned before ending its streamed response`));
      return false;
    }
    if (!this.#ex.handedOff && this.#released === undefined) await this.#event();
    if (outcome.ok && this.#released === undefined) this.#checkLateOutcome(outcome);
    return true;
  }

  /** Names the handler in log lines: "the handler for GET /path". */
  get #what(): string {
    return `the handler for ${this.#req.method} ${this.#req.target}`;
  }

  /** Server-side failures are logged (with their cause); client errors (4xx Glitches) are not. */
  #logError(error: unknown): void {
    const log = this.#host.logger;
    if (!(error instanceof Glitch)) log.error(`tophat: ${this.#what} failed; sent 500`, error);
    else if (error.status >= 500) log.error(`tophat: ${this.#what} answered ${error.status}`, error.cause ?? error);
  }

  /**
   * Gives up on a response whose body was cut short. The connection then closes: with a
   * FIN when the client can tell the body is short (chunked, Content-Length), so earlier
   * pipelined responses still arrive; with a reset when it can't (close-delimited).
   */
  #abandon(cause: unknown): void {
    this.#res.abandon(cause instanceof Error ? cause : new Error(String(cause)));
    if (this.#res.framing === "close-delimited") this.#host.reset();
  }

  /** Warns about a handler that failed or returned something odd after its response went out. */
  #checkLateOutcome(outcome: HandlerOutcome): void {
    // Runs after every request: the log line's words (which decode the target) only when one is written.
    const log = this.#host.logger;
    const res = this.#res;
    if (!outcome.ok) log.warn(`tophat: ${this.#what} threw after sending`, outcome.error);
    else if (!(outcome.value instanceof ResponseWritten) || (res.written && outcome.value !== res.written)) {
      log.warn(`tophat: ${this.#what} returned something other than its own ResponseWritten`);
    }
  }

  // ---- the deadline ---------------------------------------------------------------------

  #arm(): void {
    const ms = this.#host.handlerTimeoutMs;
    if (ms === Infinity) return;
    this.#deadline = performance.now() + ms;
    this.#timer = setTimeout(() => this.#onTimer(), ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #onTimer(): void {
    const now = performance.now();
    // Waiting on the client is not the handler's stall: the body and write timeouts
    // govern that wait, and the handler's clock starts again after it.
    if (this.#host.waitingOnClient) this.#deadline = now + this.#host.handlerTimeoutMs;
    if (now < this.#deadline) {
      this.#timer = setTimeout(() => this.#onTimer(), this.#deadline - now);
      return;
    }
    this.#timer = undefined;
    this.#timeOut();
  }

  /**
   * The handler made no progress for handlerTimeoutMs: the client gets a 503 if nothing
   * was sent yet (else its response is cut off), the connection closes after it, and the
   * handler's `req.signal` aborts. Logged once, here.
   */
  #timeOut(): void {
    // A response (the library's 500 for a failed handler) already went: nothing to cut.
    if (this.#ex.handedOff) return;
    const ms = this.#host.handlerTimeoutMs;
    const error = new HandlerTimeoutError(ms);
    const ex = this.#ex;
    const res = this.#res;
    const sent = res.sent;
    // A response cut off is logged once when it is reported (outcome error, this error).
    if (!sent) this.#host.logger.error(`tophat: ${this.#what} made no progress for ${ms} ms (handlerTimeoutMs); sent 503 and closed the connection`);
    this.#released = "timeout";
    ex.closeAfter();
    if (!sent) {
      // Written (synchronously) before the exchange is cancelled below, which then stops
      // the handler's own writer from sending anything after it.
      this.#host.sendError(Glitch.serviceUnavailable("the server did not answer in time"), ex).catch((failure: unknown) => {
        if (!(failure instanceof ClientClosedError)) this.#host.logger.error("tophat: the 503 for a handler timeout could not be sent", failure);
      });
    } else {
      this.#abandon(error);
    }
    ex.cancel(error);
    this.#notify();
  }
}
