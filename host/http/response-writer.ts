/**
 * ResponseWriter: how a handler answers. Nothing goes on the wire until `send()`,
 * `sendCode()` or `stream()`; each resolves to a {@link ResponseWritten} that says what
 * really happened.
 * @module
 */
import type { Core, Field, FrameError, FramedHead, FramedMessage, RequestContext as FramingContext } from "../core/index.js";
import { EditableHead, transformWhole, TransformPipeline, type BodyKind, type BodyTransformer } from "./body-transform.js";
import { ClientClosedError } from "./http-error.js";
import { mintResponseWritten, type ResponseOutcome, type ResponseWritten } from "./response-written.js";
import { SseSink, type SseOptions } from "./server-sent-events.js";
import { UpgradeError, upgradeFields, type HandedOver, type Upgraded, type UpgradeOptions } from "./upgrade.js";

/** What a response writes through: implemented by the connection. */
export interface ResponseChannel {
  readonly core: Core;
  /** When the request head was complete (`performance.now()`). */
  readonly startedAt: number;
  /** The framing context; `close` is decided when the head is framed. */
  framingContext(): FramingContext;
  /** The cached IMF-fixdate for the Date field. */
  date(): string;
  /** The framed head says the connection closes after this response. */
  closeAfter(): void;
  /**
   * Writes `chunks`. With `last`, resolves once they are flushed; otherwise once the
   * transport can take more. Rejects with `ClientClosedError` when the client is gone.
   */
  write(chunks: readonly Uint8Array[], last: boolean): Promise<void>;
  /**
   * Writes a response's last chunks; `done` is called once they are flushed, or with a
   * `ClientClosedError` when the client is gone. (A callback, not a promise: a whole
   * response then costs one promise, the one `send()` returns.)
   */
  writeLast(chunks: readonly Uint8Array[], done: (error: Error | undefined) => void): void;
  /** Bytes of this response the transport confirmed as flushed. */
  flushedBytes(): number;
  /**
   * Whether the write deadline sees a write's progress as the client reads it: a large
   * body can then go in one write without a slow client counting as a stalled one.
   */
  readonly seesWriteProgress: boolean;
  /** Set when the connection gave up on the handler: the response can no longer be sent. */
  readonly cancelled: Error | undefined;
  /** Aborts when the client goes away. */
  signal(): AbortSignal;
  /**
   * Aborts when the client goes away or finishes sending (half-closes): it will send no
   * more requests. A response that only streams to it (server-sent events) is then over.
   */
  peerFinishedSignal(): AbortSignal;
  /** The response is over (any outcome); `mustClose` when the connection can't be reused. */
  finished(written: ResponseWritten, mustClose: boolean): void;
  /** The request is CONNECT: a 2xx to it opens a tunnel, which only a take-over may do. */
  readonly isConnect: boolean;
  /** Whether the connection may be taken over now: what the client offered in Upgrade (or that CONNECT asks for a tunnel), or why not. */
  upgradable(): { offered: string; tunnel: boolean } | { refused: Error };
  /** Writes the framed 101 head, stops serving HTTP on the connection and hands its stream over. */
  takeOver(head: Uint8Array): Promise<HandedOver>;
}

