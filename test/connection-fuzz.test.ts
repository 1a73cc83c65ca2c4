// Whole-connection fuzzing: seeded random byte streams — valid requests of every framing,
// some mutated, pipelined, split at random points, written with random delays, ended by a
// half-close, a reset or silence — through accept(), over an in-memory duplex and over real
// TCP sockets. Whatever the bytes, these hold:
// - at most one response per request, in order (each carries its request's sequence number);
// - everything the client received parses with llhttp as a sequence of complete responses;
// - nothing after a response that says `Connection: close`;
// - no error is logged (no handler fails here: an error would be the library's), and no
//   unhandled rejection or uncaught exception (vitest fails the run on those);
// - the connection always ends, within the configured timeouts;
// - memory returns to its baseline.
// Reproducible: TOPHAT_FUZZ_SEED picks the run, and a failure names the stream's seed.
import net from "node:net";
import { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accept, type AcceptOptions, type ConnectionSummary, type Handler } from "../host/index.js";
import { gc, within } from "./support/limits-client.js";
import { parseResponseStream } from "./support/llhttp.js";
import { captureLogger, memoryDuplexPair } from "./support/server-harness.js";

const BASE_SEED = Number(process.env["TOPHAT_FUZZ_SEED"] ?? 20261202);
const STREAMS = Math.round(120 * Number(process.env["TOPHAT_PROPERTY_RUNS"] ?? 1));
const CONCURRENCY = 12;

const log = captureLogger();
const OPTIONS: AcceptOptions = {
  headersTimeoutMs: 400,
  keepAliveTimeoutMs: 200,
  bodyTimeoutMs: 400,
  requestTimeoutMs: 3000,
  handlerTimeoutMs: 2000,
  writeTimeoutMs: 2000,
  maxBodyBytes: 64 * 1024,
  logger: log,
};
/** Past the longest of those timeouts, with margin for a loaded machine. */
const END_WITHIN_MS = 6000;

// ---- a seeded generator ------------------------------------------------------------------

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Draw {
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
}

function draw(seed: number): Draw {
  const next = rng(seed);
  return {
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
  };
}

// ---- requests ----------------------------------------------------------------------------

const MODES = ["text", "body", "stream", "ignore-body"] as const;

function body(d: Draw): string {
  const n = d.pick([0, 1, 5, 100, 3000]);
  return "abcdefghij".repeat(Math.ceil(n / 10)).slice(0, n);
}

function chunked(d: Draw, text: string): string {
  let out = "";
  for (let at = 0; at < text.length; ) {
    const n = Math.min(text.length - at, 1 + d.int(700));
    out += `${n.toString(16)}${d.chance(0.1) ? ";ext=1" : ""}\r\n${text.slice(at, at + n)}\r\n`;
    at += n;
  }
  return `${out}0\r\n${d.chance(0.2) ? "X-Trailer: t\r\n" : ""}\r\n`;
}

/**
 * A valid request whose target and `X-Seq` field both carry its sequence number (the
 * handler echoes it only when the two agree, so a mutation can't fake an order), and
 * whether its response closes the connection.
 */
function request(d: Draw, seq: number): { text: string; closes: boolean } {
  const mode = d.pick(MODES);
  const target = `/seq/${seq}/${mode}`;
  const close = d.chance(0.1);
  const fields = `Host: f\r\nX-Seq: ${seq}\r\n${close ? "Connection: close\r\n" : ""}${d.chance(0.2) ? "X-Pad: " + "p".repeat(d.int(2000)) + "\r\n" : ""}`;
  if (d.chance(0.05)) {
    const keep = d.chance(0.5);
    return { text: `GET ${target} HTTP/1.0\r\nX-Seq: ${seq}\r\n${keep ? "Connection: keep-alive\r\n" : ""}\r\n`, closes: !keep };
  }
  if (d.chance(0.08)) return { text: `HEAD ${target} HTTP/1.1\r\n${fields}\r\n`, closes: close };
  if (mode === "body" || mode === "ignore-body" || d.chance(0.2)) {
    const text = body(d);
    const expect = d.chance(0.1) ? "Expect: 100-continue\r\n" : "";
    if (d.chance(0.4)) return { text: `POST ${target} HTTP/1.1\r\n${fields}Transfer-Encoding: chunked\r\n${expect}\r\n${chunked(d, text)}`, closes: close };
    return { text: `POST ${target} HTTP/1.1\r\n${fields}Content-Length: ${text.length}\r\n${expect}\r\n${text}`, closes: close };
  }
  return { text: `GET ${target} HTTP/1.1\r\n${fields}\r\n`, closes: close };
}

const INSERTS = ["\r\n", "\n", "\r", " ", ":", "\0", "\x7f", "Transfer-Encoding: chunked\r\n", "Content-Length: 7\r\n", "0\r\n\r\n", "GET / HTTP/1.1\r\n", "ff\r\n", "Host: x\r\n"];

