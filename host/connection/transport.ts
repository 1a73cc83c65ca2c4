/**
 * Transports: the one interface the connection loop reads from and writes to, over a
 * Node `stream.Duplex` (net.Socket, tls.TLSSocket, any duplex) or a Web Streams pair.
 * @module
 */
import net from "node:net";
import { Duplex } from "node:stream";

/** Receives what a transport reads. */
export interface TransportSink {
  data(chunk: Buffer): void;
  /** The peer finished sending (EOF). */
  end(): void;
  /** The transport is gone (after an error, a reset or our own close). */
  close(error?: Error): void;
}

/** Called once the bytes of a write were handed off (flushed), or failed. */
export type Flushed = (error?: Error | null) => void;

/** A byte stream the connection serves. */
export interface Transport {
  readonly remoteAddress: string | undefined;
  /** Starts reading into `sink`; called once. */
  start(sink: TransportSink): void;
  /** Stops reading until `resume` (the peer then feels backpressure). */
  pause(): void;
  resume(): void;
  /** Holds writes back until `uncork`, so several responses leave in one system call. */
  cork(): void;
  uncork(): void;
  /** Writes `chunks` in order; false when the caller should wait for `drained()`. */
  write(chunks: readonly Uint8Array[], flushed?: Flushed): boolean;
  /** Whether written bytes wait beyond the transport's buffer size (wait for `drained()`). */
  readonly needsDrain: boolean;
  /** Resolves when writes may continue (or the transport is gone). */
  drained(): Promise<void>;
  /** Ends the stream after pending writes. */
  end(): void;
  /** Tears the stream down now. */
  destroy(error?: Error): void;
  /** Tears the stream down so the peer sees an error (a TCP reset), not an orderly end. */
  reset(): void;
  readonly destroyed: boolean;
}

/** A Web Streams byte pair, as `accept()` takes it. */
export interface WebStreamPair {
  /** The bytes from the client. Its end is the client's half-close; an error closes the connection. */
  readable: ReadableStream<Uint8Array>;
  /** Where the response bytes go; the library closes it once done writing (or aborts it when the connection fails). */
  writable: WritableStream<Uint8Array>;
  /** The client's address, reported as `req.remoteAddress` (a Web Streams pair has none of its own). Default undefined. */
  remoteAddress?: string;
}

/** What `accept()` serves: any Node duplex stream or a Web Streams pair. */
export type Connectable = Duplex | WebStreamPair;

export function toTransport(conn: Connectable): Transport {
  if (conn instanceof Duplex) return new DuplexTransport(conn);
  if (conn && conn.readable instanceof ReadableStream && conn.writable instanceof WritableStream) {
    return new WebStreamTransport(conn);
  }
  throw new TypeError("accept(): expected a stream.Duplex (net.Socket, tls.TLSSocket, …) or { readable: ReadableStream, writable: WritableStream }");
}

class DuplexTransport implements Transport {
  readonly #stream: Duplex;
  #drainWaiters: (() => void)[] = [];

  constructor(stream: Duplex) {
    this.#stream = stream;
  }

  get remoteAddress(): string | undefined {
    const s = this.#stream as Duplex & { remoteAddress?: string };
    return s.remoteAddress;
  }

  get destroyed(): boolean {
    return this.#stream.destroyed;
  }

