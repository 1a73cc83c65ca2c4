/**
 * Server-sent events (the HTML standard's `text/event-stream`): a sink over a streamed
 * response body.
 * @module
 */
import type { BodyStream } from "./response-writer.js";
import type { ResponseWritten } from "./response-written.js";

/** One event. */
export interface ServerSentEvent {
  /** The event type (`addEventListener(type)` in the browser); default `message`. No CR or LF. */
  event?: string;
  /** The data; each line becomes a `data:` line, and the browser joins them with `\n`. */
  data: string;
  /** The event id: the browser sends it back as `Last-Event-ID` when it reconnects. No CR, LF or NUL. */
  id?: string;
  /** Milliseconds the browser waits before reconnecting, from now on (a whole number ≥ 0, or it throws). Default: not sent. */
  retry?: number;
}

/** Options for `res.sse()`. */
export interface SseOptions {
  /** Milliseconds of silence after which a comment line is sent, so proxies and clients see a live stream. Default 15 000; 0 turns heartbeats off. */
  heartbeatMs?: number;
  /** Sent first as the stream's `retry:` (the browser's reconnection delay, whole ms ≥ 0, or it throws). Default: not sent (the browser's own, about 3 s). */
  retryMs?: number;
}

/**
 * The stream of events a handler writes to. Every send waits until the socket can take
 * more (backpressure). Once the client is gone, sends reject with `ClientClosedError`:
 * watch `closed` or `signal` to stop producing.
 */
export class SseSink {
  readonly #body: BodyStream;
  readonly #heartbeatMs: number;
  #heartbeat: NodeJS.Timeout | undefined;
  #ended: Promise<ResponseWritten> | undefined;
  readonly #closed: Promise<void>;
  readonly #signal: AbortSignal;

  /**
   * @internal Made by `ResponseWriter.sse()`. `clientGone` aborts when the connection is
   * gone; `clientDone` also when the client half-closed it, which for an event stream
   * (a client that only listens) means it stopped listening.
   */
  constructor(body: BodyStream, clientGone: AbortSignal, clientDone: AbortSignal, options: SseOptions) {
    this.#body = body;
    this.#signal = clientGone;
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    if (!Number.isFinite(heartbeatMs) || heartbeatMs < 0) throw new RangeError(`sse: heartbeatMs must be ≥ 0, got ${heartbeatMs}`);
    this.#heartbeatMs = heartbeatMs;
    this.#closed = new Promise((resolve) => {
      if (clientDone.aborted) resolve();
      else clientDone.addEventListener("abort", () => resolve(), { once: true });
    });
    void this.#closed.then(() => this.#stopHeartbeat());
    if (options.retryMs !== undefined) void this.#write(`retry: ${checkRetry(options.retryMs)}\n\n`).catch(() => this.#stopHeartbeat());
    this.#armHeartbeat();
  }

  /**
   * Resolves when the client disconnects or finishes its side of the connection (or
   * `close()` ended the stream). A client that leaves without a FIN or a reset (a pulled
   * cable) is noticed at the next failed write: keep heartbeats on.
   */
  get closed(): Promise<void> {
    return this.#ended ? Promise.race([this.#closed, this.#ended.then(() => undefined)]) : this.#closed;
  }

  /** Aborts when the connection to the client is gone. */
  get signal(): AbortSignal {
    return this.#signal;
  }

  /** Sends one event; resolves when the socket can take more. */
  send(event: ServerSentEvent): Promise<void> {
    return this.#write(formatEvent(event));
  }

  /** Sends a comment line (ignored by clients; keeps the connection visibly alive). */
  comment(text = ""): Promise<void> {
    if (/[\r\n]/.test(text)) return Promise.reject(new TypeError("sse: a comment can't contain CR or LF"));
    return this.#write(text === "" ? ":\n\n" : `: ${text}\n\n`);
  }

  /** Ends the stream; resolves to what was written (`client-closed` if the client had left). */
  close(): Promise<ResponseWritten> {
    this.#stopHeartbeat();
    this.#ended ??= this.#body.end();
    return this.#ended;
  }

  #write(text: string): Promise<void> {
    if (this.#ended) return Promise.reject(new Error("sse: the stream was closed"));
    this.#armHeartbeat();
    return this.#body.write(text);
  }

  #armHeartbeat(): void {
    if (this.#heartbeatMs === 0 || this.#signal.aborted) return;
    if (this.#heartbeat) {
      this.#heartbeat.refresh();
      return;
    }
    this.#heartbeat = setTimeout(() => {
      this.#heartbeat = undefined;
      // A failed heartbeat means the client left; `closed` reports that.
      this.comment("heartbeat").catch(() => this.#stopHeartbeat());
    }, this.#heartbeatMs);
    // A stream waiting for its next event must not keep the process alive.
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

function checkRetry(ms: number): number {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`sse: retry must be a whole number of milliseconds ≥ 0, got ${ms}`);
  return ms;
}

/** The wire form of an event; throws a TypeError naming the field that can't be sent. */
export function formatEvent(e: ServerSentEvent): string {
  let out = "";
  if (e.event !== undefined) {
    if (/[\r\n]/.test(e.event)) throw new TypeError("sse: event can't contain CR or LF");
    out += `event: ${e.event}\n`;
  }
  if (e.id !== undefined) {
    if (/[\r\n\0]/.test(e.id)) throw new TypeError("sse: id can't contain CR, LF or NUL");
    out += `id: ${e.id}\n`;
  }
  if (e.retry !== undefined) out += `retry: ${checkRetry(e.retry)}\n`;
  if (typeof e.data !== "string") throw new TypeError("sse: data must be a string (JSON.stringify objects)");
  for (const line of e.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}
