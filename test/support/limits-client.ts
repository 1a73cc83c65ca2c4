// Helpers for the limits suites (test/server-limits*.test.ts): a raw-socket client that
// records every byte and event with timestamps, a response parser, an accept()-based
// server that collects ConnectionSummary values, memory probes and a self-signed cert.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { Duplex } from "node:stream";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach } from "vitest";
import { accept, type AcceptOptions, type ConnectionSummary, type Handler } from "../../host/index.js";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects after `ms` with a message naming what was awaited. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until `check()` holds, polling; throws after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

// ---- response parsing -------------------------------------------------------------------

export interface RawResponse {
  status: number;
  reason: string;
  /** Lower-cased names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes of the whole response on the wire. */
  size: number;
}

/**
 * Parses one response at the start of `buf`; undefined when it is incomplete. A response
 * without Content-Length or chunked framing runs to the end of the stream (`atEnd`).
 */
export function parseResponse(buf: Buffer, atEnd: boolean, headRequest = false): RawResponse | undefined {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const lines = buf.toString("latin1", 0, headEnd).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0] ?? "");
  if (!m) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const start = headEnd + 4;
  const done = (body: Buffer, size: number): RawResponse => ({ status, reason: m[2] ?? "", headers, body, size });
  if (headRequest || status < 200 || status === 204 || status === 304) return done(Buffer.alloc(0), start);
  const te = headers["transfer-encoding"];
  if (te !== undefined && /chunked/i.test(te)) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString("latin1", at, lineEnd).split(";")[0]!, 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size line");
      at = lineEnd + 2;
      if (size === 0) {
        // Trailer section: lines up to an empty one.
        for (;;) {
          const end = buf.indexOf("\r\n", at);
          if (end < 0) return undefined;
          const empty = end === at;
          at = end + 2;
          if (empty) return done(Buffer.concat(parts), at);
        }
      }
      if (buf.length < at + size + 2) return undefined;
      parts.push(buf.subarray(at, at + size));
      at += size + 2;
    }
  }
  const cl = headers["content-length"];
  if (cl !== undefined) {
    const n = Number(cl);
    if (buf.length < start + n) return undefined;
    return done(buf.subarray(start, start + n), start + n);
  }
  if (!atEnd) return undefined;
  return done(buf.subarray(start), buf.length);
}

// ---- raw client -----------------------------------------------------------------------

