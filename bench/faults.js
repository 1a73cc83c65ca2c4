// `npm run bench:faults`: how the server holds up against idle, broken and hostile clients
// — figures to keep those strengths from regressing. Three scenarios, the server in a child
// process (so the clients' work doesn't share its event loop), pinned to CPU 0 when taskset
// exists, the clients here on CPU 1:
//   1. IDLE (default 10 000) idle keep-alive connections held open (each sent one request):
//      request latency on another connection while they're held, and the server's heap,
//      external memory and RSS per held connection — Tophat and node:http in one run.
//   2. 20 well-behaved keep-alive clients next to ~50 faulty ones (half a head then reset,
//      a request then reset, a half-close mid-body, garbage, slowloris) for SECONDS
//      (default 10): every well-behaved request must be answered once, well-formed.
//   3. 200 slowloris connections against headersTimeoutMs = 2000: when each is dropped.
// A benchmark, not a test: timings are reported, never asserted. The exit code is non-zero
// only if an invariant broke: a well-behaved client's request lost, answered twice or
// answered with something malformed (judged by Node's llhttp, not by our own parser), or
// any malformed response at all.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "tophat";

const here = fileURLToPath(import.meta.url);
const IDLE = Number(process.env.IDLE ?? 10_000);
const SECONDS = Number(process.env.SECONDS ?? 10);
const LATENCY_REQUESTS = Number(process.env.LATENCY_REQUESTS ?? 2000);
const SLOWLORIS = Number(process.env.SLOWLORIS ?? 200);
// FAULTS_ONLY=idle: only scenario 1 (what bench/server.js's idle scenario runs).
const IDLE_ONLY = process.env.FAULTS_ONLY === "idle";
const WELL_BEHAVED = 20;
const FAULTY_PER_KIND = 10; // × 5 kinds = 50 faulty clients at once
const HEADERS_TIMEOUT_MS = 2000;
// How long a well-behaved client waits for an answer before counting its request lost:
// far beyond any latency seen here, so a slow moment isn't mistaken for a loss.
const ANSWER_TIMEOUT_MS = 5000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...args) => console.error(...args);

// ---- the server (child process) ------------------------------------------------------------

async function runServer() {
  const kind = process.env.FAULTS_SERVER;
  const options = JSON.parse(process.env.FAULTS_OPTIONS ?? "{}");
  // What the library logs about client faults: a fault is the client's business, so
  // anything logged as an error here is worth a look (reported, not an invariant).
  const logged = { warn: 0, error: 0, samples: [] };
  const note = (level) => (message, ...rest) => {
    logged[level]++;
    if (logged.samples.length < 5) logged.samples.push(`${level}: ${message} ${rest.map((r) => (r instanceof Error ? `${r.name}: ${r.message}` : String(r))).join(" ")}`);
  };
  const logger = { warn: note("warn"), error: note("error") };
  let port;
  if (kind === "tophat") {
    const server = await serve(
      async (req, res) => {
        // A POST's body is read, so a client that stops mid-body is noticed by the reader.
        if (req.method === "POST") return res.setText(`read ${(await req.text()).length}`).send();
        return res.setText(req.path).send();
      },
      { ...options, logger },
    );
    port = server.port;
  } else {
    const server = http.createServer(
      {
        headersTimeout: options.headersTimeoutMs ?? 60_000,
        // Node checks its headers timeout on this interval (30 s by default); scenario 3
        // shortens it, or node:http would drop a slowloris anywhere between 2 and 32 s.
        connectionsCheckingInterval: options.connectionsCheckingInterval ?? 30_000,
      },
      (req, res) => {
        const reply = (text) => {
          res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
          res.end(text);
        };
        if (req.method !== "POST") return reply(req.url);
        let length = 0;
        req.on("data", (chunk) => (length += chunk.length));
        req.on("end", () => reply(`read ${length}`));
      },
    );
    // node:http's default is 5 s: raised so it holds the idle connections as Tophat does.
    server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5000;
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = server.address().port;
  }
  process.on("message", (message) => {
    if (message !== "stats") return;
    // Two collections: the first may leave garbage that only a second one frees (weak
    // references, finalizers), and per-connection figures are small differences.
    globalThis.gc();
    globalThis.gc();
    process.send({ stats: { ...process.memoryUsage(), logged } });
  });
  process.send({ port });
}

