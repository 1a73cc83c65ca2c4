/**
 * Test harness for the server suites: one interface over the three ways Tophat serves a
 * connection, so the same tests run through each of them:
 *
 * - `serve`: `serve()` on a real TCP port.
 * - `web-streams`: a `net.Server` whose sockets become `{ readable, writable }` with
 *   {@link socketToWebStreams} (`stream.Duplex.toWeb`, with a Node 20 quirk fixed) and go to `accept()`.
 * - `in-memory`: `accept()` over one side of an in-memory duplex pair (see
 *   {@link memoryDuplexPair}). Raw clients write straight into the other side, with no
 *   socket in between; `url` bridges TCP clients (fetch, curl) to a fresh pair per
 *   connection.
 *
 * Plus a raw client (byte-exact reads and writes), a parser for raw HTTP/1.1 responses,
 * a logger that captures instead of printing, and curl.
 * @module
 */
import { execFile } from "node:child_process";
import net from "node:net";
import { Duplex } from "node:stream";
import { accept, serve, type AcceptOptions, type ConnectionSummary, type Handler, type Logger, type WebStreamPair } from "../../host/index.js";

export const MODES = ["serve", "web-streams", "in-memory"] as const;
export type Mode = (typeof MODES)[number];

/** What an in-memory server side reports as the peer's address. */
export const MEMORY_REMOTE_ADDRESS = "in-memory-peer";

// ---- logger ------------------------------------------------------------------------------

export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  rest: unknown[];
}

/** A logger that records what it is told. */
export interface CapturingLogger extends Logger {
  readonly entries: LogEntry[];
  readonly warnings: LogEntry[];
  readonly errors: LogEntry[];
}

export function captureLogger(): CapturingLogger {
  const entries: LogEntry[] = [];
  return {
    entries,
    get warnings() {
      return entries.filter((e) => e.level === "warn");
    },
    get errors() {
      return entries.filter((e) => e.level === "error");
    },
    debug(message: string, ...rest: unknown[]) {
      entries.push({ level: "debug", message, rest });
    },
    info(message: string, ...rest: unknown[]) {
      entries.push({ level: "info", message, rest });
    },
    warn(message: string, ...rest: unknown[]) {
      entries.push({ level: "warn", message, rest });
    },
    error(message: string, ...rest: unknown[]) {
      entries.push({ level: "error", message, rest });
    },
  };
}

// ---- in-memory duplex pair ----------------------------------------------------------------

/**
 * One side of an in-memory byte pipe that behaves like a TCP socket where the tests need
 * it to: writes complete when the peer's reader has room (backpressure), `end()` is a
 * half-close (the peer reads EOF), and `destroy()` is an abortive close (the peer reads
 * EOF and its later writes fail with EPIPE). Node 20's `stream.duplexPair` does not tell
 * the peer about `destroy()`, so it can't stand in for a socket.
 */
class MemorySide extends Duplex {
  peer!: MemorySide;
  remoteAddress: string | undefined;
  #pendingWrite: ((error?: Error | null) => void) | undefined;

  constructor(remoteAddress: string | undefined) {
    super({ allowHalfOpen: true });
    this.remoteAddress = remoteAddress;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (peer.destroyed || peer.readableEnded || peer.#peerGone) {
      callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      return;
    }
    if (peer.push(chunk)) callback();
    else peer.#pendingWrite = callback;
  }

  override _read(): void {
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    pending?.();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.peer.destroyed && !this.peer.#peerGone) this.peer.push(null);
    callback();
  }

  /** The peer was destroyed: no more data will come, and writes to it fail. */
  #peerGone = false;

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    const pending = peer.#pendingWrite;
    peer.#pendingWrite = undefined;
    pending?.(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    const mine = this.#pendingWrite;
    this.#pendingWrite = undefined;
    mine?.(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    if (!peer.destroyed && !peer.#peerGone) {
      peer.#peerGone = true;
      // Like a socket after a reset: once the peer has read what it got, it closes.
      if (peer.readableEnded) peer.destroy();
      else {
        peer.once("end", () => peer.destroy());
        peer.push(null);
      }
    }
    callback(error);
  }
}

/** An in-memory duplex pair: [client side, server side]. */
export function memoryDuplexPair(serverRemoteAddress = MEMORY_REMOTE_ADDRESS): [Duplex, Duplex] {
  const client = new MemorySide("in-memory-server");
  const server = new MemorySide(serverRemoteAddress);
  client.peer = server;
  server.peer = client;
  return [client, server];
}

// ---- raw client --------------------------------------------------------------------------

/** A client that writes raw bytes and records every byte it receives. */
export class RawClient {
  readonly stream: Duplex;
  #data: Buffer[] = [];
  #size = 0;
  #ended = false;
  #closed = false;
  #error: Error | undefined;
  #listeners = new Set<() => void>();

