/**
 * The bytes coming from the client: a queue with backpressure (reading pauses above a
 * high-water mark), whether the client finished or left, and one reader waiting for the
 * next chunk under a deadline (a lazy timer, armed only while someone waits).
 * @module
 */
import type { Transport } from "./transport.js";

/** Bytes queued from the client before reading pauses (backpressure on the client). */
const HIGH_WATER = 64 * 1024;

/** What a read deadline bounds: an idle connection, a request head, or a request body. */
export type ReadDeadline = "idle" | "head" | "body";

/** Who reads: asked before each wait whether to stop (next() then gives null), and told it is about to wait. */
export interface Reader {
  /** True to stop reading now: `next()` then gives null. */
  stopReading(): boolean;
  /** Runs each time the reader is about to wait (e.g. to uncork the writes). */
  beforeWait(): void;
}

/**
 * One wait for bytes: `ready()` when something changed (bytes, EOF, the connection's end,
 * a `wake()`), `expired()` when the read deadline passed first. An object, not a promise,
 * so an idle connection holds no pending promise or suspended frame while it waits.
 */
export interface ReadWaiter {
  ready(): void;
  expired(error: ReadTimeout): void;
}

/** A read that ran out of time. */
export class ReadTimeout extends Error {
  constructor(readonly kind: ReadDeadline) {
    super(`read timeout (${kind})`);
  }
}

export class Inbound {
  readonly #transport: Transport;
  #queue: Buffer[] = [];
  #queued = 0;
  #paused = false;
  #waiter: ReadWaiter | undefined;
  #deadline = Infinity;
  #kind: ReadDeadline = "idle";
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  /** The client finished sending (EOF; it may still read). */
  eof = false;
  /** The connection closed: nothing more comes, and nothing can be sent. */
  gone = false;
  /** What closed it, if it was an error. */
  goneError: Error | undefined;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Bytes received and not yet taken. */
  get queued(): number {
    return this.#queued;
  }

  /** Whether a reader is waiting for bytes (under its read deadline). */
  get waiting(): boolean {
    return this.#waiter !== undefined;
  }

  push(chunk: Buffer): void {
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#transport.pause();
    }
    this.wake();
  }

  /** The client finished sending. */
  finish(): void {
    this.eof = true;
    this.wake();
  }

  /** The connection closed. */
  lose(error: Error | undefined): void {
    this.gone = true;
    this.goneError = error;
    this.wake();
  }

  /** Wakes the waiting reader, to look again (bytes, EOF, or a state change elsewhere). */
  wake(): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.ready();
    }
  }

  /** Sets what the next waits are bounded by (`performance.now()` time). */
  setDeadline(kind: ReadDeadline, at: number): void {
    this.#kind = kind;
    this.#deadline = at;
  }

  /** Brings the current deadline forward to `at` (if it is later). */
  shorten(at: number): void {
    if (at < this.#deadline) this.#deadline = at;
  }

  /**
   * The next chunk, waiting under the read deadline (rejects with `ReadTimeout`); null at
   * EOF, when the connection is gone, or when `reader.stopReading()` says so before a wait.
   */
  async next(reader: Reader): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.take();
      if (chunk !== undefined) return chunk;
      if (this.eof || this.gone || reader.stopReading()) return null;
      reader.beforeWait();
      this.#arm();
      await new Promise<void>((ready, expired) => (this.#waiter = { ready, expired }));
    }
  }

  /** The next queued chunk, if one is (no wait, no deadline). */
  take(): Buffer | undefined {
    if (this.#queue.length === 0) return undefined;
    const chunk = this.#queue.shift()!;
    this.#queued -= chunk.length;
    if (this.#paused && this.#queued < HIGH_WATER / 2) {
      this.#paused = false;
      this.#transport.resume();
    }
    return chunk;
  }

  /**
   * Whether `next()` would answer without waiting (a chunk is queued, or it would give
   * null). When not, registers `waiter` (under the read deadline) and answers false:
   * waiting this way holds no promise and no suspended frame, which is what an idle
   * keep-alive connection does between requests.
   */
  readyOrWait(reader: Reader & ReadWaiter): boolean {
    if (this.#queue.length > 0 || this.eof || this.gone || reader.stopReading()) return true;
    reader.beforeWait();
    this.#arm();
    this.#waiter = reader;
    return false;
  }

  /** Drops what is queued and reads on (the connection is closing: what comes is discarded). */
  discard(): void {
    this.#queue = [];
    this.#queued = 0;
    if (this.#paused && !this.gone && !this.#transport.destroyed) {
      this.#paused = false;
      this.#transport.resume();
    }
  }

  /** Takes every queued chunk (the connection is being taken over: they are the new owner's). */
  takeAll(): Buffer[] {
    const chunks = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    return chunks;
  }

  /** Stops the timer (the connection is over). */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #arm(): void {
    const at = this.#deadline;
    // The timer may already be set for an earlier time: it re-arms itself when it fires.
    if (at === Infinity || at >= this.#timerAt) return;
    this.dispose();
    this.#timerAt = at;
    // A shared callback with the inbound as its argument: no closure per connection.
    this.#timer = setTimeout(onTimer, Math.max(0, at - performance.now()), this);
  }

  /** @internal The read timer fired (see `onTimer`). */
  timerFired(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (!this.#waiter) return;
    if (performance.now() >= this.#deadline) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.expired(new ReadTimeout(this.#kind));
      return;
    }
    this.#arm();
  }
}

function onTimer(inbound: Inbound): void {
  inbound.timerFired();
}