// ---- the parent: starting servers ---------------------------------------------------------

let pin = false;
try {
  execFileSync("which", ["taskset"], { stdio: "ignore" });
  pin = true;
} catch {}

function startServer(kind, options) {
  const args = ["--expose-gc", here];
  const child = pin
    ? spawn("taskset", ["-c", "0", process.execPath, ...args], { env: serverEnv(kind, options), stdio: ["ignore", "inherit", "inherit", "ipc"] })
    : spawn(process.execPath, args, { env: serverEnv(kind, options), stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`the ${kind} server exited with ${code}`));
    child.once("exit", onExit);
    child.once("message", ({ port }) => {
      resolve({
        port,
        /** CPU seconds the server has used so far (user + system), from /proc (Linux). */
        cpu: () => cpuSeconds(child.pid),
        /** The server's process.memoryUsage() after a GC, and what its logger received. */
        stats: () =>
          new Promise((done) => {
            child.once("message", (m) => done(m.stats));
            child.send("stats");
          }),
        stop: () => {
          child.off("exit", onExit);
          child.kill();
          return new Promise((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once("exit", done)));
        },
      });
    });
  });
}

function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN; // not Linux: the CPU columns say n/a
  }
}

const serverEnv = (kind, options) => ({ ...process.env, FAULTS_ROLE: "server", FAULTS_SERVER: kind, FAULTS_OPTIONS: JSON.stringify(options) });

// ---- a strict response reader: Node's llhttp --------------------------------------------------

const require = createRequire(import.meta.url);
// The native parser node:http's client uses (as test/support/llhttp.ts does):
// whether a response is well-formed is judged by a parser that isn't Tophat's.
const { HTTPParser } = require("_http_common");