  constructor(stream: Duplex) {
    this.stream = stream;
    stream.on("data", (chunk: Buffer) => {
      this.#data.push(chunk);
      this.#size += chunk.length;
      this.#notify();
    });
    stream.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    stream.on("error", (error: Error) => {
      this.#error = error;
      this.#notify();
    });
    stream.on("close", () => {
      this.#closed = true;
      this.#notify();
    });
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }

  /** Every byte received so far. */
  get received(): Buffer {
    if (this.#data.length > 1) this.#data = [Buffer.concat(this.#data)];
    return this.#data[0] ?? Buffer.alloc(0);
  }

  /** How many bytes were received. */
  get receivedBytes(): number {
    return this.#size;
  }

  /** Received bytes as Latin-1 text (byte-for-byte). */
  get text(): string {
    return this.received.toString("latin1");
  }

  /** The server finished sending (EOF) or the connection is gone. */
  get ended(): boolean {
    return this.#ended || this.#closed;
  }

  get error(): Error | undefined {
    return this.#error;
  }

  write(bytes: string | Uint8Array): Promise<void> {
    const buf = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
    return new Promise((resolve, reject) => this.stream.write(buf, (error) => (error ? reject(error) : resolve())));
  }

  /** Stops reading: what the server sends waits in the (socket) buffers. */
  pauseReading(): void {
    this.stream.pause();
  }

  resumeReading(): void {
    this.stream.resume();
  }

  /** Half-closes: the server reads EOF; reading goes on. */
  end(): void {
    this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }

  /** Waits until `predicate` holds for what was received; rejects after `timeoutMs` with what arrived. */
  waitFor(predicate: (received: Buffer, ended: boolean) => boolean, what = "the expected bytes", timeoutMs = 5_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (predicate(this.received, this.ended)) {
          done();
          resolve(this.received);
          return true;
        }
        if (this.ended) {
          done();
          reject(new Error(`the connection ended before ${what}; received ${JSON.stringify(this.text)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.text)}`));
      }, timeoutMs);
      const listener = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
      check();
    });
  }

  /** Waits until the received bytes contain `needle`. */
  waitForText(needle: string, timeoutMs = 5_000): Promise<Buffer> {
    return this.waitFor((b) => b.includes(Buffer.from(needle, "latin1")), JSON.stringify(needle), timeoutMs);
  }

  /** Waits for `count` complete responses (`heads[i]`: the i-th answers a HEAD request). */
  async responses(count: number, options: ParseOptions = {}, timeoutMs = 5_000): Promise<RawResponse[]> {
    await this.waitFor((b, ended) => parseResponses(b, { ...options, eof: ended }).responses.length >= count, `${count} response(s)`, timeoutMs);
    return parseResponses(this.received, { ...options, eof: this.ended }).responses.slice(0, count);
  }

  /** Waits until the server closes its side (EOF or close). */
  waitEnded(timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ended) return resolve();
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`the server did not close the connection within ${timeoutMs} ms; received ${JSON.stringify(this.text)}`));
      }, timeoutMs);
      const listener = (): void => {
        if (!this.ended) return;
        clearTimeout(timer);
        this.#listeners.delete(listener);
        resolve();
      };
      this.#listeners.add(listener);
    });
  }

  /** Waits `ms` and says whether the connection is still open (no EOF, no close). */
  async stillOpenAfter(ms: number): Promise<boolean> {
    await sleep(ms);
    return !this.ended;
  }
}

/** Connects a raw TCP client. */
export function connectTcp(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    socket.setNoDelay(true);
    const client = new RawClient(socket);
    socket.once("connect", () => resolve(client));
    socket.once("error", reject);
  });
}

// ---- raw response parsing ----------------------------------------------------------------

export interface ParseOptions {
  /** `heads[i]` true: the i-th response (1xx not counted) answers a HEAD request (no body). */
  heads?: readonly boolean[];
  /** The connection ended: a close-delimited body is complete. */
  eof?: boolean;
}