  start(sink: TransportSink): void {
    const s = this.#stream;
    let closed = false;
    const close = (error?: Error): void => {
      if (closed) return;
      closed = true;
      this.#wakeDrainWaiters();
      sink.close(error);
    };
    s.on("data", (chunk: Buffer | string) => sink.data(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
    s.on("end", () => sink.end());
    s.on("drain", () => this.#wakeDrainWaiters());
    s.on("error", (error: Error) => close(error));
    s.on("close", () => close());
  }

  #wakeDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  cork(): void {
    this.#stream.cork();
  }

  uncork(): void {
    this.#stream.uncork();
  }

  write(chunks: readonly Uint8Array[], flushed?: Flushed): boolean {
    const s = this.#stream;
    if (s.destroyed || s.writableEnded) {
      flushed?.(new Error("the connection is closed"));
      return false;
    }
    if (chunks.length === 1) return s.write(chunks[0]!, flushed);
    s.cork();
    let ok = true;
    for (let i = 0; i < chunks.length; i++) ok = s.write(chunks[i]!, i === chunks.length - 1 ? flushed : undefined);
    s.uncork();
    return ok;
  }

  get needsDrain(): boolean {
    return this.#stream.writableNeedDrain;
  }

  drained(): Promise<void> {
    const s = this.#stream;
    if (s.destroyed || !s.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  end(): void {
    if (!this.#stream.writableEnded) this.#stream.end();
  }

  destroy(error?: Error): void {
    this.#stream.destroy(error);
  }

  reset(): void {
    const s = this.#stream;
    if (s instanceof net.Socket && !s.destroyed) s.resetAndDestroy();
    else s.destroy(new Error("the connection was reset"));
  }
}

class WebStreamTransport implements Transport {
  readonly remoteAddress: string | undefined;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #sink: TransportSink | undefined;
  #paused = false;
  #reading = false;
  #destroyed = false;
  #ended = false;
  /** The peer finished sending. */
  #readDone = false;
  /** Our side finished writing. */
  #writeDone = false;

  constructor(pair: WebStreamPair) {
    this.remoteAddress = pair.remoteAddress;
    this.#reader = pair.readable.getReader();
    this.#writer = pair.writable.getWriter();
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    this.#writer.closed.then(
      () => undefined,
      (error: unknown) => this.#close(error instanceof Error ? error : new Error(String(error))),
    );
    void this.#pump();
  }

  #close(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#sink?.close(error);
  }

  /** Closed once both directions are done (the connection's linger timer cuts a peer that never finishes). */
  #closeWhenBothDone(): void {
    if (this.#readDone && this.#writeDone) this.#close();
  }

  async #pump(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      while (!this.#paused && !this.#destroyed) {
        const { value, done } = await this.#reader.read();
        if (done) {
          this.#readDone = true;
          this.#sink?.end();
          this.#closeWhenBothDone();
          return;
        }
        this.#sink?.data(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    } catch (error) {
      this.#close(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#reading = false;
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    void this.#pump();
  }

  cork(): void {
    // A WritableStream has no corking; writes go as they come.
  }

  uncork(): void {
    // See cork().
  }

  write(chunks: readonly Uint8Array[], flushed?: Flushed): boolean {
    if (this.#destroyed || this.#ended) {
      flushed?.(new Error("the connection is closed"));
      return false;
    }
    let last: Promise<void> | undefined;
    for (const c of chunks) last = this.#writer.write(c);
    if (last) {
      last.then(
        () => flushed?.(null),
        (error: unknown) => flushed?.(error instanceof Error ? error : new Error(String(error))),
      );
    }
    const size = this.#writer.desiredSize;
    return size === null || size > 0;
  }

  get needsDrain(): boolean {
    const size = this.#writer.desiredSize;
    return size !== null && size <= 0;
  }

  async drained(): Promise<void> {
    if (this.#destroyed) return;
    try {
      await this.#writer.ready;
    } catch {
      // The writer failed: `closed` reports it to the sink; the caller sees `destroyed`.
    }
  }

  end(): void {
    if (this.#ended || this.#destroyed) return;
    this.#ended = true;
    // Keep reading (the connection discards it) so the peer isn't reset before it has
    // read our last response.
    this.#writer.close().then(
      () => {
        this.#writeDone = true;
        this.#closeWhenBothDone();
      },
      (error: unknown) => this.#close(error instanceof Error ? error : new Error(String(error))),
    );
  }

  destroy(error?: Error): void {
    if (this.#destroyed) return;
    // abort() and cancel() reject with the reason we give them; nothing more to learn there.
    this.#writer.abort(error).catch(() => undefined);
    this.#reader.cancel(error).catch(() => undefined);
    this.#close(error);
  }

  reset(): void {
    this.destroy(new Error("the connection was reset"));
  }
}
