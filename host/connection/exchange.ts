/**
 * One request/response exchange on a connection: the state the request, its body reader
 * and its response writer share, and the channel the response writes through.
 * @module
 */
import type { Core, RequestContext as FramingContext, RequestHead } from "../core/index.js";
import { ClientClosedError } from "../http/http-error.js";
import type { Request, RequestContext } from "../http/request.js";
import type { ResponseChannel, ResponseWriter } from "../http/response-writer.js";
import type { HandedOver } from "../http/upgrade.js";
import type { ResponseWritten } from "../http/response-written.js";
import type { BodyReader, ByteSupply } from "./body-reader.js";
import { httpDate } from "./date.js";
import { publishResponseFinish, publishResponseHead } from "./diagnostics.js";

/** What an exchange needs from its connection (one object per connection, not per request). */
export interface ConnectionPort {
  readonly core: Core;
  readonly shuttingDown: boolean;
  /** Received bytes not yet consumed (after the current head, or body once it is complete). */
  readonly buffered: boolean;
  /** Most unread body bytes skipped after a response to keep the connection. */
  readonly maxDrainBytes: number;
  /** The cap for `bytes()`, `text()` and `json()`. */
  readonly maxBodyBytes: number;
  readonly remoteAddress: string | undefined;
  /** Whether the transport is TLS. */
  readonly encrypted: boolean;
  /** Whether the write deadline sees a write's progress (the transport counts its unsent bytes). */
  readonly seesWriteProgress: boolean;
  /** Whether a peer is a trusted proxy (the `trustProxy` option); undefined when none is. */
  readonly trustProxy: ((address: string) => boolean) | undefined;
  /** The client is gone. */
  readonly gone: boolean;
  /** The client is gone, or has finished sending (half-closed its side). */
  readonly finished: boolean;
  takeBuffered(): Buffer;
  putBack(bytes: Buffer): void;
  nextBodyChunk(ex: Exchange): Promise<Buffer | null>;
  sendContinue(ex: Exchange): void;
  write(ex: Exchange, chunks: readonly Uint8Array[], last: boolean): Promise<void>;
  writeLast(ex: Exchange, chunks: readonly Uint8Array[], done: (error: Error | undefined) => void): void;
  /** The response is over: report it (onResponse). */
  responded(ex: Exchange, written: ResponseWritten): void;
  /** Whether `ex` may take the connection over: the client's Upgrade offer, or why not. */
  upgradable(ex: Exchange): { offered: string; tunnel: boolean } | { refused: Error };
  /** Writes `head` (a framed 101) and hands the connection's stream over. */
  takeOver(ex: Exchange, head: Uint8Array): Promise<HandedOver>;
}

export class Exchange implements ResponseChannel, ByteSupply, RequestContext {
  readonly #port: ConnectionPort;
  /** The connection's core (it doesn't change while an exchange runs). */
  readonly core: Core;
  /** Undefined for the error response to a head that couldn't be read. */
  readonly head: RequestHead | undefined;
  req: Request | undefined;
  /** The response being written on this exchange (the handler's, or the library's error response); for diagnostics. */
  res: ResponseWriter | undefined;
  body: BodyReader | undefined;
  readonly startedAt: number;
  /** When the request's first byte arrived (`performance.now()`). */
  requestStart: number;
  /** The connection can't be reused after this exchange. */
  mustClose: boolean;
  continueSent = false;
  responseStarted = false;
  written: ResponseWritten | undefined;
  /** The response's last bytes were handed to the transport (or it failed). */
  handedOff = false;
  /** Called once when that happens. */
  onHandedOff: (() => void) | undefined;
  /** Bytes of the response the transport confirmed. */
  flushed = 0;
  abort: AbortController | undefined;
  /** Set when the connection gave up on the handler (its deadline): nothing more of its response may be written. */
  cancelled: Error | undefined;
  #finished: AbortController | undefined;
  /** The response's first bytes (its head) were written: `tophat.server.response.head` went out. */
  #headOut = false;

  constructor(port: ConnectionPort, head: RequestHead | undefined, startedAt: number) {
    this.#port = port;
    this.core = port.core;
    this.head = head;
    this.startedAt = startedAt;
    this.requestStart = startedAt;
    this.mustClose = head === undefined || !head.keepAlive;
  }

  /** Marks the response as handed off (once) and wakes whoever waits for that. */
  handOff(): void {
    if (this.handedOff) return;
    this.handedOff = true;
    const callback = this.onHandedOff;
    this.onHandedOff = undefined;
    callback?.();
  }