export interface RawResponse {
  /** e.g. "HTTP/1.1" */
  version: string;
  status: number;
  reason: string;
  /** Field lines in order, names as sent. */
  headers: [string, string][];
  /** The decoded body (chunked framing removed). */
  body: Buffer;
  /** The body bytes as sent (with chunked framing). */
  rawBody: Buffer;
  /** Trailer fields of a chunked body. */
  trailers: [string, string][];
  /** How the body was delimited. */
  framing: "none" | "content-length" | "chunked" | "close";
  /** The status line and fields, with the empty line. */
  head: Buffer;
  /** head + rawBody: exactly the bytes of this response. */
  raw: Buffer;
}

/** The first value of field `name` (case-insensitive). */
export function header(r: RawResponse, name: string): string | undefined {
  const n = name.toLowerCase();
  return r.headers.find(([k]) => k.toLowerCase() === n)?.[1];
}

/** Every value of field `name` (case-insensitive). */
export function headerAll(r: RawResponse, name: string): string[] {
  const n = name.toLowerCase();
  return r.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
}

export class ResponseParseError extends Error {}

function parseFields(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new ResponseParseError(`bad field line ${JSON.stringify(line)}`);
    out.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return out;
}

/**
 * Parses consecutive HTTP/1.1 responses from raw bytes, strictly (CRLF line endings, a
 * well-formed status line). Stops at the first incomplete response; `rest` holds the
 * bytes after the last complete one.
 */
export function parseResponses(bytes: Buffer, options: ParseOptions = {}): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  let final = 0; // non-1xx responses seen
  for (;;) {
    if (at >= bytes.length) break;
    const headEnd = bytes.indexOf("\r\n\r\n", at, "latin1");
    if (headEnd < 0) break;
    const head = bytes.subarray(at, headEnd + 4);
    const text = head.toString("latin1");
    const lineEnd = text.indexOf("\r\n");
    const statusLine = text.slice(0, lineEnd);
    const m = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(statusLine);
    if (!m) throw new ResponseParseError(`bad status line ${JSON.stringify(statusLine)} at byte ${at}`);
    const status = Number(m[2]);
    const headers = parseFields(text.slice(lineEnd + 2, text.length - 4));
    const base = { version: m[1]!, status, reason: m[3]!, headers, head, trailers: [] as [string, string][] };
    const bodyStart = headEnd + 4;
    const get = (name: string): string | undefined => headers.find(([k]) => k.toLowerCase() === name)?.[1];
    const isHead = status >= 200 && (options.heads?.[final] ?? false);
    if (status < 200 || status === 204 || status === 304 || isHead) {
      responses.push({ ...base, body: Buffer.alloc(0), rawBody: Buffer.alloc(0), framing: "none", raw: head });
      at = bodyStart;
      if (status >= 200) final++;
      continue;
    }
    const te = get("transfer-encoding");
    const cl = get("content-length");
    if (te !== undefined) {
      if (te.toLowerCase() !== "chunked") throw new ResponseParseError(`unexpected Transfer-Encoding ${te}`);
      const decoded = decodeChunked(bytes, bodyStart);
      if (!decoded) break;
      responses.push({
        ...base,
        body: decoded.body,
        trailers: decoded.trailers,
        rawBody: bytes.subarray(bodyStart, decoded.end),
        framing: "chunked",
        raw: bytes.subarray(at, decoded.end),
      });
      at = decoded.end;
    } else if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) throw new ResponseParseError(`bad Content-Length ${cl}`);
      const end = bodyStart + Number(cl);
      if (end > bytes.length) break;
      const body = bytes.subarray(bodyStart, end);
      responses.push({ ...base, body, rawBody: body, framing: "content-length", raw: bytes.subarray(at, end) });
      at = end;
    } else {
      if (!options.eof) break;
      const body = bytes.subarray(bodyStart);
      responses.push({ ...base, body, rawBody: body, framing: "close", raw: bytes.subarray(at) });
      at = bytes.length;
    }
    final++;
  }
  return { responses, rest: bytes.subarray(at) };
}