/** Feeds a connection's bytes to llhttp; calls `onResponse({ status, body, keepAlive })` per complete response. */
class ResponseReader {
  error = undefined;
  #parser = new HTTPParser();
  #current = undefined;
  #closed = false;
  constructor(onResponse) {
    const p = this.#parser;
    p[HTTPParser.kOnMessageBegin] = () => {};
    p[HTTPParser.kOnExecute] = () => {};
    p[HTTPParser.kOnHeaders] = () => {};
    p[HTTPParser.kOnHeadersComplete] = (_major, _minor, _headers, _method, _url, status, _reason, _upgrade, keepAlive) => {
      this.#current = { status, chunks: [], keepAlive };
      return 0;
    };
    p[HTTPParser.kOnBody] = (chunk) => this.#current?.chunks.push(Buffer.from(chunk));
    p[HTTPParser.kOnMessageComplete] = () => {
      const { status, chunks, keepAlive } = this.#current;
      this.#current = undefined;
      onResponse({ status, body: Buffer.concat(chunks).toString("latin1"), keepAlive });
    };
    p.initialize(HTTPParser.RESPONSE, {});
  }
  #executing = false;
  #finishAfter = false;
  push(bytes) {
    if (this.error !== undefined || this.#closed) return;
    this.#executing = true;
    const r = this.#parser.execute(bytes);
    this.#executing = false;
    if (r instanceof Error) this.error = r.code ?? r.message;
    if (this.#finishAfter) this.finish();
  }
  /** The stream ended: a response cut off in the middle is an error. */
  finish() {
    if (this.#closed) return;
    // Closing the native parser from inside one of its own callbacks frees it under
    // execute() (a segfault): wait for execute() to return.
    if (this.#executing) {
      this.#finishAfter = true;
      return;
    }
    if (this.error === undefined) {
      const r = this.#parser.finish();
      if (r instanceof Error) this.error = r.code ?? r.message;
    }
    this.#parser.close();
    this.#closed = true;
  }
  /** True while a response has begun and not ended. */
  get midResponse() {
    return this.#current !== undefined;
  }
}

// ---- a well-behaved keep-alive client ------------------------------------------------------

function connect(port, options = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", ...options }, () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * One keep-alive connection sending one request at a time. `request(path)` resolves with
 * { response, ms } or { failure: "lost" | "malformed" }; a response nobody waited for goes
 * to `unsolicited` (a duplicate, or worse).
 */
class KeepAliveClient {
  waiting = [];
  unsolicited = [];
  closedByServer = false;
  constructor(socket) {
    this.socket = socket;
    this.reader = new ResponseReader((response) => {
      const w = this.waiting.shift();
      if (!w) return this.unsolicited.push(response);
      clearTimeout(w.timer);
      w.resolve({ response, ms: performance.now() - w.start });
    });
    socket.on("data", (chunk) => {
      this.reader.push(chunk);
      if (this.reader.error !== undefined) this.#failAll("malformed");
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      if (!this.leaving) this.closedByServer = true;
      this.reader.finish();
      this.#failAll(this.reader.error !== undefined ? "malformed" : "lost");
    });
  }
  static async open(port) {
    return new KeepAliveClient(await connect(port));
  }
  request(path) {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve({ failure: "lost" });
      const w = { resolve, start: performance.now() };
      w.timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(w), 1);
        resolve({ failure: "lost" });
      }, ANSWER_TIMEOUT_MS);
      this.waiting.push(w);
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: faults\r\n\r\n`);
    });
  }
  #failAll(failure) {
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.resolve({ failure });
    }
  }
  close() {
    this.leaving = true;
    this.socket.destroy();
  }
}

/** Tallies what well-behaved requests got. */
class Tally {
  answered = 0;
  lost = 0;
  duplicated = 0;
  malformed = 0;
  latencies = [];
  /** `result` of request(path); `earlier` holds paths this connection already sent. */
  count(path, result, earlier) {
    if (result.failure === "lost") this.lost++;
    else if (result.failure) this.malformed++;
    else if (result.response.status === 200 && result.response.body === path) {
      this.answered++;
      this.latencies.push(result.ms);
    } else if (earlier.has(result.response.body)) {
      // An answer to an earlier request: that one was answered twice, this one not yet.
      this.duplicated++;
    } else this.malformed++;
  }
  unsolicited(responses, earlier) {
    for (const r of responses) {
      if (earlier.has(r.body)) this.duplicated++;
      else this.malformed++;
    }
  }
  get broken() {
    return this.lost + this.duplicated + this.malformed;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))];
}
const ms = (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "n/a");

/** `count` sequential requests on a fresh connection: the latency any other client sees. */
async function sequentialLatency(port, count, tally) {
  const client = await KeepAliveClient.open(port);
  const earlier = new Set();
  for (let n = 0; n < count; n++) {
    const path = `/latency/${n}`;
    tally.count(path, await client.request(path), earlier);
    earlier.add(path);
  }
  await sleep(20);
  tally.unsolicited(client.unsolicited, earlier);
  client.close();
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

// ---- scenario 1: idle keep-alive connections -------------------------------------------------

async function idleConnections(kind) {
  log(`idle: ${kind}, ${IDLE} connections`);
  // Held for the whole scenario: the defaults (5 s) would close them while we measure.
  const server = await startServer(kind, { keepAliveTimeoutMs: 600_000 });
  const tally = new Tally();
  try {
    // The first latency run doubles as the warm-up, so the baseline heap below includes
    // the compiled code and pools a request touches, not just an idle process.
    const quiet = await sequentialLatency(server.port, LATENCY_REQUESTS, new Tally());
    const before = await server.stats();
    const held = [];
    let dropped = 0;
    const opened = performance.now();
    // 200 connections opening at a time: well inside the listen backlog (511), so what's
    // measured is the server, not SYN retransmissions.
    let next = 0;
    const opener = async () => {
      while (next < IDLE) {
        const i = next++;
        let socket;
        try {
          socket = await connect(server.port);
        } catch {
          tally.lost++;
          continue;
        }
        const ok = await new Promise((resolve) => {
          const reader = new ResponseReader((r) => {
            reader.finish();
            resolve(r.status === 200 && r.body === `/idle/${i}`);
          });
          socket.on("data", (chunk) => {
            reader.push(chunk);
            if (reader.error !== undefined) resolve(false);
          });
          socket.once("close", () => resolve(false));
          socket.write(`GET /idle/${i} HTTP/1.1\r\nHost: bench\r\n\r\n`);
        });
        if (ok) tally.answered++;
        else tally.malformed++;
        socket.removeAllListeners("data");
        socket.on("error", () => {});
        socket.once("close", () => {
          if (!socket.leaving) dropped++;
        });
        held.push(socket);
      }
    };
    await Promise.all(Array.from({ length: 200 }, opener));
    const openSeconds = (performance.now() - opened) / 1000;
    await sleep(500);
    const during = await server.stats();
    const busy = await sequentialLatency(server.port, LATENCY_REQUESTS, tally);
    const stillHeld = held.length - dropped;
    for (const s of held) {
      s.leaving = true;
      s.destroy();
    }
    const per = (field) => (during[field] - before[field]) / IDLE / 1024;
    return {
      kind,
      openSeconds,
      quiet,
      busy,
      heapKiB: per("heapUsed"),
      externalKiB: per("external"),
      rssKiB: per("rss"),
      stillHeld,
      tally,
    };
  } finally {
    await server.stop();
  }
}

// ---- scenario 2: faulty clients around well-behaved ones -------------------------------------

/** Waits until the server closes `socket` or `ms` pass; reports the response (llhttp-parsed) if any. */
function outcome(socket, ms) {
  return new Promise((resolve) => {
    const responses = [];
    const reader = new ResponseReader((r) => responses.push(r));
    const timer = setTimeout(() => done(`no answer in ${ms / 1000} s`), ms);
    const done = (fallback) => {
      clearTimeout(timer);
      reader.finish();
      socket.destroy();
      if (reader.error !== undefined) resolve("malformed");
      else if (responses.length > 0) resolve(responses.map((r) => String(r.status)).join("+"));
      else resolve(fallback);
    };
    socket.on("data", (chunk) => reader.push(chunk));
    socket.on("error", () => {});
    socket.once("close", () => done("closed, no response"));
  });
}

const HEAD = "GET /fault HTTP/1.1\r\nHost: bench\r\nUser-Agent: faults\r\nAccept: */*\r\n\r\n";

// Each returns what the faulty client saw. "reset by client" is the expected outcome of
// the two that leave without reading: the check is that the server survives them (and
// logs nothing as its own failure).
const FAULTS = {
  "half a head, then reset": async (port) => {
    const socket = await connect(port);
    socket.on("error", () => {});
    await new Promise((resolve) => socket.write(HEAD.slice(0, HEAD.length >> 1), resolve));
    await sleep(5); // let the server read it before the reset arrives
    socket.resetAndDestroy();
    return "reset by client";
  },
  "a request, then reset before reading": async (port) => {
    const socket = await connect(port);
    socket.on("error", () => {});
    await new Promise((resolve) => socket.write(HEAD, resolve));
    socket.resetAndDestroy();
    return "reset by client";
  },
  "a body cut by a half-close": async (port) => {
    // allowHalfOpen: after our FIN we still read what the server answers.
    const socket = await connect(port, { allowHalfOpen: true });
    socket.end(`POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: 1000\r\n\r\n${"x".repeat(500)}`);
    return outcome(socket, 5000);
  },
  garbage: async (port) => {
    const socket = await connect(port);
    socket.write(Buffer.concat([randomBytes(256), Buffer.from("\r\n\r\n")]));
    return outcome(socket, 5000);
  },
  "slowloris (a byte every 500 ms)": async (port) => {
    const socket = await connect(port);
    const result = outcome(socket, HEADERS_TIMEOUT_MS + 5000);
    const trickle = "GET /slow HTTP/1.1\r\nHost: bench\r\nX-Slow: " + "a".repeat(1000);
    for (let i = 0; i < trickle.length && !socket.destroyed; i++) {
      socket.write(trickle[i]);
      await sleep(500);
    }
    return result;
  },
};

async function faultyClients() {
  log(`faults: ${WELL_BEHAVED} well-behaved clients, ${FAULTY_PER_KIND * Object.keys(FAULTS).length} faulty ones, ${SECONDS} s`);
  // headersTimeoutMs as in scenario 3, so the slowloris clients are dropped within the run.
  const server = await startServer("tophat", { headersTimeoutMs: HEADERS_TIMEOUT_MS });
  try {
    // The well-behaved clients alone first, for the latency they see without faults.
    const quiet = await wellBehaved(server, Math.max(2, SECONDS * 0.3));
    const before = await server.stats();
    const outcomes = {};
    const deadline = performance.now() + SECONDS * 1000;
    const faulty = Object.entries(FAULTS).flatMap(([name, attempt]) =>
      Array.from({ length: FAULTY_PER_KIND }, async () => {
        const seen = (outcomes[name] ??= {});
        while (performance.now() < deadline) {
          let result;
          try {
            result = await attempt(server.port);
          } catch (error) {
            result = `connect failed: ${error.code ?? error.message}`;
          }
          seen[result] = (seen[result] ?? 0) + 1;
          // A short pause: ~50 clients misbehaving, not a connection flood.
          await sleep(10);
        }
      }),
    );
    const [loaded] = await Promise.all([wellBehaved(server, SECONDS), ...faulty]);
    await sleep(1000); // let the server finish with the last faulty connections
    const after = await server.stats();
    return { quiet, loaded, outcomes, logged: after.logged, heapGrowthKiB: (after.heapUsed - before.heapUsed) / 1024 };
  } finally {
    await server.stop();
  }
}

/** WELL_BEHAVED keep-alive clients sending `/ok/<client>/<n>` one after another for `seconds`. */
async function wellBehaved(server, seconds) {
  const port = server.port;
  const tally = new Tally();
  // Both processes' CPU over the phase: whether a slowdown is the server's or the
  // client's (the clients, faulty and well-behaved, share one core).
  const serverCpu = server.cpu();
  const clientCpu = process.cpuUsage();
  let reconnects = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: WELL_BEHAVED }, async (_, c) => {
      let n = 0;
      while (performance.now() < deadline) {
        // A connection the server closed (it shouldn't) is replaced and counted.
        let client;
        try {
          client = await KeepAliveClient.open(port);
        } catch {
          tally.lost++; // a refused connection is a request that wasn't answered
          await sleep(10);
          continue;
        }
        const earlier = new Set();
        while (performance.now() < deadline && !client.socket.destroyed) {
          const path = `/ok/${c}/${n++}`;
          tally.count(path, await client.request(path), earlier);
          earlier.add(path);
        }
        await sleep(50); // a duplicate arriving late still counts
        tally.unsolicited(client.unsolicited, earlier);
        if (client.closedByServer) reconnects++;
        client.close();
      }
    }),
  );
  const elapsed = (performance.now() - deadline) / 1000 + seconds;
  const client = process.cpuUsage(clientCpu);
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  return {
    tally,
    reconnects,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    seconds,
    serverCpu: (server.cpu() - serverCpu) / elapsed,
    clientCpu: (client.user + client.system) / 1e6 / elapsed,
  };
}

// ---- scenario 3: slowloris against the headers timeout ---------------------------------------

async function slowloris(kind) {
  log(`slowloris: ${kind}, ${SLOWLORIS} connections, headers timeout ${HEADERS_TIMEOUT_MS} ms`);
  const server = await startServer(kind, { headersTimeoutMs: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 500 });
  try {
    const results = await Promise.all(
      Array.from({ length: SLOWLORIS }, async () => {
        const socket = await connect(server.port);
        const start = performance.now();
        let answeredAt;
        const responses = [];
        const reader = new ResponseReader((r) => {
          answeredAt ??= performance.now() - start;
          responses.push(r);
        });
        socket.on("data", (chunk) => reader.push(chunk));
        socket.on("error", () => {});
        const closed = new Promise((resolve) => socket.once("close", () => resolve(performance.now() - start)));
        const trickle = "GET /slow HTTP/1.1\r\nHost: bench\r\nX-Slow: " + "a".repeat(1000);
        const give = setTimeout(() => socket.destroy(), HEADERS_TIMEOUT_MS * 5);
        // A byte every 100 ms: the head always makes progress, never ends.
        (async () => {
          for (let i = 0; i < trickle.length && !socket.destroyed; i++) {
            socket.write(trickle[i]);
            await sleep(100);
          }
        })();
        const closedAt = await closed;
        clearTimeout(give);
        reader.finish();
        const status = reader.error !== undefined ? "malformed" : responses.length ? responses.map((r) => r.status).join("+") : "none";
        return { status, closedAt, answeredAt, cut: closedAt >= HEADERS_TIMEOUT_MS * 5 };
      }),
    );
    return { kind, results };
  } finally {
    await server.stop();
  }
}

// ---- main ------------------------------------------------------------------------------------

function ensureFileLimit() {
  const need = IDLE + 1000;
  const soft = Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim());
  if (!(soft < need)) return true;
  if (process.env.FAULTS_RAISED) {
    console.error(`bench:faults needs ${need} open files per process (ulimit -n is ${soft}); run it as \`ulimit -n ${need} && node bench/faults.js\`, or with a smaller IDLE=`);
    process.exit(2);
  }
  // Re-run this script under a shell that raised the limit (a process can't raise its own
  // from JavaScript); the child server inherits it.
  log(`ulimit -n is ${soft}; re-running with ulimit -n ${need}`);
  const child = spawn("sh", ["-c", `ulimit -n ${need} 2>/dev/null; exec "$0" "$@"`, process.execPath, here], {
    stdio: "inherit",
    env: { ...process.env, FAULTS_RAISED: "1" },
  });
  child.on("exit", (code) => process.exit(code ?? 1));
  return false;
}