/** A raw TCP (or TLS) client that records everything it receives, with timestamps. */
export class RawClient {
  readonly socket: net.Socket;
  /** Every byte received. */
  received: Buffer = Buffer.alloc(0);
  /** Bytes of `received` already returned as responses. */
  consumed = 0;
  /** When the last byte arrived (performance.now()). */
  lastDataAt = 0;
  endedAt: number | undefined;
  closedAt: number | undefined;
  error: Error | undefined;
  readonly #changed = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.lastDataAt = performance.now();
      this.#notify();
    });
    socket.on("end", () => {
      this.endedAt = performance.now();
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.error = error;
      this.#notify();
    });
    socket.on("close", () => {
      this.closedAt = performance.now();
      this.#notify();
    });
  }

  static connect(port: number, options: { tls?: boolean; allowHalfOpen?: boolean } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket: net.Socket = options.tls
        ? tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false, servername: "localhost" }, () => resolve(new RawClient(socket)))
        : net.connect({ port, host: "127.0.0.1", allowHalfOpen: options.allowHalfOpen ?? false }, () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  #notify(): void {
    for (const f of [...this.#changed]) f();
  }

  /** Waits (event-driven) until `check()` holds. */
  wait(check: () => boolean, ms: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    let listener: (() => void) | undefined;
    const p = new Promise<void>((resolve) => {
      listener = () => {
        if (check()) resolve();
      };
      this.#changed.add(listener);
    });
    return within(p, ms, what).finally(() => this.#changed.delete(listener!));
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  get gone(): boolean {
    return this.closedAt !== undefined || this.endedAt !== undefined;
  }

  /** The next complete response (skipping none), waiting up to `ms`. */
  async response(ms = 5000, headRequest = false): Promise<RawResponse> {
    let out: RawResponse | undefined;
    await this.wait(
      () => (out = parseResponse(this.received.subarray(this.consumed), this.gone, headRequest)) !== undefined,
      ms,
      "a response",
    );
    this.consumed += out!.size;
    return out!;
  }

  /** Waits until the server ended or closed the connection. */
  async closed(ms = 5000): Promise<number> {
    await this.wait(() => this.gone, ms, "the server to close the connection");
    return this.endedAt ?? this.closedAt!;
  }

  /** Received bytes not yet returned as responses. */
  get unread(): Buffer {
    return this.received.subarray(this.consumed);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Sends `piece` over and over (an endless stream) until the server answers or closes, or
 * `maxBytes` went out, or `ms` passed (then a stuck server shows as a failed assertion,
 * not a hung test). Returns the bytes sent.
 */
export async function pushUntilAnswered(c: RawClient, piece: string | Uint8Array, maxBytes: number, ms = 3000): Promise<number> {
  const end = performance.now() + ms;
  const size = typeof piece === "string" ? Buffer.byteLength(piece) : piece.length;
  let sent = 0;
  while (!c.gone && c.received.length === 0 && sent < maxBytes) {
    const left = end - performance.now();
    if (left <= 0) break;
    let ok = true;
    await within(c.write(piece), left, "a write").catch(() => (ok = false));
    if (!ok) break;
    sent += size;
  }
  return sent;
}

/** One request over a fresh connection; returns its response and the client. */
export async function rawRequest(port: number, request: string | Uint8Array, ms = 5000): Promise<{ res: RawResponse; client: RawClient }> {
  const client = await RawClient.connect(port);
  await client.write(request);
  const res = await client.response(ms);
  return { res, client };
}

// ---- accept()-based server ---------------------------------------------------------------

export interface AcceptServer {
  port: number;
  summaries: ConnectionSummary[];
  /** The summary of the nth connection (0-based, in order of closing), waiting for it. */
  summary(index: number, ms?: number): Promise<ConnectionSummary>;
  close(): Promise<void>;
}

/** A net.Server whose connections are served by accept(), collecting their summaries. */
export async function acceptServer(handler: Handler, options: AcceptOptions = {}): Promise<AcceptServer> {
  const summaries: ConnectionSummary[] = [];
  const waiters: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    void accept(socket, handler, options).then((s) => {
      summaries.push(s);
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    summaries,
    summary: (index, ms = 5000) =>
      within(
        new Promise<ConnectionSummary>((resolve) => {
          const check = (): void => {
            const s = summaries[index];
            if (s) resolve(s);
            else waiters.push(check);
          };
          check();
        }),
        ms,
        `connection summary #${index}`,
      ),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- memory -----------------------------------------------------------------------------

let gcFn: (() => void) | undefined;
/** A full garbage collection (exposed at run time through the V8 flag). */
export function gc(): void {
  if (!gcFn) {
    v8.setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as () => void;
  }
  gcFn();
}

export interface MemoryPeak {
  /** Peak growth over the baseline, in MiB. */
  rssMiB: number;
  arrayBuffersMiB: number;
  heapUsedMiB: number;
}

/**
 * Samples memory from now until `stop()`; reports the peak growth over a post-GC baseline.
 * With `live`, every sample follows two full GCs (every 50 ms; the second lets the first one's ArrayBuffer sweeping finish): the peak is then what was
 * really held, not garbage waiting for a collection (Node's socket reads allocate a fresh
 * buffer each time, and V8 collects their ArrayBuffers lazily).
 */
export function memoryProbe(options: { live?: boolean } = {}): { stop(): MemoryPeak } {
  gc();
  const base = process.memoryUsage();
  let rss = base.rss;
  let ab = base.arrayBuffers;
  let heap = base.heapUsed;
  const sample = (): void => {
    if (options.live) {
      gc();
      gc();
    }
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    ab = Math.max(ab, m.arrayBuffers);
    heap = Math.max(heap, m.heapUsed);
  };
  const timer = setInterval(sample, options.live ? 50 : 10);
  const MiB = 1024 * 1024;
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return {
        rssMiB: (rss - base.rss) / MiB,
        arrayBuffersMiB: (ab - base.arrayBuffers) / MiB,
        heapUsedMiB: (heap - base.heapUsed) / MiB,
      };
    },
  };
}

// ---- TLS --------------------------------------------------------------------------------

/** A self-signed certificate for CN=localhost, made with openssl in a temp dir. */
export function selfSignedCert(): { key: Buffer; cert: Buffer; dir: string; certPath: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tophat-tls-"));
  const keyPath = path.join(dir, "k");
  const certPath = path.join(dir, "c");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyPath, "-out", certPath, "-days", "1"],
    { stdio: "ignore" },
  );
  return {
    key: readFileSync(keyPath),
    cert: readFileSync(certPath),
    dir,
    certPath,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---- in-memory connection with a client that reads at a set pace -------------------------

export interface PacedPeer {
  /** The server's end: give it to accept(). */
  duplex: Duplex;
  /** Sends bytes to the server (as the client). */
  send(data: string | Uint8Array): void;
  /** Half-closes the client's sending side. */
  end(): void;
  /** What the server wrote so far (what the client consumed). */
  received(): Buffer;
  receivedBytes(): number;
  /** Starts or stops consuming (a client that stops reading). */
  setReading(on: boolean): void;
}

/**
 * A duplex whose client side consumes the server's writes `sliceBytes` at a time, one
 * slice every `sliceMs` (or not at all while reading is off). The server's userland
 * buffer for this connection is then exactly `duplex.writableLength`.
 */
export function pacedPeer(options: { sliceBytes: number; sliceMs: number; reading?: boolean }): PacedPeer {
  const parts: Buffer[] = [];
  let bytes = 0;
  let reading = options.reading ?? true;
  let resumeReading: (() => void) | undefined;
  let pending: ((error?: Error | null) => void) | undefined;
  const duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      // The client pushes through send().
    },
    write(chunk: Buffer, _encoding, callback) {
      pending = callback;
      let at = 0;
      const step = (): void => {
        if (duplex.destroyed) return;
        if (!reading) {
          resumeReading = step;
          return;
        }
        const n = Math.min(options.sliceBytes, chunk.length - at);
        parts.push(chunk.subarray(at, at + n));
        at += n;
        bytes += n;
        if (at >= chunk.length) {
          pending = undefined;
          callback();
        } else setTimeout(step, options.sliceMs);
      };
      // Consuming n bytes takes n / sliceBytes of sliceMs (small writes go almost at once).
      setTimeout(step, Math.round((Math.min(chunk.length, options.sliceBytes) / options.sliceBytes) * options.sliceMs));
    },
    final(callback) {
      callback();
      // The client closes its side once the server finished (like a socket's FIN reply).
      duplex.push(null);
    },
    destroy(error, callback) {
      // Like a socket: a write in progress fails when the stream is torn down.
      const p = pending;
      pending = undefined;
      p?.(error ?? new Error("destroyed"));
      callback(error);
    },
  });
  return {
    duplex,
    send: (data) => void duplex.push(typeof data === "string" ? Buffer.from(data, "latin1") : data),
    end: () => void duplex.push(null),
    received: () => Buffer.concat(parts),
    receivedBytes: () => bytes,
    setReading: (on) => {
      reading = on;
      if (on && resumeReading) {
        const r = resumeReading;
        resumeReading = undefined;
        r();
      }
    },
  };
}

/**
 * A `start(handler, options)` for a test file: each server it starts is closed after the
 * test that started it (call at the top level of the file).
 */
export function acceptServers(): (handler: Handler, options?: AcceptOptions) => Promise<AcceptServer> {
  const servers: AcceptServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  return async (handler, options = {}) => {
    const s = await acceptServer(handler, options);
    servers.push(s);
    return s;
  };
}