function decodeChunked(bytes: Buffer, start: number): { body: Buffer; trailers: [string, string][]; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", at, "latin1");
    if (lineEnd < 0) return undefined;
    const line = bytes.toString("latin1", at, lineEnd);
    const m = /^([0-9a-fA-F]+)(;.*)?$/.exec(line);
    if (!m) throw new ResponseParseError(`bad chunk size line ${JSON.stringify(line)}`);
    const size = parseInt(m[1]!, 16);
    at = lineEnd + 2;
    if (size === 0) {
      const end = bytes.indexOf("\r\n\r\n", at - 2, "latin1");
      if (end < 0) return undefined;
      const trailers = parseFields(bytes.toString("latin1", at, end + 2));
      return { body: Buffer.concat(parts), trailers, end: end + 4 };
    }
    if (at + size + 2 > bytes.length) return undefined;
    parts.push(bytes.subarray(at, at + size));
    if (bytes.toString("latin1", at + size, at + size + 2) !== "\r\n") throw new ResponseParseError("chunk data not followed by CRLF");
    at += size + 2;
  }
}

// ---- servers -----------------------------------------------------------------------------

export interface StartOptions extends AcceptOptions {}

/** A server under test, whichever way it serves. */
export interface TestServer {
  readonly mode: Mode;
  /** `http://127.0.0.1:port`, for fetch and curl (bridged to the in-memory pair in that mode). */
  readonly url: string;
  readonly port: number;
  /** The logger the server was given (a capturing one unless the test passed its own). */
  readonly log: CapturingLogger;
  /** What `req.remoteAddress` should be for raw clients of this server. */
  readonly rawRemoteAddress: string;
  /** Summaries of the connections `accept()` served so far (not available through `serve()`). */
  readonly summaries: Promise<ConnectionSummary>[] | undefined;
  /** A raw client: a TCP socket, or (in-memory) the client side of a fresh pair. */
  connect(): Promise<RawClient>;
  /** Sends `bytes`, half-closes, and resolves with every byte received until the server closes. */
  rawRequest(bytes: string | Uint8Array, timeoutMs?: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Starts a server in `mode` with `handler`. Unless `options.logger` is given, logs are captured in `log`. */
export async function startServer(mode: Mode, handler: Handler, options: StartOptions = {}): Promise<TestServer> {
  const given = options.logger;
  const capturing = given !== undefined && "entries" in given ? (given as CapturingLogger) : captureLogger();
  const opts: AcceptOptions = { ...options, logger: given ?? capturing };

  let port: number;
  let closeServer: () => Promise<void>;
  let connect: () => Promise<RawClient>;
  let rawRemoteAddress: string;
  let summaries: Promise<ConnectionSummary>[] | undefined;

  if (mode === "serve") {
    const server = await serve(handler, opts);
    port = server.port;
    closeServer = async () => {
      // server.close() force-closes what is left after graceMs; it should never take much longer.
      const closed = server.close({ graceMs: 200 }).then(() => true);
      if (!(await Promise.race([closed, sleep(3_000).then(() => false)]))) {
        throw new Error("serve(): close() did not finish within 3 s (a connection's run() never ended)");
      }
    };
    connect = () => connectTcp(port);
    rawRemoteAddress = "127.0.0.1";
  } else {
    const list: Promise<ConnectionSummary>[] = [];
    summaries = list;
    const live = new Set<Duplex>();
    const track = (d: Duplex): void => {
      live.add(d);
      d.once("close", () => live.delete(d));
    };
    const onSocket =
      mode === "web-streams"
        ? (socket: net.Socket): void => {
            track(socket);
            list.push(accept(socketToWebStreams(socket), handler, opts));
          }
        : (socket: net.Socket): void => {
            track(socket);
            const [client, serverSide] = memoryDuplexPair("127.0.0.1");
            track(client);
            bridge(socket, client);
            list.push(accept(serverSide, handler, opts));
          };
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    port = address.port;
    closeServer = async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const d of live) d.destroy();
      await Promise.race([Promise.allSettled(list), sleep(2_000)]);
      await stopped;
    };
    if (mode === "web-streams") {
      connect = () => connectTcp(port);
      rawRemoteAddress = "127.0.0.1";
    } else {
      connect = async () => {
        const [client, serverSide] = memoryDuplexPair();
        track(client);
        track(serverSide);
        list.push(accept(serverSide, handler, opts));
        return new RawClient(client);
      };
      rawRemoteAddress = MEMORY_REMOTE_ADDRESS;
    }
  }

  const clients = new Set<RawClient>();
  const connectTracked = async (): Promise<RawClient> => {
    const client = await connect();
    clients.add(client);
    return client;
  };

