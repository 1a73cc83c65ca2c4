/**
 * The bytes going to the client: writes with backpressure, a write deadline (a client
 * that stops reading is cut off after `writeTimeoutMs` without progress), corking while pipelined
 * responses are written together, and the count of bytes the transport confirmed.
 * @module
 */
import { ClientClosedError } from "../http/http-error.js";
import type { Exchange } from "./exchange.js";
import type { Inbound } from "./inbound.js";
import type { Transport } from "./transport.js";

const EMPTY = Buffer.alloc(0);

export class Outbound {
  readonly #transport: Transport;
  readonly #in: Inbound;
  readonly #writeTimeoutMs: number;
  readonly #onWriteTimeout: () => void;
  readonly #onDrained: () => void;
  #corked = false;
  /** When the write waiting on the client times out (Infinity: none waits). */
  #deadline = Infinity;
  #timer: NodeJS.Timeout | undefined;
  /** The transport's unsent bytes when the deadline was set (undefined: it can't tell). */
  #unsentAtDeadline: number | undefined;
  /** The transport's unsent bytes when the write deadline cut the connection off. */
  #unsentAtCut: number | undefined;
  /** Bytes the transport confirmed as written. */
  bytesWritten = 0;

  /**
   * `onWriteTimeout` runs (before the transport is destroyed) when a client stopped
   * reading; `onDrained` when a write that waited on the client could go on.
   */
  constructor(transport: Transport, inbound: Inbound, writeTimeoutMs: number, onWriteTimeout: () => void, onDrained: () => void) {
    this.#transport = transport;
    this.#in = inbound;
    this.#writeTimeoutMs = writeTimeoutMs;
    this.#onWriteTimeout = onWriteTimeout;
    this.#onDrained = onDrained;
  }

  /** A write is waiting for the client to read. */
  get waiting(): boolean {
    return this.#deadline !== Infinity;
  }

  /** Holds writes back until the event loop turns, so pipelined responses leave together. */
  cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#transport.cork();
    // Uncorking on setImmediate (not on a condition) means nothing ever waits on a flush
    // that corking holds back.
    setImmediate(() => this.uncork());
  }

  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#transport.uncork();
  }

  /**
   * Writes part of `ex`'s response; resolves once the transport can take more (under the
   * write deadline). With `last`, resolves once flushed.
   */
  write(ex: Exchange, chunks: readonly Uint8Array[], last: boolean): Promise<void> {
    if (last) {
      return new Promise((resolve, reject) => this.writeLast(ex, chunks, (error) => (error ? reject(error) : resolve())));
    }
    const transport = this.#transport;
    if (this.#in.gone || transport.destroyed) return Promise.reject(this.#closedError(this.#in.goneError));
    const size = sizeOf(chunks);
    const ok = transport.write(chunks.length > 0 ? chunks : [EMPTY], (error) => {
      // A failed write also closes the transport, which the response learns at its next write.
      if (error) return this.#countCut(ex, size);
      ex.flushed += size;
      this.bytesWritten += size;
    });
    if (ok) return Promise.resolve();
    return this.drained();
  }

  /** Writes a response's last chunks and hands the response off; `done` once they are flushed. */
  writeLast(ex: Exchange, chunks: readonly Uint8Array[], done: (error: Error | undefined) => void): void {
    const transport = this.#transport;
    if (this.#in.gone || transport.destroyed) {
      done(this.#closedError(this.#in.goneError));
      return;
    }
    const size = sizeOf(chunks);
    ex.handOff();
    // (The callback may run at once, for a transport that is already closed.)
    let waited = false;
    const ok = transport.write(chunks.length > 0 ? chunks : [EMPTY], (error) => {
      if (waited) {
        this.#deadline = Infinity;
        this.#onDrained();
      }
      if (error) {
        this.#countCut(ex, size);
        done(this.#closedError(error));
        return;
      }
      ex.flushed += size;
      this.bytesWritten += size;
      done(undefined);
    });
    if (!ok) {
      waited = true;
      this.#watch();
    }
  }

  /** Writes bytes that belong to no response's count (an interim 100 Continue). */
  writeInterim(bytes: Uint8Array): void {
    this.#transport.write([bytes], (error) => {
      if (!error) this.bytesWritten += bytes.length;
    });
  }

  /** Resolves once the client has read what is buffered (under the write deadline). */
  async drained(): Promise<void> {
    this.uncork();
    this.#watch();
    await this.#transport.drained();
    this.#deadline = Infinity;
    this.#onDrained();
    if (this.#in.gone || this.#transport.destroyed) throw this.#closedError(this.#in.goneError);
  }

  /**
   * Ends the transport after what was written; `flushed` runs once it all left. The write
   * deadline watches until then: a client that stopped reading can't hold the connection.
   */
  end(flushed: () => void): void {
    this.uncork();
    this.#watch();
    this.#transport.end(() => {
      this.#deadline = Infinity;
      flushed();
    });
  }

  /** Stops the timer (the connection is over). */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Counts what the kernel took of a write of `size` bytes that the write deadline cut off
   * (Node reports nothing for it). The unsent bytes are the queue's last: a write gets
   * the part of them it could hold, so the count never exceeds what left (an earlier write
   * in the queue is undercounted, not over).
   */
  #countCut(ex: Exchange, size: number): void {
    const unsent = this.#unsentAtCut;
    if (unsent === undefined || unsent >= size) return;
    ex.flushed += size - unsent;
    this.bytesWritten += size - unsent;
  }

  /** Whether the client took bytes of the waiting write since the deadline was set (when the transport can tell). */
  #progressed(): boolean {
    const was = this.#unsentAtDeadline;
    const now = (this.#unsentAtDeadline = this.#transport.unsentBytes);
    return was !== undefined && now !== undefined && now < was;
  }

  #closedError(cause: Error | undefined): ClientClosedError {
    return new ClientClosedError("before the response was complete", { cause });
  }

  /** Arms the write deadline while a write waits on the client. */
  #watch(): void {
    this.#deadline = performance.now() + this.#writeTimeoutMs;
    this.#unsentAtDeadline = this.#transport.unsentBytes;
    this.#timer ??= setTimeout(() => this.#onTimer(), this.#writeTimeoutMs);
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#deadline === Infinity) return;
    let left = this.#deadline - performance.now();
    if (left <= 0 && this.#progressed()) {
      // A slow client isn't a stalled one: it has another writeTimeoutMs.
      this.#deadline = performance.now() + this.#writeTimeoutMs;
      left = this.#writeTimeoutMs;
    }
    if (left > 0) {
      this.#timer = setTimeout(() => this.#onTimer(), left);
      return;
    }
    // The client stopped reading our response: nothing more can be sent.
    this.#unsentAtCut = this.#transport.unsentBytes;
    this.#onWriteTimeout();
    this.#transport.destroy(new Error("write timeout: the client stopped reading"));
  }
}

function sizeOf(chunks: readonly Uint8Array[]): number {
  let size = 0;
  for (const c of chunks) size += c.length;
  return size;
}
