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
  /** Whether the bytes travel over TLS (`req.protocol` is then `https`). */
  readonly encrypted: boolean;
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
  /**
   * Bytes handed to `write()` that the operating system hasn't taken yet, when the
   * transport can tell as they leave (a plain TCP socket); undefined when it can't. The
   * write deadline uses it to tell a slow client (the count falls) from one that stopped
   * reading, so a large body can go in one write.
   */
  readonly unsentBytes: number | undefined;
  /** Resolves when writes may continue (or the transport is gone). */
  drained(): Promise<void>;
  /**
   * Ends the stream after pending writes; `flushed` runs once they and the end went out
   * (not if the stream fails first).
   */
  end(flushed?: () => void): void;
  /** Tears the stream down now. */
  destroy(error?: Error): void;
  /** Tears the stream down so the peer sees an error (a TCP reset), not an orderly end. */
  reset(): void;
  readonly destroyed: boolean;
  /**
   * Stops reading into the sink (the connection was taken over) and gives the stream to a
   * new owner; writing and `destroy()` still work. Called once, after `start()`.
   */
  detach(): Detached;
}

/**
 * A transport's stream after `detach()`; `closed` settles once it is gone, with the error
 * that ended it, if one did (recorded, so an unhandled one doesn't crash the process).
 */
export type Detached =
  | { kind: "duplex"; socket: Duplex; closed: Promise<Error | undefined> }
  | { kind: "streams"; readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array>; closed: Promise<Error | undefined> };