/** A body a response can carry. */
export type ResponseBody = string | Uint8Array | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** A streamed response body, from {@link ResponseWriter.stream}. */
export interface BodyStream {
  /** Writes a chunk; resolves when the transport can take more (backpressure). */
  write(chunk: Uint8Array | string): Promise<void>;
  /** Ends the body (with trailer fields, when the body is chunked); resolves to what was written. */
  end(trailers?: Record<string, string>): Promise<ResponseWritten>;
  /**
   * Makes the body transforms (compression) hand over what they hold back, so the client
   * sees everything written so far (server-sent events do this after every event);
   * resolves when that went to the transport. Without transforms, nothing to do.
   */
  flush(): Promise<void>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Control bytes other than HTAB, and DEL (RFC 9110 §5.5).
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const CRLF = Buffer.from("\r\n");
const EMPTY = new Uint8Array(0);
/** Bodies up to this size are copied behind the head and written with it. */
const COALESCE_LIMIT = 16 * 1024;
/** Larger bodies are written in slices of this size. */
const WRITE_SLICE = 64 * 1024;
const utf8 = new TextEncoder();

function describeByte(s: string, i: number): string {
  const c = s.charCodeAt(i);
  const names: Record<number, string> = { 0: "NUL", 10: "LF", 13: "CR", 127: "DEL" };
  return `${names[c] ?? "a control character"} (0x${c.toString(16).padStart(2, "0")}) at index ${i}`;
}

/** Throws a TypeError naming the header when `name` or `value` can't go on the wire. */
export function checkField(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}: must be a token (RFC 9110 §5.1)`);
  const bad = BAD_VALUE.exec(value);
  if (bad) throw new TypeError(`invalid value for header "${name}": contains ${describeByte(value, bad.index)}`);
}

function isReadableStream(body: unknown): body is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== "undefined" && body instanceof ReadableStream;
}

/** Composes a response and sends it once. */
export class ResponseWriter {
  readonly #channel: ResponseChannel;
  #status = 200;
  #headers: Field[] = [];
  #body: ResponseBody | undefined;
  #started = false;
  #settling = false;
  #written: ResponseWritten | undefined;
  /** Registered body transformers; undefined (not empty) keeps the plain path free of them. */
  #transformers: BodyTransformer[] | undefined;
  /** The streamed body's transforms, once open. */
  #pipeline: TransformPipeline | undefined;
  /** `sse()` is starting the stream: its writes are events, each flushed. */
  #events = false;

  /** @internal Writers are made by the connection. */
  constructor(channel: ResponseChannel) {
    this.#channel = channel;
  }

  /** Whether a send (or stream) began: the head is fixed. */
  get sent(): boolean {
    return this.#started;
  }

  /** Whether the response is on its way to completion (`send()` or `end()` was called). */
  get settling(): boolean {
    return this.#settling;
  }

  /** How the body is framed on the wire, once the head is fixed. */
  get framing(): FramedHead["body"] | undefined {
    return this.#started ? this.#mode : undefined;
  }

  /**
   * @internal Ends a response whose body won't be completed (the handler failed or left
   * it open): reports it with outcome `error` (or the more precise one its writes already
   * earned, e.g. `length-mismatch`); the connection closes.
   */
  abandon(error: Error): void {
    if (!this.#started || this.#written) return;
    // Later writes and end() fail with this, rather than reporting the response again.
    this.#failure ??= error;
    this.#finish(this.#outcomeOf(error), error, true);
  }

  /**
   * @internal The client went away (the connection saw it reset or close). A response
   * not begun is reported now as `client-closed` with status 499 and nothing written, so
   * the report doesn't wait on a handler that may never answer; a begun one that isn't
   * over yet is reported as `client-closed` with what was written. Either way the
   * handler's later sends and writes fail with `error`. Nothing more if it was reported.
   */
  clientGone(error: ClientClosedError): void {
    if (this.#written) return;
    this.#failure ??= error;
    // 499: nginx's log code for "client closed request"; nothing went on the wire.
    if (!this.#started) this.#status = 499;
    this.#finish("client-closed", error, true);
  }

  /** The report, once the response is over. */
  get written(): ResponseWritten | undefined {
    return this.#written;
  }

  /** The status code the response has (or will be sent with): 200 until `setStatus()` or `sendCode()` changes it. */
  get status(): number {
    return this.#status;
  }

  #checkOpen(): void {
    // Reported already without a send: the client left before the handler answered.
    if (this.#written && !this.#started) throw this.#written.error ?? new Error("the response is over");
    if (this.#started) throw new Error("the response was already sent: its head can't change");
    // The connection answered without the handler (handlerTimeoutMs): say so, not "sent".
    const cancelled = this.#channel.cancelled;
    if (cancelled) throw cancelled;
  }

  /** Sets the status code (100–999). */
  setStatus(code: number): this {
    this.#checkOpen();
    if (!Number.isInteger(code) || code < 100 || code > 999) throw new RangeError(`invalid status code ${code}: must be an integer 100–999`);
    this.#status = code;
    return this;
  }

  /** Sets a header, replacing any with the same name (case-insensitive). */
  setHeader(name: string, value: string | number): this {
    this.#checkOpen();
    const v = String(value);
    checkField(name, v);
    if (this.#indexOf(name) >= 0) this.removeHeader(name);
    this.#headers.push({ name, value: v });
    return this;
  }

  /** A Content-Type of the library's own (known valid), unless the handler set one. */
  #defaultType(value: string): void {
    if (this.#indexOf("content-type") < 0) this.#headers.push({ name: "Content-Type", value });
  }

  #indexOf(name: string): number {
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i++) {
      const n = headers[i]!.name;
      if (n.length === name.length && (n === name || n.toLowerCase() === name.toLowerCase())) return i;
    }
    return -1;
  }

  /** Adds a header line, keeping existing ones with the same name (e.g. Set-Cookie). */
  appendHeader(name: string, value: string | number): this {
    this.#checkOpen();
    const v = String(value);
    checkField(name, v);
    this.#headers.push({ name, value: v });
    return this;
  }

  /** Removes every header with this name. */
  removeHeader(name: string): this {
    this.#checkOpen();
    const lower = name.toLowerCase();
    this.#headers = this.#headers.filter((f) => f.name.toLowerCase() !== lower);
    return this;
  }

  /** The first value set for `name`, if any. */
  getHeader(name: string): string | undefined {
    const i = this.#indexOf(name);
    return i < 0 ? undefined : this.#headers[i]!.value;
  }

  /** Sets the body: bytes, text (UTF-8), or a stream of chunks (sent chunked, or close-delimited to HTTP/1.0). */
  setBody(body: ResponseBody): this {
    this.#checkOpen();
    this.#body = body;
    return this;
  }

  /** A text body, `text/plain; charset=utf-8` unless a Content-Type is set. */
  setText(text: string): this {
    this.#checkOpen();
    this.#defaultType("text/plain; charset=utf-8");
    return this.setBody(text);
  }

  /** A JSON body, `application/json` unless a Content-Type is set. */
  setJson(value: unknown): this {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError("setJson: the value has no JSON form");
    this.#checkOpen();
    this.#defaultType("application/json");
    return this.setBody(text);
  }

  /**
   * Registers a body transform (compression, an ETag from the bytes…). `transformer` is
   * called once, when the head is about to be framed, with the head as it then is (status,
   * editable fields, the kind of body and its length when known); it returns `undefined`
   * to leave the body alone, or a {@link BodyTransform} that maps a whole body or the
   * chunks of a stream. Transforms run in registration order: the body the handler sets
   * goes through the first registered, then the next, and the last one's output goes on
   * the wire, so middleware that registers before calling `next` sees the bytes after the
   * transforms registered further in. `written.bodyBytes` and `bytesWritten` count the
   * wire bytes (after the transforms). Without a transform the writer works as if this
   * method did not exist.
   *
   * ```ts
   * const etag: Middleware = (next) => async (req, res) => {
   *   res.transformBody((head) => head.kind !== "whole" || head.status !== 200 ? undefined : {
   *     whole(body, head) {
   *       head.setHeader("ETag", `"${createHash("sha1").update(body).digest("base64url")}"`);
   *       return body;
   *     },
   *   });
   *   return next(req, res);
   * };
   * ```
   */
  transformBody(transformer: BodyTransformer): this {
    this.#checkOpen();
    (this.#transformers ??= []).push(transformer);
    return this;
  }

  /** The head transformers see; they edit it in place of the writer's own fields. */
  #editableHead(kind: BodyKind, length: number | undefined): EditableHead {
    // A copy: a transformer that throws halfway leaves the writer's fields as they were.
    return new EditableHead([...this.#headers], this.#status, kind, this.#channel.framingContext().head, length);
  }

  /** A whole body through the transforms, then sent as `send()` sends it. */
  async #sendTransformed(body: string | Uint8Array, transformers: BodyTransformer[]): Promise<ResponseWritten> {
    // The head is the transforms' now: the handler can't change it, nor send twice.
    this.#started = true;
    const head = this.#editableHead("whole", undefined);
    let bytes: Uint8Array;
    try {
      bytes = await transformWhole(transformers, head, typeof body === "string" ? Buffer.from(body) : body);
      this.#headers = head.fields;
      this.#status = head.status;
      if (bytes.length <= COALESCE_LIMIT) {
        const message = this.#frameMessage(bytes);
        return await this.#writeMessage(message);
      }
      const framed = this.#frame(bytes.length);
      return await this.#writeLarge(framed, bytes);
    } catch (error) {
      // Nothing was written: the connection can still answer (a 500) if the handler rethrows.
      if (this.#written === undefined && this.#headBytes === 0) this.#started = false;
      return this.#fail(error);
    }
  }

  /** Sets the status and sends (with the body set so far, if any). */
  sendCode(code: number): Promise<ResponseWritten> {
    return this.setStatus(code).send();
  }

  #frame(bodyLength: number | undefined): FramedHead {
    const framed = this.#channel.core.frameHead(
      { status: this.#status, headers: this.#headers, bodyLength },
      this.#channel.framingContext(),
      this.#status >= 200 ? this.#channel.date() : undefined,
    );
    return this.#framedOrThrow(framed);
  }

  /** The head framed with `body` behind it: what a whole, small response writes. */
  #frameMessage(body: string | Uint8Array): FramedMessage {
    const message = this.#channel.core.frameMessage(
      { status: this.#status, headers: this.#headers },
      this.#channel.framingContext(),
      this.#status >= 200 ? this.#channel.date() : undefined,
      body,
    );
    return this.#framedOrThrow(message);
  }

  /** The framed head (or message); a frame error throws, naming the header. */
  #framedOrThrow<T extends FramedHead | FramedMessage>(outcome: { tag: "head" | "message"; val: T } | { tag: "invalid"; val: FrameError }): T {
    if (outcome.tag === "invalid") {
      const { reason, headerIndex } = outcome.val;
      const field = headerIndex === undefined ? "" : ` (header "${this.#headers[headerIndex]?.name}")`;
      throw new TypeError(`the response can't be framed: ${reason}${field}`);
    }
    if (outcome.val.close) this.#channel.closeAfter();
    return outcome.val;
  }

  /** A 1xx status announces another response; it can't be the one a handler sends. */
  #checkFinal(): void {
    if (this.#status === 101) {
      throw new RangeError("status 101 (Switching Protocols) can't be sent with send(): take the connection over with `await res.upgrade({ headers })`, which writes the 101 and hands you the connection");
    }
    if (this.#status < 200) {
      throw new RangeError(`status ${this.#status} is interim (1xx): a handler's response needs a final status (200–999)`);
    }
    if (this.#status < 300 && this.#channel.isConnect) {
      throw new RangeError(`a ${this.#status} to CONNECT opens a tunnel (RFC 9110 §9.3.6), which send() can't: accept it with \`await res.upgrade({ status: ${this.#status} })\`, or refuse it with a 4xx/5xx`);
    }
  }

  /** Sends the response; resolves to what was written. A second send rejects. */
  send(): Promise<ResponseWritten> {
    // Not `async`: a whole body then costs one promise less and two fewer microtask turns
    // per response, which pipelined requests feel. Errors still arrive as rejections.
    try {
      this.#checkOpen();
      this.#checkFinal();
      this.#settling = true;
      const body = this.#body;
      const transformers = this.#transformers;
      if (transformers !== undefined && (body === undefined || typeof body === "string" || body instanceof Uint8Array)) {
        return this.#sendTransformed(body ?? EMPTY, transformers);
      }
      if (body === undefined || ((typeof body === "string" || body instanceof Uint8Array) && body.length <= COALESCE_LIMIT)) {
        const message = this.#frameMessage(body ?? EMPTY);
        this.#started = true;
        return this.#writeMessage(message);
      }
      if (typeof body === "string" || body instanceof Uint8Array) {
        const bytes = typeof body === "string" ? Buffer.from(body) : body;
        const framed = this.#frame(bytes.length);
        this.#started = true;
        return this.#writeLarge(framed, bytes);
      }
      return this.#sendStreamed(body);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Takes the connection over (RFC 9110 §7.8): writes a 101 (Switching Protocols) head
   * framed by the core, with the headers set so far and `options.headers`, stops serving
   * HTTP on the connection, and resolves with the raw stream and the bytes already read
   * past the request head. Return `written` from the handler.
   *
   * Rejects with an {@link UpgradeError} (nothing written, the connection goes on) unless
   * the request asked to upgrade (`Upgrade` with `Connection: upgrade`, HTTP/1.1), its body
   * was read, nothing was sent yet, and the 101's `Upgrade` names a protocol the client
   * offered; with a 503 Glitch while the server is closing. A handler that doesn't call it
   * declines the upgrade: its response is an ordinary one and the connection goes on.
   *
   * ```ts
   * const up = await res.upgrade({ headers: { Upgrade: "my-protocol" } });
   * if (up.kind === "duplex") up.socket.pipe(up.socket);   // after up.head, echo
   * return up.written;
   * ```
   */
  upgrade(options: UpgradeOptions = {}): Promise<Upgraded> {
    // A refused take-over leaves the writer as it was, for the ordinary response instead.
    const saved = [...this.#headers];
    try {
      this.#checkOpen();
      const allowed = this.#channel.upgradable();
      if ("refused" in allowed) throw allowed.refused;
      const status = options.status ?? (allowed.tunnel ? 200 : 101);
      if (allowed.tunnel ? status < 200 || status > 299 : status !== 101) {
        throw new UpgradeError(allowed.tunnel ? `a CONNECT tunnel opens with a 2xx status, not ${status}` : `an upgrade answers 101 (Switching Protocols), not ${status}`);
      }
      for (const [name, value] of Object.entries(options.headers ?? {})) this.setHeader(name, value);
      // A tunnel's 2xx carries no framing fields; a 101 names the protocol switched to.
      const fields = allowed.tunnel ? this.#headers : upgradeFields(this.#headers, allowed.offered);
      // (Fields keep their indices: a frame error names the header the handler set.)
      const framed = this.#framedOrThrow(
        allowed.tunnel
          ? this.#channel.core.frameHead({ status, headers: fields }, { head: false, http10: false, close: false, connect: true }, this.#channel.date())
          : this.#channel.core.frameHead({ status: 101, headers: fields, bodyLength: 0 }, { head: false, http10: false, close: false }, undefined),
      );
      this.#status = status;
      this.#started = true;
      this.#settling = true;
      this.#headBytes = framed.bytes.length;
      this.#firstByteAt = performance.now();
      return this.#channel.takeOver(framed.bytes).then(
        (handed): Upgraded => ({ ...handed, written: this.#finish("complete", undefined, true) }),
        (error: unknown) => {
          this.#fail(error);
          throw error;
        },
      );
    } catch (error) {
      if (!this.#started) this.#headers = saved;
      return Promise.reject(error);
    }
  }

  async #sendStreamed(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): Promise<ResponseWritten> {
    const stream = this.stream();
    let sourceFailed = true;
    try {
      if (this.#mode === "none") {
        await discardBody(body);
      } else {
        const iterable: AsyncIterable<Uint8Array> = isReadableStream(body) ? readableToIterable(body) : body;
        // Tells the source's failures (body-failed) from the writes' (whose own are recorded).
        sourceFailed = true;
        for await (const chunk of iterable) {
          sourceFailed = false;
          await stream.write(chunk);
          sourceFailed = true;
        }
      }
    } catch (error) {
      if (sourceFailed) this.#failAs ??= "body-failed";
      await this.#settleWrites();
      return this.#fail(error);
    }
    return stream.end();
  }

  // ---- streaming state -----------------------------------------------------------------
  #mode: FramedHead["body"] = "none";
  #framed: FramedHead | undefined;
  #headBytes = 0;
  #bodyBytes = 0;
  #firstByteAt = 0;
  #declaredLeft = 0;
  /** The last streamed write: each waits for the one before. */
  #queue: Promise<void> | undefined;
  #failure: Error | undefined;
  /** The outcome a failure after the head earns when it is more precise than `error`. */
  #failAs: "body-failed" | "length-mismatch" | undefined;

  /**
   * Sends the head now and returns a stream for the body. The body is chunked for
   * HTTP/1.1 clients (close-delimited for HTTP/1.0), or exactly the Content-Length you set.
   */
  stream(): BodyStream {
    this.#checkOpen();
    this.#checkFinal();
    const pipeline = this.#transformers === undefined ? undefined : this.#openPipeline();
    const framed = this.#frame(undefined);
    this.#started = true;
    this.#framed = framed;
    this.#mode = framed.body;
    this.#declaredLeft = framed.contentLength;
    this.#headBytes = framed.bytes.length;
    this.#firstByteAt = performance.now();
    this.#enqueue([framed.bytes], false);
    let ended = false;
    return {
      write: (chunk) => {
        if (ended) return Promise.reject(new Error("write() after end()"));
        const bytes = typeof chunk === "string" ? utf8.encode(chunk) : chunk;
        return pipeline === undefined ? this.#writeChunk(bytes) : pipeline.write(bytes);
      },
      end: (trailers) => {
        if (ended) return Promise.reject(new Error("end() was already called"));
        ended = true;
        this.#settling = true;
        if (pipeline === undefined) return this.#end(trailers);
        // A transform that fails at the end fails the response, as a failed write does.
        return pipeline.end().then(
          () => this.#end(trailers),
          (error: unknown) => {
            this.#failure ??= error instanceof Error ? error : new Error(String(error));
            return this.#end(trailers);
          },
        );
      },
      flush: () => {
        if (ended) return Promise.reject(new Error("flush() after end()"));
        return pipeline === undefined ? Promise.resolve() : pipeline.flush();
      },
    };
  }

  /** Opens the streamed body's transforms (before the head is framed: they may edit it). */
  #openPipeline(): TransformPipeline | undefined {
    const declared = this.getHeader("content-length");
    const length = declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : undefined;
    const head = this.#editableHead(this.#events ? "events" : "stream", length);
    // On a throw the writer keeps its own fields: nothing was framed.
    const pipeline = TransformPipeline.open(this.#transformers ?? [], head, (chunk) => this.#writeChunk(chunk));
    this.#headers = head.fields;
    this.#status = head.status;
    this.#pipeline = pipeline;
    return pipeline;
  }

  /**
   * Starts a server-sent-events stream: status 200 (unless set), `Content-Type:
   * text/event-stream`, `Cache-Control: no-cache`, the head sent now (so the browser's
   * `open` fires), and a sink for events. The client's `Last-Event-ID` (when it reconnects)
   * is `req.headers.get("last-event-id")`.
   *
   * ```ts
   * const events = res.sse();
   * for (const update of updates) await events.send({ event: "update", id: update.id, data: JSON.stringify(update) });
   * return events.close();
   * ```
   */
  sse(options: SseOptions = {}): SseSink {
    this.setHeader("Content-Type", "text/event-stream; charset=utf-8").setHeader("Cache-Control", "no-cache");
    this.#events = true;
    return new SseSink(this.stream(), this.#channel.signal(), this.#channel.peerFinishedSignal(), options);
  }

  #enqueue(chunks: readonly Uint8Array[], last: boolean): Promise<void> {
    const next = (this.#queue ?? Promise.resolve()).then(() => {
      if (this.#failure) throw this.#failure;
      return this.#channel.write(chunks, last);
    });
    this.#queue = next.catch((error: unknown) => {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
    });
    return next;
  }

  #writeChunk(chunk: Uint8Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (chunk.length === 0) return Promise.resolve();
    switch (this.#mode) {
      case "none":
        return Promise.resolve();
      case "chunked": {
        const size = this.#channel.core.chunkSizeLine(chunk.length);
        this.#bodyBytes += size.length + chunk.length + 2;
        return this.#enqueue([size, chunk, CRLF], false);
      }
      case "content-length":
        if (chunk.length > this.#declaredLeft) {
          const error = new Error(`the body is longer than the Content-Length of ${this.#framed?.contentLength}`);
          this.#failure ??= error;
          this.#failAs ??= "length-mismatch";
          return Promise.reject(error);
        }
        this.#declaredLeft -= chunk.length;
        this.#bodyBytes += chunk.length;
        return this.#enqueue([chunk], false);
      case "close-delimited":
        this.#bodyBytes += chunk.length;
        return this.#enqueue([chunk], false);
    }
  }

  async #end(trailers: Record<string, string> | undefined): Promise<ResponseWritten> {
    // A write already failed (the client left, or the body overran its Content-Length):
    // that failure is the outcome, not the body's shortfall it caused.
    if (this.#failure) return this.#fail(this.#failure);
    let tail: Uint8Array[] = [];
    if (this.#mode === "chunked") {
      const fields = Object.entries(trailers ?? {}).map(([name, value]) => ({ name, value }));
      let last;
      try {
        for (const f of fields) checkField(f.name, f.value);
        last = this.#channel.core.lastChunk(fields);
        if (last.tag === "invalid") {
          const name = last.val.headerIndex === undefined ? "" : ` "${fields[last.val.headerIndex]?.name}"`;
          throw new TypeError(`invalid trailer${name}: ${last.val.reason}`);
        }
      } catch (error) {
        // The body can't be ended properly: report it, close the connection, and tell the caller.
        this.#fail(error);
        throw error;
      }
      tail = [last.val];
      this.#bodyBytes += last.val.length;
    } else if (this.#mode === "content-length" && this.#declaredLeft > 0) {
      this.#failAs ??= "length-mismatch";
      await this.#settleWrites();
      return this.#fail(new Error(`the body ended ${this.#declaredLeft} bytes short of its Content-Length`));
    }
    try {
      await this.#enqueue(tail, true);
      await this.#queue;
      if (this.#failure) throw this.#failure;
    } catch (error) {
      return this.#fail(error);
    }
    return this.#finish("complete", undefined, this.#mode === "close-delimited");
  }

  /**
   * After a failure mid-body: waits until what was handed to the transport is flushed, so
   * the report's `bytesWritten` is what the client got. The connection is marked to close
   * first, since waiting for the flush hands the response off.
   */
  async #settleWrites(): Promise<void> {
    await this.#queue;
    if (this.#failure) return;
    this.#channel.closeAfter();
    // If the client left meanwhile, the failure that came first stays the outcome, and
    // bytesWritten already counts only what the transport confirmed: nothing to add.
    await this.#channel.write([], true).catch(() => undefined);
  }

  /** Writes a whole response framed with its body: one buffer, one write. */
  #writeMessage(message: FramedMessage): Promise<ResponseWritten> {
    return this.#writeWhole([message.bytes], message.body, message.headLength, message.bytes.length - message.headLength);
  }

  /** A response whose head and body are known goes out now: what it will have written. */
  #beginWhole(mode: FramedHead["body"], headBytes: number, bodyBytes: number): void {
    this.#mode = mode;
    this.#headBytes = headBytes;
    this.#bodyBytes = bodyBytes;
    this.#firstByteAt = performance.now();
  }

  /** Writes a whole response in one write: `chunks` hold its head and body. */
  #writeWhole(chunks: Uint8Array[], mode: FramedHead["body"], headBytes: number, bodyBytes: number): Promise<ResponseWritten> {
    this.#beginWhole(mode, headBytes, bodyBytes);
    return new Promise((resolve, reject) =>
      this.#channel.writeLast(chunks, (error) => {
        // Finishing runs onResponse (and the logger, if that throws): whatever escapes
        // rejects send(), never the transport's callback.
        try {
          resolve(error ? this.#fail(error) : this.#finish("complete", undefined, false));
        } catch (failure) {
          reject(failure);
        }
      }),
    );
  }

  /** Writes a head and a large body known up front. */
  #writeLarge(framed: FramedHead, body: Uint8Array): Promise<ResponseWritten> {
    if (framed.body === "none") return this.#writeWhole([framed.bytes], "none", framed.bytes.length, 0);
    // Head and body in one writev, as the kernel takes them (a 1 MiB body in 64 KiB slices
    // cost 17 write calls and twice node:http's CPU), where the deadline sees progress.
    if (this.#channel.seesWriteProgress) return this.#writeWhole([framed.bytes, body], framed.body, framed.bytes.length, body.length);
    this.#beginWhole(framed.body, framed.bytes.length, body.length);
    return this.#writeSliced(framed, body).then(
      () => this.#finish("complete", undefined, false),
      (error: unknown) => this.#fail(error),
    );
  }

  /**
   * Where the transport can't show a write's progress (TLS, Web Streams), a large body
   * goes in slices, each after the client took the last: the write timeout then measures
   * a stalled client, not a slow one.
   */
  async #writeSliced(framed: FramedHead, body: Uint8Array): Promise<void> {
    await this.#channel.write([framed.bytes], false);
    let at = 0;
    for (; body.length - at > WRITE_SLICE; at += WRITE_SLICE) {
      await this.#channel.write([body.subarray(at, at + WRITE_SLICE)], false);
    }
    await this.#channel.write([body.subarray(at)], true);
  }

  #fail(error: unknown): ResponseWritten {
    const e = error instanceof Error ? error : new Error(String(error));
    if (!this.#started) {
      this.#settling = false;
      throw e;
    }
    // The client left and that was reported: the send resolves with that report.
    if (this.#written?.outcome === "client-closed" && e instanceof ClientClosedError) return this.#written;
    // Already reported (abandoned by the connection): the caller learns why, once.
    if (this.#written) throw e;
    return this.#finish(this.#outcomeOf(e), e, true);
  }

  /** The outcome a failure after the head earns: the client leaving first trumps the rest. */
  #outcomeOf(error: Error): ResponseOutcome {
    if (error instanceof ClientClosedError || this.#failure instanceof ClientClosedError) return "client-closed";
    return this.#failAs ?? "error";
  }

  #finish(outcome: ResponseOutcome, error: Error | undefined, mustClose: boolean): ResponseWritten {
    const channel = this.#channel;
    const now = performance.now();
    const written = mintResponseWritten({
      status: this.#status,
      headBytes: this.#headBytes,
      bodyBytes: this.#bodyBytes,
      bytesWritten: channel.flushedBytes(),
      startedAt: performance.timeOrigin + channel.startedAt,
      firstByteMs: Math.max(0, this.#firstByteAt - channel.startedAt),
      lastByteMs: Math.max(0, now - channel.startedAt),
      outcome,
      error,
    });
    this.#written = written;
    // A response that failed: the transforms release what they hold (zlib's memory).
    if (outcome !== "complete") this.#pipeline?.abort(error ?? new Error(`the response ended with outcome ${outcome}`));
    // A head that closes the connection already told the channel (closeAfter, when framed).
    channel.finished(written, mustClose || outcome !== "complete");
    return written;
  }
}

function readableToIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const reader = stream.getReader();
      try {
        for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
      } finally {
        reader.releaseLock();
      }
    },
  };
}

/**
 * Lets a body source know it won't be read (HEAD): cancels a ReadableStream, destroys a
 * Node stream (so a file descriptor closes now, not at garbage collection), or ends an
 * iterator. (An async generator that never started ignores `return()`.)
 */
async function discardBody(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): Promise<void> {
  if (isReadableStream(body)) {
    await body.cancel();
    return;
  }
  const destroyable = body as { destroy?: unknown };
  if (typeof destroyable.destroy === "function") {
    (destroyable.destroy as () => void).call(body);
    return;
  }
  const iterator = body[Symbol.asyncIterator]();
  if (iterator.return) await iterator.return();
}