async function main() {
  if (!ensureFileLimit()) return;
  if (pin) {
    try {
      execFileSync("taskset", ["-cp", "1", String(process.pid)], { stdio: "ignore" });
    } catch {}
  }
  const began = performance.now();
  const idle = [];
  for (const kind of ["tophat", "node-http"]) idle.push(await idleConnections(kind));
  const faults = IDLE_ONLY ? undefined : await faultyClients();
  const loris = [];
  if (!IDLE_ONLY) for (const kind of ["tophat", "node-http"]) loris.push(await slowloris(kind));

  let broken = 0;
  const out = (line = "") => console.log(line);

  out(`### 1. ${IDLE} idle keep-alive connections held\n`);
  out(`Latency: ${LATENCY_REQUESTS} sequential requests on one other connection. Memory: the server's process.memoryUsage() after a GC with the connections held, minus before they were opened, divided by ${IDLE}.\n`);
  out("| server | time to open them (s) | p50 / p99 ms, none held | p50 / p99 ms, all held | heap KiB per connection | external KiB per connection | RSS KiB per connection | still held at the end | well-behaved requests answered / broken |");
  out("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of idle) {
    broken += r.tally.broken;
    out(`| ${r.kind} | ${r.openSeconds.toFixed(1)} | ${ms(r.quiet.p50)} / ${ms(r.quiet.p99)} | ${ms(r.busy.p50)} / ${ms(r.busy.p99)} | ${r.heapKiB.toFixed(2)} | ${r.externalKiB.toFixed(2)} | ${r.rssKiB.toFixed(2)} | ${r.stillHeld} of ${IDLE} | ${r.tally.answered} / ${r.tally.broken} |`);
  }

  if (faults) {
  out(`\n### 2. ${WELL_BEHAVED} well-behaved keep-alive clients among ${FAULTY_PER_KIND * Object.keys(FAULTS).length} faulty ones (Tophat, headersTimeoutMs ${HEADERS_TIMEOUT_MS})\n`);
  out("Malformed: llhttp refused the bytes, or the status or echoed id was wrong. Lost: no answer within 5 s, or the connection closed first.\n");
  out("| phase | seconds | answered | lost | duplicated | malformed | connections the server closed | p50 ms | p99 ms | server CPU | client CPU |");
  out("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const [phase, r] of [["alone", faults.quiet], ["with the faulty clients", faults.loaded]]) {
    broken += r.tally.broken;
    out(`| ${phase} | ${r.seconds} | ${r.tally.answered} | ${r.tally.lost} | ${r.tally.duplicated} | ${r.tally.malformed} | ${r.reconnects} | ${ms(r.p50)} | ${ms(r.p99)} | ${pct(r.serverCpu)} | ${pct(r.clientCpu)} |`);
  }
  out("\n| faulty client | attempts | what it got |");
  out("| --- | --- | --- |");
  for (const [name, seen] of Object.entries(faults.outcomes)) {
    broken += seen.malformed ?? 0;
    const total = Object.values(seen).reduce((a, b) => a + b, 0);
    const what = Object.entries(seen)
      .sort((a, b) => b[1] - a[1])
      .map(([o, n]) => `${o} ×${n}`)
      .join(", ");
    out(`| ${name} | ${total} | ${what} |`);
  }
  out(`\nThe server logged ${faults.logged.error} errors and ${faults.logged.warn} warnings${faults.logged.samples.length ? ` (first: ${faults.logged.samples.join("; ")})` : ""}; its heap after the run (GC'd) was ${faults.heapGrowthKiB >= 0 ? "+" : ""}${faults.heapGrowthKiB.toFixed(0)} KiB from before the faulty clients.`);

  out(`\n### 3. ${SLOWLORIS} slowloris connections (a byte every 100 ms), headersTimeoutMs ${HEADERS_TIMEOUT_MS}\n`);
  out("Time from connecting to the server closing the connection. node:http checks its headers timeout every `connectionsCheckingInterval`, set to 500 ms here (30 s by default).\n");
  out("| server | answered | closed after (ms): min | p50 | p90 | p99 | max |");
  out("| --- | --- | --- | --- | --- | --- | --- |");
  for (const { kind, results } of loris) {
    const statuses = {};
    for (const r of results) {
      const key = r.cut ? "never closed" : r.status;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    broken += statuses.malformed ?? 0;
    const t = results.filter((r) => !r.cut).map((r) => r.closedAt).sort((a, b) => a - b);
    const f = (x) => (Number.isFinite(x) ? x.toFixed(0) : "n/a");
    out(`| ${kind} | ${Object.entries(statuses).map(([s, n]) => `${s} ×${n}`).join(", ")} | ${f(t[0])} | ${f(percentile(t, 0.5))} | ${f(percentile(t, 0.9))} | ${f(percentile(t, 0.99))} | ${f(t[t.length - 1])} |`);
  }
  }

  out(`\nnode ${process.version}; ${pin ? "server pinned to CPU 0, clients to CPU 1" : "no taskset: server and clients unpinned"}; ${((performance.now() - began) / 1000).toFixed(0)} s in all.`);
  if (broken > 0) {
    console.error(`bench:faults: ${broken} broken responses (lost, duplicated or malformed): see the tables`);
    process.exitCode = 1;
  }
}

// Both roles live in this file: the parent drives the clients, the child (started with
// FAULTS_ROLE=server) runs one server and reports its memory on request over IPC. Last in
// the file, so every module-level constant above is initialised before either runs.
if (process.env.FAULTS_ROLE === "server") await runServer();
else await main();
