// `npm run bench:compress`: Tophat's compress() against fastify with @fastify/compress, each
// with its defaults (both: brotli quality 4, gzip level 6, 1 KiB threshold), on the same
// payloads (bench/servers/compress-payloads.js: ~1 KB and ~100 KB JSON, ~1 MB text), for
// br and gzip, side by side in one run. Each server runs in its own process; the client
// (this process, node:http, 4 keep-alive connections) counts the encoded bytes and checks
// they decode to the payload; the server reports its own CPU time (user + system, every
// thread: zlib's thread-pool work counts) over the batch. Figures: compressed size and
// ratio, server CPU µs per request (median of ROUNDS batches). A benchmark, not a test.
import { fork } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { payloads } from "./servers/compress-payloads.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SERVERS = ["tophat", "fastify"];
const CODINGS = ["br", "gzip"];
/** Requests per batch, per payload: enough to take ~0.2–1 s each. */
const BATCH = { "/json-1k": 2000, "/json-100k": 300, "/text-1m": 30 };
const CONCURRENCY = 4;

function start(name) {
  const child = fork(path.join(here, "servers", "compress-server.js"), { env: { ...process.env, SERVER: name }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", (m) => resolve({ child, port: m.port }));
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

function cpu(child) {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m.cpu.user + m.cpu.system));
    child.send("cpu");
  });
}

function get(agent, port, p, coding) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: p, agent, headers: { "Accept-Encoding": coding } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

const decode = { br: zlib.brotliDecompressSync, gzip: zlib.gunzipSync };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const servers = {};
for (const name of SERVERS) servers[name] = await start(name);
const rows = [];
for (const [p, { body }] of Object.entries(payloads)) {
  for (const coding of CODINGS) {
    const row = { payload: p, bytes: body.length, coding };
    for (const name of SERVERS) {
      const { child, port } = servers[name];
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const first = await get(agent, port, p, coding);
      if (first.encoding !== coding || !decode[coding](first.body).equals(body)) throw new Error(`${name} ${p} ${coding}: got ${first.encoding}, or bytes that don't decode to the payload`);
      const perRequest = [];
      for (let round = 0; round < ROUNDS; round++) {
        const before = await cpu(child);
        let left = BATCH[p];
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (left-- > 0) await get(agent, port, p, coding);
          }),
        );
        perRequest.push((await cpu(child)) - before);
      }
      agent.destroy();
      row[name] = { size: first.body.length, cpuUs: median(perRequest) / BATCH[p] };
    }
    rows.push(row);
  }
}
for (const { child } of Object.values(servers)) child.kill();

console.log(`Node ${process.version}, ${ROUNDS} batches per cell (median), ${CONCURRENCY} keep-alive connections`);
console.log("| payload | coding | Tophat size (ratio) | @fastify/compress size (ratio) | Tophat CPU µs/req | fastify CPU µs/req |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  const cell = (s) => `${s.size} (${(r.bytes / s.size).toFixed(2)}×)`;
  console.log(`| ${r.payload} (${r.bytes} B) | ${r.coding} | ${cell(r.tophat)} | ${cell(r.fastify)} | ${r.tophat.cpuUs.toFixed(0)} | ${r.fastify.cpuUs.toFixed(0)} |`);
}
