// `node bench/ab-in-process.js <A> <B>`: the server's JavaScript cost per request (as in
// bench/in-process.js: a fake socket, pipelined GETs, no system calls) for two builds of
// the library in ONE process, their runs interleaved round by round, so that a machine
// whose speed drifts (shared, throttled) slows both alike. A and B are folders holding a
// built `dist/host/index.js` (a checkout of each commit, built with `npx tsc -p
// tsconfig.build.json`, the .wasm files copied into its dist/). SUBSCRIBE=1 attaches a
// no-op listener to every tophat.server.* diagnostics channel before the first request, for
// the whole run (as an APM agent does at start-up; subscribing and unsubscribing between
// runs would change the channels' prototypes under the JIT, a cost no real server pays).
// ROUNDS (default 15) rounds, each starting with the next variant, of REQUESTS (default 100 000) requests each; BATCH as in
// in-process.js (default 16). Reports the median µs per request of each, in CPU time
// (process.cpuUsage: this process's own work, which other processes' load on a shared
// machine disturbs far less than the wall clock) and in wall time.
import diagnostics from "node:diagnostics_channel";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { drive, responseSize as sizeOf } from "./fake-peer.js";

const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error("usage: node bench/ab-in-process.js <folder A> <folder B>");
const BATCH = Number(process.env.BATCH ?? 16);
const REQUESTS = Number(process.env.REQUESTS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const CHANNELS = ["request.start", "response.head", "response.finish", "request.error"].map((name) => `tophat.server.${name}`);
const noop = () => {};

const handler = (_req, res) => res.setText("Hello, World!").send();
const connectTo = (accept) => (socket) => void accept(socket, handler).catch((error) => console.error("connection failed", error));
let responseSize = 0;
/** Runs `requests` requests through a fresh connection; resolves with CPU and wall µs per request. */
async function run(accept, requests) {
  const { ms, cpuUs } = await drive(connectTo(accept), { requests, batch: BATCH, responseBytes: responseSize });
  return { cpu: cpuUs / requests, wall: (ms * 1000) / requests };
}

const load = async (dir) => (await import(pathToFileURL(path.resolve(dir, "dist/host/index.js")).href)).accept;
const builds = { A: await load(dirA), B: await load(dirB) };
responseSize = await sizeOf(connectTo(builds.A));
if ((await sizeOf(connectTo(builds.B))) !== responseSize) throw new Error("the two builds answer with different sizes");
const SUBSCRIBED = process.env.SUBSCRIBE === "1";
if (SUBSCRIBED) for (const c of CHANNELS) diagnostics.subscribe(c, noop);
const variants = [
  ["A", builds.A],
  [SUBSCRIBED ? "B (subscribed)" : "B", builds.B],
];
const results = Object.fromEntries(variants.map(([name]) => [name, []]));
for (const [, accept] of variants) await run(accept, 20_000); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  // Each round starts with a different variant: whatever the previous run leaves behind
  // (garbage to collect, a cooled cache) falls on each in turn.
  const order = variants.map((_, i) => variants[(i + round) % variants.length]);
  for (const [name, accept] of order) results[name].push(await run(accept, REQUESTS));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const cpuOf = (name) => results[name].map((r) => r.cpu);
const wallOf = (name) => results[name].map((r) => r.wall);
const base = median(cpuOf("A"));
const variantNames = Object.keys(results);
console.log(`A/B in one process, ${BATCH} pipelined per batch, ${ROUNDS} interleaved rounds of ${REQUESTS} requests, hello world${SUBSCRIBED ? ", tophat.server.* subscribed" : ""} (Node ${process.version})`);
console.log("| build | CPU µs per request (median) | CPU min–max | vs A (CPU median) | wall µs (median) |\n| --- | --- | --- | --- | --- |");
for (const name of variantNames) {
  const cpu = cpuOf(name);
  const change = (((median(cpu) - base) / base) * 100).toFixed(1);
  console.log(`| ${name} | ${median(cpu).toFixed(3)} | ${Math.min(...cpu).toFixed(3)}–${Math.max(...cpu).toFixed(3)} | ${change}% | ${median(wallOf(name)).toFixed(3)} |`);
}
process.exit(0);