  // ---- RequestContext (for the request) -------------------------------------------------

  get remoteAddress(): string | undefined {
    return this.#port.remoteAddress;
  }

  get encrypted(): boolean {
    return this.#port.encrypted;
  }

  get seesWriteProgress(): boolean {
    return this.#port.seesWriteProgress;
  }

  get trustProxy(): ((address: string) => boolean) | undefined {
    return this.#port.trustProxy;
  }

  get maxBodyBytes(): number {
    return this.#port.maxBodyBytes;
  }

  /** The signal that fires when the client goes away or the handler's time runs out, made on first use. */
  signal(): AbortSignal {
    if (!this.abort) {
      this.abort = new AbortController();
      if (this.cancelled) this.abort.abort(this.cancelled);
      else if (this.#port.gone) this.abort.abort(new ClientClosedError("before the response was complete"));
    }
    return this.abort.signal;
  }

  /** The connection gave up on the handler: its signal aborts and its writes fail with `reason`. */
  cancel(reason: Error): void {
    this.cancelled ??= reason;
    this.abort?.abort(reason);
  }

  /** The connection saw the client finish sending, or leave. */
  peerFinished(): void {
    this.#finished?.abort();
  }

  // ---- ResponseChannel -----------------------------------------------------------------

  peerFinishedSignal(): AbortSignal {
    if (!this.#finished) {
      this.#finished = new AbortController();
      if (this.#port.finished) this.#finished.abort();
    }
    return this.#finished.signal;
  }

  framingContext(): FramingContext {
    this.responseStarted = true;
    const body = this.body;
    if (body !== undefined && !body.complete) {
      // A body that can't be skipped to its end makes the connection unusable: a broken
      // one, one the client still waits to send (no 100 Continue yet), or one longer than
      // what the connection is willing to drain.
      const left = body.unreadDeclared;
      if (body.failed || (this.head?.expectContinue && !this.continueSent) || (left !== undefined && left > this.#port.maxDrainBytes)) {
        this.mustClose = true;
      }
    }
    // Shutting down: this response closes the connection unless another request was
    // already read behind it (then the last one read closes it: none is read and dropped).
    if (this.#port.shuttingDown && !(body?.complete === true && this.#port.buffered)) this.mustClose = true;
    return {
      head: this.req?.method === "HEAD",
      http10: this.head?.version === "http10",
      close: this.mustClose,
      connect: this.isConnect,
    };
  }

  /** The request is CONNECT (a 2xx to it is a tunnel, opened only by a take-over). */
  get isConnect(): boolean {
    return this.req?.method === "CONNECT";
  }

  date(): string {
    return httpDate();
  }

  closeAfter(): void {
    this.mustClose = true;
  }

  write(chunks: readonly Uint8Array[], last: boolean): Promise<void> {
    if (this.cancelled) return Promise.reject(this.cancelled);
    if (!this.#headOut) this.#headWritten();
    return this.#port.write(this, chunks, last);
  }

  writeLast(chunks: readonly Uint8Array[], done: (error: Error | undefined) => void): void {
    if (this.cancelled) return done(this.cancelled);
    if (!this.#headOut) this.#headWritten();
    this.#port.writeLast(this, chunks, done);
  }

  /** The first write of a response carries its head (the writer frames the head with, or before, any body). */
  #headWritten(): void {
    this.#headOut = true;
    publishResponseHead(this.req, this.res);
  }

  flushedBytes(): number {
    return this.flushed;
  }

  finished(written: ResponseWritten, mustClose: boolean): void {
    this.written = written;
    if (mustClose) this.mustClose = true;
    this.handOff();
    this.#port.responded(this, written);
    publishResponseFinish(this.req, this.res, written);
  }

  upgradable(): { offered: string; tunnel: boolean } | { refused: Error } {
    return this.#port.upgradable(this);
  }

  takeOver(head: Uint8Array): Promise<HandedOver> {
    this.#headWritten();
    return this.#port.takeOver(this, head);
  }

  // ---- ByteSupply (for the body reader) -----------------------------------------------

  takeBuffered(): Buffer {
    return this.#port.takeBuffered();
  }

  putBack(bytes: Buffer): void {
    this.#port.putBack(bytes);
  }

  next(): Promise<Buffer | null> {
    return this.#port.nextBodyChunk(this);
  }

  beforeFirstRead(): void {
    this.#port.sendContinue(this);
  }
}