  const rawRequest = async (bytes: string | Uint8Array, timeoutMs = 5_000): Promise<Buffer> => {
    const client = await connectTracked();
    await client.write(bytes).catch(() => undefined);
    client.end();
    try {
      await client.waitEnded(timeoutMs);
    } finally {
      client.destroy();
    }
    return client.received;
  };

  return {
    mode,
    url: `http://127.0.0.1:${port}`,
    port,
    log: capturing,
    rawRemoteAddress,
    summaries,
    connect: connectTracked,
    rawRequest,
    close: async () => {
      for (const c of clients) c.destroy();
      await closeServer();
    },
  };
}

/**
 * A socket as a Web Streams pair, the way `stream.Duplex.toWeb()` makes one, except that
 * the readable closes when the peer half-closes. (On Node 20, `Duplex.toWeb(socket)`'s
 * readable only closes once the *whole* duplex finished, i.e. after we end our side too:
 * a server reading it never sees the client's EOF. Seen on Node 20.20.) As with
 * `Duplex.toWeb`, cancelling the readable destroys the socket and closing the writable
 * ends it.
 */
export function socketToWebStreams(socket: net.Socket): WebStreamPair {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let done = false;
  const finish = (error?: Error): void => {
    if (done) return;
    done = true;
    if (error) controller.error(error);
    else controller.close();
  };
  socket.pause();
  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        socket.on("data", (chunk: Buffer) => {
          if (done) return;
          controller.enqueue(new Uint8Array(chunk));
          if ((controller.desiredSize ?? 0) <= 0) socket.pause();
        });
        socket.on("end", () => finish());
        socket.on("error", (error: Error) => finish(error));
        socket.on("close", () => finish());
      },
      pull() {
        socket.resume();
      },
      cancel() {
        done = true;
        socket.destroy();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: socket.readableHighWaterMark }),
  );
  const writable = new WritableStream<Uint8Array>({
    start(c) {
      // Like Duplex.toWeb: the socket closing before its writable side finished errors the stream.
      socket.on("close", () => {
        if (!socket.writableFinished) c.error(new Error("the socket closed (premature close)"));
      });
    },
    write(chunk) {
      return new Promise<void>((resolve, reject) => {
        if (socket.destroyed) return reject(new Error("the socket is closed"));
        socket.write(chunk, (error) => (error ? reject(error) : resolve()));
      });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        if (socket.destroyed) return reject(new Error("the socket is closed"));
        socket.once("close", () => (socket.writableFinished ? resolve() : reject(new Error("the socket closed (premature close)"))));
        socket.end(() => resolve());
      });
    },
    abort(reason: unknown) {
      socket.destroy(reason instanceof Error ? reason : undefined);
    },
  });
  return { readable, writable, remoteAddress: socket.remoteAddress };
}

/** Pipes a TCP socket and one side of an in-memory pair into each other, half-closes included. */
function bridge(socket: net.Socket, side: Duplex): void {
  socket.pipe(side, { end: true });
  side.pipe(socket, { end: true });
  socket.on("error", () => side.destroy());
  side.on("error", () => socket.destroy());
  socket.on("close", () => side.destroy());
  side.on("close", () => {
    // An abortive close of the server side: the socket goes too (unless it is already ending).
    if (!socket.writableEnded) socket.destroy();
  });
}

// ---- misc --------------------------------------------------------------------------------

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolve function: handlers wait on these to be driven by the test. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void; opened: boolean } {
  let open!: (value: T) => void;
  const g = {
    promise: new Promise<T>((resolve) => (open = resolve)),
    open: (value: T) => {
      g.opened = true;
      open(value);
    },
    opened: false,
  };
  return g;
}

export interface CurlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs curl with `args` (adds -s -S); resolves even on a non-zero exit. */
export function curl(args: readonly string[], timeoutMs = 10_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile("curl", ["-s", "-S", "--max-time", String(timeoutMs / 1000), ...args], { encoding: "latin1", timeout: timeoutMs + 2_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

/** Bytes of `s` (Latin-1, one byte per char). */
export function bytesOf(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

/** `fetch` that gives up after `timeoutMs` (a server that never answers fails the test quickly). */
export function fetchWithin(url: string, init: RequestInit = {}, timeoutMs = 8_000): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...init });
}

/** Waits until `predicate()` holds, polling; rejects with `what` after `timeoutMs`. */
export async function until(predicate: () => boolean, what = "the condition", timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
