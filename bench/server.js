// `npm run bench:server`: hello world and a 1 KB JSON response, Tophat vs node:http vs
// fastify, side by side in one run. Each server runs pinned to one core (taskset), wrk on
// the other; servers interleaved, 3 rounds, medians; 50 connections, and pipelined ×16.
// A benchmark, not a test: absolute figures swing ±50% on shared machines; compare ratios.
import { spawn, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = process.env.DURATION ?? "5s";
// raw-floor is no HTTP server: the ceiling net.Socket, the kernel and wrk set (see its file).
const SERVERS = (process.env.SERVERS ?? "node-http,fastify,tophat,raw-floor").split(",");
const SCENARIOS = ["hello", "json"];
const LOADS = [
  { name: "50 connections", args: ["-c", "50"] },
  { name: "pipelined ×16", args: ["-c", "50", "-s", path.join(here, "pipeline.lua")] },
];

for (const tool of ["wrk", "taskset"]) {
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
  } catch {
    console.error(`bench:server needs ${tool} (apt-get install -y wrk util-linux)`);
    process.exit(1);
  }
}

function startServer(name, scenario) {
  const child = spawn("taskset", ["-c", "0", process.execPath, path.join(here, "servers", `${name}.js`)], {
    env: { ...process.env, SCENARIO: scenario, PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
    child.stdout.on("data", (chunk) => {
      const m = /listening (\d+)/.exec(String(chunk));
      if (m) resolve({ child, port: Number(m[1]) });
    });
  });
}

function parseDuration(s) {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "ms" ? v : v * 1000;
}

function runWrk(port, load) {
  const out = execFileSync("taskset", ["-c", "1", "wrk", "-t", "1", "-d", DURATION, "--latency", ...load.args, `http://127.0.0.1:${port}/`], { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = parseDuration(/\s99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? "");
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out)?.[0];
  if (errors) console.error(`  wrk reported: ${errors}`);
  return { rps, p99 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** CPU seconds (user, system) a process has used so far, from /proc (Linux; clock ticks of 10 ms). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}
const results = {};
for (let round = 1; round <= ROUNDS; round++) {
  for (const scenario of SCENARIOS) {
    for (const load of LOADS) {
      for (const name of SERVERS) {
        const { child, port } = await startServer(name, scenario);
        try {
          runWrk(port, { args: ["-c", "10", "-d", "1s"] }); // warm-up
          const before = cpuSeconds(child.pid);
          const r = runWrk(port, load);
          const after = cpuSeconds(child.pid);
          // Server CPU per request: what the server spends, whatever the load generator
          // manages; user (JavaScript, Wasm) and system (socket calls) apart.
          const requests = r.rps * parseDuration(DURATION) / 1000;
          r.userUs = ((after.user - before.user) * 1e6) / requests;
          r.systemUs = ((after.system - before.system) * 1e6) / requests;
          const key = `${scenario}|${load.name}|${name}`;
          (results[key] ??= []).push(r);
          console.error(`round ${round}: ${scenario}, ${load.name}, ${name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99 > 0 ? `${r.p99.toFixed(2)} ms` : "n/a"}, server CPU ${r.userUs.toFixed(1)} µs user + ${r.systemUs.toFixed(1)} µs system per request`);
        } finally {
          child.kill();
        }
      }
    }
  }
}

// The machine's speed swings between rounds (other tenants), so the ratio is taken within
// each round, where the servers ran back to back, and the median of those is reported.
console.log("| response | load | server | req/s (median) | × node:http (median of per-round ratios) | p99 ms (median) | server CPU µs/request, user + system (median) |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const scenario of SCENARIOS) {
  for (const load of LOADS) {
    const base = results[`${scenario}|${load.name}|node-http`];
    for (const name of SERVERS) {
      const rs = results[`${scenario}|${load.name}|${name}`];
      const rps = median(rs.map((r) => r.rps));
      const ratio = median(rs.map((r, i) => r.rps / base[i].rps));
      // wrk can't time pipelined requests (its percentiles come out as 0): say so.
      const p99 = median(rs.map((r) => r.p99));
      const p99Text = p99 > 0 ? p99.toFixed(2) : "n/a";
      const cpu = `${median(rs.map((r) => r.userUs)).toFixed(1)} + ${median(rs.map((r) => r.systemUs)).toFixed(1)}`;
      console.log(`| ${scenario === "json" ? "1 KB JSON" : "hello world"} | ${load.name} | ${name} | ${rps.toFixed(0)} | ${ratio.toFixed(2)} | ${p99Text} | ${cpu} |`);
    }
  }
}
console.log(`\nnode ${process.version}; ${ROUNDS} rounds of ${DURATION} per cell; servers pinned to CPU 0, wrk (1 thread) to CPU 1.`);