/** A few byte-level mutations: flips, inserts of HTTP-ish tokens, deletions, repeats. */
function mutate(d: Draw, bytes: Buffer): Buffer {
  let b = bytes;
  for (let n = 1 + d.int(3); n > 0 && b.length > 0; n--) {
    const at = d.int(b.length);
    switch (d.int(4)) {
      case 0:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([d.int(256)]), b.subarray(at + 1)]);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(d.pick(INSERTS), "latin1"), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + d.int(20))]);
        break;
      default: {
        const len = 1 + d.int(40);
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
      }
    }
  }
  return b;
}

type Ending = "half-close" | "reset" | "silence";

interface Plan {
  seed: number;
  requests: number;
  /** How many requests a well-behaved connection answers: up to the first that closes it. */
  answerable: number;
  pieces: Buffer[];
  delays: number[];
  ending: Ending;
  mutated: boolean;
}

function plan(seed: number): Plan {
  const d = draw(seed);
  const requests = 1 + d.int(8);
  const made = Array.from({ length: requests }, (_, i) => request(d, i));
  const closing = made.findIndex((r) => r.closes);
  const answerable = closing < 0 ? requests : closing + 1;
  let bytes: Buffer = Buffer.from(made.map((r) => r.text).join(""), "latin1");
  const mutated = d.chance(0.6);
  if (mutated) bytes = mutate(d, bytes);
  const pieces: Buffer[] = [];
  const delays: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = d.chance(0.3) ? 1 + d.int(8) : 1 + d.int(4000);
    pieces.push(bytes.subarray(at, at + n));
    delays.push(d.chance(0.3) ? d.int(15) : 0);
    at += n;
  }
  const ending: Ending = d.chance(0.7) ? "half-close" : d.chance(0.5) ? "reset" : "silence";
  return { seed, requests, answerable, pieces, delays, ending, mutated };
}

// ---- the server's handler ------------------------------------------------------------------

const handler: Handler = async (req, res) => {
  const [, , seq = "", mode = "text"] = req.path.split("/");
  res.setHeader("X-Seq", /^\d+$/.test(seq) && req.headers.get("x-seq") === seq ? seq : "unknown");
  if (req.method === "HEAD") res.setHeader("X-Head", "1");
  if (mode === "body") return res.setText(`read ${(await req.bytes()).length}`).send();
  if (mode === "stream") {
    const out = res.stream();
    for (let i = 0; i < 3; i++) await out.write(`part ${i}\n`);
    return out.end();
  }
  return res.setText(`${req.method} ${req.path}`).send();
};

// ---- running one stream --------------------------------------------------------------------

interface Outcome {
  received: Buffer;
  summary: ConnectionSummary;
}

/**
 * Writes the plan through `client` and collects everything it receives until the end.
 * Undefined when the server never saw the connection (a TCP client reset before the
 * listener accepted it: the kernel drops it, and there is nothing to check).
 */
async function drive(p: Plan, client: Duplex, summary: Promise<ConnectionSummary>, accepted: () => boolean): Promise<Outcome | undefined> {
  const chunks: Buffer[] = [];
  client.on("data", (c: Buffer) => chunks.push(c));
  client.on("error", () => {}); // a write after the server closed: part of the game
  const ended = new Promise<void>((resolve) => {
    client.once("close", () => resolve());
    client.once("end", () => resolve());
  });
  for (let i = 0; i < p.pieces.length && !client.destroyed && client.writable; i++) {
    if (p.delays[i]! > 0) await new Promise((r) => setTimeout(r, p.delays[i]));
    const ok = client.write(p.pieces[i]);
    if (!ok) await Promise.race([new Promise((r) => client.once("drain", r)), ended]);
  }
  if (p.ending === "half-close") client.end();
  else if (p.ending === "reset") {
    await new Promise((r) => setTimeout(r, 5));
    if (client instanceof net.Socket) client.resetAndDestroy();
    else client.destroy();
  }
  const s = await within(summary, END_WITHIN_MS, `the connection to end (seed ${p.seed}, ${p.ending})`).catch((error: unknown) => {
    if (accepted()) throw error;
    return undefined;
  });
  if (s === undefined) return undefined;
  await within(ended, END_WITHIN_MS, `the client to see the end (seed ${p.seed})`);
  client.destroy();
  return { received: Buffer.concat(chunks), summary: s };
}