/** A Web Streams byte pair, as `accept()` takes it. */
export interface WebStreamPair {
  /** The bytes from the client. Its end is the client's half-close; an error closes the connection. */
  readable: ReadableStream<Uint8Array>;
  /** Where the response bytes go; the library closes it once done writing (or aborts it when the connection fails). */
  writable: WritableStream<Uint8Array>;
  /** The client's address, reported as `req.remoteAddress` (a Web Streams pair has none of its own). Default undefined. */
  remoteAddress?: string;
  /** Whether the pair carries TLS (decrypted by its owner): `req.protocol` is then `https`. Default false. */
  encrypted?: boolean;
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

/** Where a stream served by a DuplexTransport keeps it, for the shared listeners below. */
const kTransport = Symbol("tophat.transport");
type Served = Duplex & { [kTransport]?: DuplexTransport };

// The stream's listeners: shared by every connection (they find theirs through the
// stream), so an idle connection holds no closures for them.
function onData(this: Served, chunk: Buffer | string): void {
  this[kTransport]?.sink?.data(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
}
function onEnd(this: Served): void {
  this[kTransport]?.sink?.end();
}
function onDrain(this: Served): void {
  this[kTransport]?.wakeDrainWaiters();
}
function onError(this: Served, error: Error): void {
  this[kTransport]?.closed(error);
}
function onClose(this: Served): void {
  this[kTransport]?.closed();
}
const LISTENERS = [
  ["data", onData],
  ["end", onEnd],
  ["drain", onDrain],
  ["error", onError],
  ["close", onClose],
] as const;

/** The failure of a write that a destroy of `stream` cancelled: why it was destroyed, when it says. */
function cancelled(stream: Duplex): Error {
  return stream.errored ?? new Error("the connection was closed before the write finished");
}

class DuplexTransport implements Transport {
  readonly #stream: Served;
  /** Who waits for `drain` (made when one does). */
  #drainWaiters: (() => void)[] | undefined;
  /** @internal Where what is read goes (undefined before start() and after detach()). */
  sink: TransportSink | undefined;
  #closed = false;

  constructor(stream: Duplex) {
    this.#stream = stream;
  }

  get remoteAddress(): string | undefined {
    const s = this.#stream as Duplex & { remoteAddress?: string };
    return s.remoteAddress;
  }

  get encrypted(): boolean {
    // A tls.TLSSocket says so (and so may any duplex that wraps TLS).
    return (this.#stream as Duplex & { encrypted?: unknown }).encrypted === true;
  }

  get destroyed(): boolean {
    return this.#stream.destroyed;
  }

  get unsentBytes(): number | undefined {
    // libuv's count of queued bytes, which falls as the kernel takes them: what net.Socket's
    // own timeout reads to see a write progress. A TLS socket's handle counts cleartext
    // that isn't sent as it leaves, so TLS says undefined (its body goes in slices).
    if (this.encrypted) return undefined;
    const handle = (this.#stream as Duplex & { _handle?: { writeQueueSize?: unknown } | null })._handle;
    const queued = handle?.writeQueueSize;
    return typeof queued === "number" ? queued : undefined;
  }

  start(sink: TransportSink): void {
    const s = this.#stream;
    this.sink = sink;
    s[kTransport] = this;
    for (const [event, listener] of LISTENERS) s.on(event, listener);
  }

  /** @internal The stream errored or closed: the sink hears it once. */
  closed(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.wakeDrainWaiters();
    this.sink?.close(error);
  }

  detach(): Detached {
    const s = this.#stream;
    // Paused before the data listener goes, so nothing is read with no one listening.
    s.pause();
    for (const [event, listener] of LISTENERS) s.off(event, listener);
    s[kTransport] = undefined;
    this.sink = undefined;
    this.wakeDrainWaiters();
    let failure: Error | undefined;
    const closed = new Promise<Error | undefined>((resolve) => {
      if (s.destroyed) return resolve(s.errored ?? undefined);
      // Recorded for the summary: a socket error with no listener would crash the process.
      s.on("error", (error: Error) => (failure ??= error));
      s.once("close", () => resolve(failure));
    });
    return { kind: "duplex", socket: s, closed };
  }

  /** @internal */
  wakeDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    this.#drainWaiters = undefined;
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
    // A destroy makes Node call a net.Socket's unfinished writes back without an error (libuv
    // cancels them), as if they had gone out: called back on a destroyed socket, a write
    // failed. (Not so for a plain Duplex: its _write may hand the bytes on and see a
    // destroy before it calls back, and those bytes did leave.)
    const done = flushed !== undefined && s instanceof net.Socket ? (error?: Error | null) => flushed(error ?? (s.destroyed ? cancelled(s) : null)) : flushed;
    if (chunks.length === 1) return s.write(chunks[0]!, done);
    s.cork();
    let ok = true;
    for (let i = 0; i < chunks.length; i++) ok = s.write(chunks[i]!, i === chunks.length - 1 ? done : undefined);
    s.uncork();
    return ok;
  }

  get needsDrain(): boolean {
    return this.#stream.writableNeedDrain;
  }

  drained(): Promise<void> {
    const s = this.#stream;
    if (s.destroyed || !s.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  end(flushed?: () => void): void {
    if (this.#stream.writableEnded) return;
    this.#stream.end(flushed && ((error?: Error | null) => error || flushed()));
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
  readonly encrypted: boolean;
  /** A writable stream doesn't say how much of a write its sink took. */
  readonly unsentBytes = undefined;
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
  /** The pump's run, while it reads. */
  #pumping: Promise<void> | undefined;
  /** Set by detach(): what a read in flight at that moment brings goes here, for the new owner. */
  #detached: { chunks: Buffer[]; done: boolean; error: Error | undefined } | undefined;
  /** Settles the detached stream's `closed`. */
  #settleDetached: ((error: Error | undefined) => void) | undefined;

  constructor(pair: WebStreamPair) {
    this.remoteAddress = pair.remoteAddress;
    this.encrypted = pair.encrypted === true;
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
    this.#pumping = this.#pump();
  }

  #close(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#sink?.close(error);
    this.#settleDetached?.(error);
  }

  /** Closed once both directions are done (the connection's linger timer cuts a peer that never finishes). */
  #closeWhenBothDone(): void {
    if (this.#readDone && this.#writeDone) this.#close();
  }

  async #pump(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      while (!this.#paused && !this.#destroyed && !this.#detached) {
        const { value, done } = await this.#reader.read();
        // (Read through a method: the loop's condition would narrow the field to undefined.)
        const detached = this.#detachedStash();
        if (detached) {
          if (done) detached.done = true;
          else detached.chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
          return;
        }
        if (done) {
          this.#readDone = true;
          this.#sink?.end();
          this.#closeWhenBothDone();
          return;
        }
        this.#sink?.data(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (this.#detached) this.#detached.error = failure;
      else this.#close(failure);
    } finally {
      this.#reading = false;
    }
  }

  #detachedStash(): { chunks: Buffer[]; done: boolean; error: Error | undefined } | undefined {
    return this.#detached;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused || this.#detached) return;
    this.#paused = false;
    this.#pumping = this.#pump();
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

  end(flushed?: () => void): void {
    if (this.#ended || this.#destroyed) return;
    this.#ended = true;
    // Keep reading (the connection discards it) so the peer isn't reset before it has
    // read our last response.
    this.#writer.close().then(
      () => {
        this.#writeDone = true;
        flushed?.();
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

  detach(): Detached {
    const stash = (this.#detached = { chunks: [] as Buffer[], done: false, error: undefined as Error | undefined });
    this.#sink = undefined;
    const closed = new Promise<Error | undefined>((resolve) => (this.#settleDetached = resolve));
    if (this.#destroyed) this.#settleDetached?.(undefined);
    const reader = this.#reader;
    const writer = this.#writer;
    // The reader and writer stay locked to this transport (so destroy() still cuts them);
    // the new owner gets streams over them.
    const inFlight = this.#pumping ?? Promise.resolve();
    const readable = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          // A read the pump had in flight when the connection was taken over lands first.
          await inFlight;
          const chunk = stash.chunks.shift();
          if (chunk) return controller.enqueue(chunk);
          if (stash.error) throw stash.error;
          if (stash.done) return this.#detachedSide("read", () => controller.close());
          const { value, done } = await reader.read();
          if (done) this.#detachedSide("read", () => controller.close());
          else controller.enqueue(value);
        },
        cancel: async (reason: unknown) => {
          await reader.cancel(reason);
          this.#detachedSide("read");
        },
      },
      { highWaterMark: 0 },
    );
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => writer.write(chunk),
      close: async () => {
        await writer.close();
        this.#detachedSide("write");
      },
      abort: async (reason: unknown) => {
        await writer.abort(reason);
        this.#detachedSide("write");
      },
    });
    return { kind: "streams", readable, writable, closed };
  }

  /** One direction of a detached pair is done (then `then` runs); once both are, it is closed. */
  #detachedSide(side: "read" | "write", then?: () => void): void {
    if (side === "read") this.#readDone = true;
    else this.#writeDone = true;
    then?.();
    this.#closeWhenBothDone();
  }
}
