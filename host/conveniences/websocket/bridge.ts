/**
 * The duplex `ws` speaks through. `ws` writes its own handshake response on the socket it
 * is given, but Tophat's 101 is framed by the core and written by `res.upgrade()`: so `ws`
 * gets this bridge, which keeps the handshake `ws` writes (its header lines go into the
 * 101), and is then connected to the connection that was taken over — a Node duplex or a
 * Web Streams pair — with backpressure both ways.
 * @module
 */
import { Duplex } from "node:stream";
import type { Upgraded } from "../../http/upgrade.js";

type Callback = (error?: Error | null) => void;

/** The far end, once connected. */
interface Far {
  write(chunk: Buffer, done: Callback): void;
  end(done: Callback): void;
  destroy(): void;
  /** The bridge wants more bytes (it had said stop). */
  more(): void;
}

export class WebSocketBridge extends Duplex {
  /** The handshake response `ws` wrote, before the bridge was connected. */
  #handshake: string | undefined;
  /** Writes `ws` made after its handshake and before the bridge was connected. */
  #early: { chunk: Buffer; done: Callback }[] = [];
  #far: Far | undefined;

  constructor() {
    super({ allowHalfOpen: true });
  }

  /** The header fields `ws` put in its handshake response (for the 101 the core frames). */
  handshakeHeaders(): Record<string, string> {
    const text = this.#handshake;
    if (text === undefined || !text.startsWith("HTTP/1.1 101 ")) {
      throw new Error(`tophat: ws wrote no 101 handshake response${text === undefined ? "" : `: ${JSON.stringify(text.slice(0, 60))}`}`);
    }
    const headers: Record<string, string> = {};
    for (const line of text.split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon)] = line.slice(colon + 1).trim();
    }
    return headers;
  }

  /** Connects the bridge to the connection `res.upgrade()` handed over. */
  connect(up: Upgraded): void {
    if (up.head.length > 0) this.push(up.head);
    this.#far = up.kind === "duplex" ? this.#toDuplex(up.socket) : this.#toStreams(up.readable, up.writable);
    const early = this.#early;
    this.#early = [];
    for (const { chunk, done } of early) this.#far.write(chunk, done);
  }

  #toDuplex(socket: Duplex): Far {
    socket.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on("end", () => this.push(null));
    // The error itself was recorded by the connection (its summary); ws learns of the end.
    socket.on("error", () => this.destroy());
    socket.on("close", () => this.destroy());
    socket.resume();
    return {
      // Done as soon as the socket takes more (not at each flush): ws's writes stream on.
      write: (chunk, done) => {
        if (socket.write(chunk)) done();
        else socket.once("drain", () => done());
      },
      end: (done) => {
        socket.end();
        done();
      },
      destroy: () => socket.destroy(),
      more: () => socket.resume(),
    };
  }

  #toStreams(readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>): Far {
    const reader = readable.getReader();
    const writer = writable.getWriter();
    let wake: (() => void) | undefined;
    const pump = async (): Promise<void> => {
      for (;;) {
        const r = await reader.read();
        if (r.done) return void this.push(null);
        if (!this.push(r.value)) await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    pump().catch((error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))));
    writer.closed.catch(() => this.destroy());
    return {
      write: (chunk, done) => {
        writer.write(chunk).then(
          () => done(),
          (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
        );
      },
      end: (done) => {
        writer.close().then(
          () => done(),
          (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
        );
      },
      destroy: () => {
        // Both reject with the reason they were given: nothing more to learn.
        writer.abort().catch(() => undefined);
        reader.cancel().catch(() => undefined);
      },
      more: () => {
        const w = wake;
        wake = undefined;
        w?.();
      },
    };
  }

  override _read(): void {
    this.#far?.more();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: Callback): void {
    if (this.#far) return this.#far.write(chunk, done);
    // ws's first write is its handshake response: kept, not sent (the core frames the 101).
    if (this.#handshake === undefined) {
      this.#handshake = chunk.toString("latin1");
      return done();
    }
    this.#early.push({ chunk, done });
  }

  override _final(done: Callback): void {
    if (this.#far) this.#far.end(done);
    else done();
  }

  override _destroy(error: Error | null, done: Callback): void {
    this.#far?.destroy();
    done(error);
  }
}