function check(p: Plan, { received, summary }: Outcome): void {
  const why = `seed ${p.seed} (${p.requests} requests, ${p.mutated ? "mutated" : "well-formed"}, ${p.pieces.length} pieces, ${p.ending}); reproduce with TOPHAT_FUZZ_SEED`;
  const { responses, error } = parseResponseStream(received, (h) => h["x-head"] === "1");
  const final = responses.filter((r) => r.status >= 200);
  // A reset client may have cut the last response off; otherwise every byte must parse.
  if (p.ending !== "reset") {
    expect(error, `${why}: llhttp refused the response stream:\n${received.toString("latin1").slice(0, 2000)}`).toBeUndefined();
    expect(final.every((r) => r.complete), `${why}: a response was cut short`).toBe(true);
  }
  // Each response answers a request the server parsed, or refuses a head (once: then it closes).
  expect(final.length, `${why}: more responses than requests`).toBeLessThanOrEqual(summary.requests + 1);
  const seqs = final.filter((r) => r.headers["x-seq"] !== undefined && r.headers["x-seq"] !== "unknown").map((r) => Number(r.headers["x-seq"]));
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `${why}: responses out of order or repeated: ${seqs.join(",")}`).toBeGreaterThan(seqs[i - 1]!);
  if (!p.mutated) {
    // A well-behaved client: nothing refused, nothing lost. After a half-close every
    // request is answered, in order, up to the first that closes the connection — its own
    // (Connection: close, HTTP/1.0) or the server's say (a 100-continue body it won't read).
    expect(final.every((r) => r.status < 400), `${why}: a well-formed request was refused`).toBe(true);
    const closedAt = final.findIndex((r) => r.headers["connection"]?.toLowerCase() === "close" || !r.keepAlive);
    const answered = closedAt < 0 ? p.answerable : Math.min(p.answerable, closedAt + 1);
    if (p.ending === "half-close") expect(seqs, `${why}: requests lost`).toEqual(Array.from({ length: answered }, (_, i) => i));
  }
  // A response the handler didn't make is the library's error answer, and the last one.
  final.forEach((r, i) => {
    if (r.headers["x-seq"] === undefined) {
      expect(r.status, `${why}: response ${i} is neither the handler's nor an error`).toBeGreaterThanOrEqual(400);
    }
    if (r.headers["connection"]?.toLowerCase() === "close") expect(i, `${why}: a response after Connection: close`).toBe(final.length - 1);
  });
  expect(summary.requests, `${why}: the summary counts fewer requests than were answered`).toBeGreaterThanOrEqual(seqs.length);
  expect(summary.error?.message ?? "", `${why}: the connection failed`).not.toMatch(/library|bug/);
}

// ---- transports ----------------------------------------------------------------------------

interface Transport {
  open(): Promise<{ client: Duplex; summary: Promise<ConnectionSummary>; accepted(): boolean }>;
  close(): Promise<void>;
}

function inMemory(): Transport {
  return {
    open: async () => {
      const [client, server] = memoryDuplexPair();
      return { client, summary: accept(server, handler, OPTIONS), accepted: () => true };
    },
    close: async () => {},
  };
}

async function overTcp(): Promise<Transport> {
  const pending = new Map<number, Promise<ConnectionSummary>>();
  const waiting = new Map<number, (s: Promise<ConnectionSummary>) => void>();
  const seen = new Set<number>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const summary = accept(socket, handler, OPTIONS);
    const port = socket.remotePort!;
    seen.add(port);
    const w = waiting.get(port);
    if (w) w(summary);
    else pending.set(port, summary);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    open: async () => {
      const client = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      await new Promise((resolve, reject) => client.once("connect", resolve).once("error", reject));
      const local = client.localPort!;
      const summary =
        pending.get(local) ??
        new Promise<ConnectionSummary>((resolve) => {
          waiting.set(local, (s) => void s.then(resolve));
        });
      pending.delete(local);
      return { client, summary, accepted: () => seen.has(local) };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Streams whose connection the TCP listener never accepted (reset first). */
let unaccepted = 0;

async function campaign(transport: Transport, seeds: number[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < seeds.length) {
      const p = plan(seeds[next++]!);
      const { client, summary, accepted } = await transport.open();
      const outcome = await drive(p, client, summary, accepted);
      if (outcome) check(p, outcome);
      else unaccepted++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

// ---- the runs ------------------------------------------------------------------------------

let baselineHeap = 0;
beforeAll(() => {
  gc();
  baselineHeap = process.memoryUsage().heapUsed;
});

afterAll(() => {
  console.log(`[connection-fuzz] base seed ${BASE_SEED}, ${STREAMS} streams per transport; ${unaccepted} TCP connections reset before the listener accepted them`);
});

describe(`whole-connection fuzzing (base seed ${BASE_SEED})`, () => {
  it(`in memory: ${STREAMS} random streams through accept()`, async () => {
    await campaign(inMemory(), Array.from({ length: STREAMS }, (_, i) => BASE_SEED + i));
    expect(log.errors.map((e) => e.message)).toEqual([]);
  }, 120_000);

  it(`over TCP: ${STREAMS} random streams through accept() on real sockets`, async () => {
    const tcp = await overTcp();
    try {
      await campaign(tcp, Array.from({ length: STREAMS }, (_, i) => BASE_SEED + 1_000_000 + i));
    } finally {
      await tcp.close();
    }
    expect(log.errors.map((e) => e.message)).toEqual([]);
  }, 120_000);

  it("memory returns to its baseline afterwards", () => {
    gc();
    const grown = (process.memoryUsage().heapUsed - baselineHeap) / 2 ** 20;
    expect(grown, `heap grew ${grown.toFixed(1)} MiB over ${2 * STREAMS} connections`).toBeLessThan(8);
  });
});
