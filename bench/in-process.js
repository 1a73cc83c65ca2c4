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
import { accept } from "tophat";
import { drive, responseSize } from "./fake-peer.js";
import { HELLO, JSON_DOC, fixedReply, repliesFor } from "./servers/payload.js";

if (process.env.SUBSCRIBE === "1") {
  for (const name of ["request.start", "response.head", "response.finish", "request.error"]) diagnostics.subscribe(`tophat.server.${name}`, () => {});
}
const BATCH = Number(process.env.BATCH ?? 16);
const REQUESTS = Number(process.env.REQUESTS ?? 200_000);
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
    await drive(connect, { requests: 20_000, batch: BATCH, responseBytes: sizes[name] }); // warm-up
    results[name] = [];
  }
  for (let run = 0; run < 5; run++) {
    for (const [name, connect] of Object.entries(connects)) results[name].push(((await drive(connect, { requests: REQUESTS, batch: BATCH, responseBytes: sizes[name] })).ms * 1000) / REQUESTS);
  }
  const base = median(results["node-http"] ?? [NaN]);
  for (const [name, xs] of Object.entries(results)) console.log(`| ${scenario} | ${name} | ${median(xs).toFixed(2)} | ${(base / median(xs)).toFixed(2)} |`);
}
process.exit(0);
