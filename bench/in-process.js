// `npm run bench:in-process`: the server's JavaScript cost per request, without sockets or
// a load generator — for finding and checking per-request savings on a noisy or small
// machine, where `bench:server`'s wrk numbers swing. A fake socket (a stream.Duplex with
// no system calls behind it) feeds each server batches of 16 pipelined GETs and counts the
// response bytes that come back; the next batch goes in when the last one is answered.
// Tophat gets the socket through accept(), node:http through `server.emit("connection")`.
// Reports µs per request (median of 5 runs) for hello world and the ~1 KB JSON response.
// SCENARIOS=hello runs one response kind. BATCH=1 sends one request per turn (the shape of the 50-connection load); ONLY=tophat
// runs one server (for profiling); SUBSCRIBE=1 attaches a no-op listener to every tophat.server.*
// diagnostics channel (the cost of an APM agent's subscription). The "raw floor" row is no HTTP server: it counts heads
// and writes a fixed reply, the least any server over this socket could cost.
import diagnostics from "node:diagnostics_channel";
import http from "node:http";
import { Duplex } from "node:stream";
import { accept } from "tophat";
import { HELLO, JSON_DOC, fixedReply, repliesFor } from "./servers/payload.js";

if (process.env.SUBSCRIBE === "1") {
  for (const name of ["request.start", "response.head", "response.finish", "request.error"]) diagnostics.subscribe(`tophat.server.${name}`, () => {});
}
const BATCH = Number(process.env.BATCH ?? 16);
const REQUESTS = Number(process.env.REQUESTS ?? 200_000);
const REQUEST = "GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: in-process\r\nAccept: */*\r\n\r\n";
const BATCH_BYTES = Buffer.from(REQUEST.repeat(BATCH));

/** A socket whose peer is this process: pushes request batches, counts response bytes. */
class FakeSocket extends Duplex {
  remoteAddress = "127.0.0.1";
  received = 0;
  onBytes = () => {};
  constructor() {
    super({ allowHalfOpen: true });
  }
  _read() {}
  /** When set, every chunk written is kept here. */
  kept = undefined;
  _write(chunk, _encoding, callback) {
    this.kept?.push(chunk);
    this.received += chunk.length;
    this.onBytes();
    callback();
  }
  _writev(chunks, callback) {
    for (const { chunk } of chunks) {
      this.kept?.push(chunk);
      this.received += chunk.length;
    }
    this.onBytes();
    callback();
  }
  setNoDelay() {}
  setKeepAlive() {}
  setTimeout() {}
}

/** Runs `requests` pipelined requests through a fresh connection; resolves with ms taken. */
function drive(connect, requests, responseBytes) {
  return new Promise((resolve) => {
    const socket = new FakeSocket();
    let sent = 0;
    const start = performance.now();
    const pushBatch = () => {
      sent += BATCH;
      socket.push(BATCH_BYTES);
    };
    socket.onBytes = () => {
      if (socket.received < sent * responseBytes) return;
      if (sent >= requests) {
        resolve(performance.now() - start);
        socket.push(null);
        socket.destroy();
        return;
      }
      // Bytes from a real peer arrive on a later turn of the event loop, never inside the
      // server's own write call.
      setImmediate(pushBatch);
    };
    connect(socket);
    pushBatch();
  });
}

/** The size of one response (the Date field has a fixed length, so every response has it). */
function responseSize(connect) {
  return new Promise((resolve, reject) => {
    const socket = new FakeSocket();
    socket.kept = [];
    socket.onBytes = () => {
      const all = Buffer.concat(socket.kept).toString("latin1");
      const end = all.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(all);
      if (end === -1 || length === null || all.length < end + 4 + Number(length[1])) return;
      resolve(end + 4 + Number(length[1]));
    };
    setTimeout(() => reject(new Error("no response in 5 s")), 5_000).unref();
    connect(socket);
    socket.push(Buffer.from(REQUEST));
  });
}

const servers = {
  tophat: (scenario) => {
    const handler = scenario === "json" ? (_req, res) => res.setJson(JSON_DOC).send() : (_req, res) => res.setText(HELLO).send();
    return (socket) => void accept(socket, handler).catch((error) => console.error("tophat connection failed", error));
  },
  "node-http": (scenario) => {
    const server = http.createServer((_req, res) => {
      const body = scenario === "json" ? JSON.stringify(JSON_DOC) : HELLO;
      res.writeHead(200, { "Content-Type": scenario === "json" ? "application/json" : "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
      res.end(body);
    });
    return (socket) => server.emit("connection", socket);
  },
  // A floor, not a server: writes a reply prepared once per request head (see servers/raw-floor.js).
  "raw floor": (scenario) => {
    const reply = fixedReply(scenario);
    return (socket) =>
      socket.on("data", (chunk) => {
        const out = repliesFor(chunk, reply);
        if (out) socket.write(out);
      });
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`in-process, ${BATCH} pipelined requests per batch, ${REQUESTS} requests per run, median of 5 (Node ${process.version})${process.env.SUBSCRIBE === "1" ? ", tophat.server.* channels subscribed" : ""}`);
console.log("| response | server | µs per request | × node:http (time) |\n| --- | --- | --- | --- |");
for (const scenario of (process.env.SCENARIOS ?? "hello,json").split(",")) {
  const results = {};
  const connects = Object.fromEntries(Object.entries(servers).filter(([name]) => !process.env.ONLY || name === process.env.ONLY).map(([name, make]) => [name, make(scenario)]));
  const sizes = {};
  for (const [name, connect] of Object.entries(connects)) {
    sizes[name] = await responseSize(connect);
    await drive(connect, 20_000, sizes[name]); // warm-up
    results[name] = [];
  }
  for (let run = 0; run < 5; run++) {
    for (const [name, connect] of Object.entries(connects)) results[name].push(((await drive(connect, REQUESTS, sizes[name])) * 1000) / REQUESTS);
  }
  const base = median(results["node-http"] ?? [NaN]);
  for (const [name, xs] of Object.entries(results)) console.log(`| ${scenario} | ${name} | ${median(xs).toFixed(2)} | ${(base / median(xs)).toFixed(2)} |`);
}
process.exit(0);
