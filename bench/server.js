// `npm run bench:server`: Tophat vs node:http (and fastify, and the raw node:net floor)
// side by side in one run. Each server runs pinned to one core (taskset), the load
// generator on the other; servers interleaved within each round, ROUNDS rounds, medians of
// per-round ratios. Scenarios (SCENARIOS=a,b,… picks some; all by default):
//   hello, json      hello world and a 1 KB JSON response: 50 connections, and pipelined ×16 (wrk)
//   tls              hello world over TLS, 50 connections: serve({ tls }) vs node:https vs a tls.Server floor (wrk)
//   download         a 1 MiB response, 50 connections: req/s and MiB/s (wrk)
//   upload-length    one UPLOAD_MB (default 1024) MiB POST with Content-Length, written 64 KiB at a time (a Node client here)
//   upload-chunked   the same, chunked, 64 KiB chunks
//   idle             heap and RSS per idle keep-alive connection, IDLE (10 000) held: bench/faults.js's
//                    first scenario (FAULTS_ONLY=idle), run once: memory doesn't swing like speed
// A benchmark, not a test: absolute figures swing ±50% on shared machines; compare ratios.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = process.env.DURATION ?? "5s";
const UPLOAD_BYTES = Number(process.env.UPLOAD_MB ?? 1024) * 1024 * 1024;
const MIB = 1024 * 1024;
// raw-floor is no HTTP server: the ceiling net.Socket, the kernel and wrk set (see its file).
const SERVERS = (process.env.SERVERS ?? "node-http,fastify,tophat,raw-floor").split(",");
const SCENARIOS = (process.env.SCENARIOS ?? "hello,json,tls,download,upload-length,upload-chunked,idle").split(",");
const FIFTY = { name: "50 connections", args: ["-c", "50"] };
const PIPELINED = { name: "pipelined ×16", args: ["-c", "50", "-s", path.join(here, "pipeline.lua")] };
// What each scenario runs: the server's SCENARIO, the loads (wrk) or the upload framing, and
// which servers take part (fastify only where it always was: its body parsing and TLS
// would need set-up of their own).
const PLAN = {
  hello: { label: "hello world", server: "hello", loads: [FIFTY, PIPELINED], servers: SERVERS },
  json: { label: "1 KB JSON", server: "json", loads: [FIFTY, PIPELINED], servers: SERVERS },
  tls: { label: "hello world, TLS", server: "tls", loads: [FIFTY], servers: SERVERS.filter((s) => s !== "fastify"), https: true },
  download: { label: "1 MiB download", server: "download", loads: [FIFTY], servers: SERVERS.filter((s) => s !== "fastify"), bytes: MIB },
  "upload-length": { label: "upload, Content-Length, 64 KiB writes", server: "upload", upload: "length", servers: SERVERS.filter((s) => s !== "fastify") },
  "upload-chunked": { label: "upload, chunked, 64 KiB chunks", server: "upload", upload: "chunked", servers: SERVERS.filter((s) => s !== "fastify") },
};

for (const tool of ["wrk", "taskset"]) {
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
  } catch {
    console.error(`bench:server needs ${tool} (apt-get install -y wrk util-linux)`);
    process.exit(1);
  }
}

// Pin this process (the upload client) to CPU 1, away from the servers on CPU 0; wrk is
// pinned there on its own.
execFileSync("taskset", ["-cp", "1", String(process.pid)], { stdio: "ignore" });

// A self-signed certificate made for this run (EC P-256: what a server would use today).
const tlsDir = mkdtempSync(path.join(tmpdir(), "tophat-bench-"));
const TLS_KEY = path.join(tlsDir, "key.pem");
const TLS_CERT = path.join(tlsDir, "cert.pem");
if (SCENARIOS.includes("tls")) {
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", TLS_KEY, "-out", TLS_CERT, "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
}
process.on("exit", () => rmSync(tlsDir, { recursive: true, force: true }));

// PROFILE=<server> runs that server under --cpu-prof, the profiles written to PROFILE_DIR
// (default ./profiles) when it is stopped (the servers exit on SIGTERM for this).
const PROFILE = process.env.PROFILE;
const PROFILE_DIR = path.resolve(process.env.PROFILE_DIR ?? "profiles");

function startServer(name, scenario) {
  const nodeArgs = name === PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn("taskset", ["-c", "0", process.execPath, ...nodeArgs, path.join(here, "servers", `${name}.js`)], {
    env: { ...process.env, SCENARIO: scenario, PORT: "0", TLS_KEY, TLS_CERT, UPLOAD_BYTES: String(UPLOAD_BYTES) },
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

function stopServer(child) {
  const exited = once(child, "exit");
  child.kill();
  return exited;
}

function parseDuration(s) {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "ms" ? v : v * 1000;
}

function runWrk(url, load) {
  const out = execFileSync("taskset", ["-c", "1", "wrk", "-t", "1", "-d", DURATION, "--latency", ...load.args, url], { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = parseDuration(/\s99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? "");
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out)?.[0];
  if (errors) console.error(`  wrk reported: ${errors}`);
  return { rps, p99 };
}

/**
 * One upload of `bytes` on a fresh connection: the head, then 64 KiB writes (each waits
 * for 'drain' when the socket buffers), chunked or with Content-Length; timed from the
 * first byte written to the whole response read. Checks the count the server answers.
 */
async function upload(port, framing, bytes, checkCount) {
  const socket = net.connect(port, "127.0.0.1");
  await once(socket, "connect");
  const piece = Buffer.alloc(64 * 1024, "u");
  // A chunk's framing is written with it, in one buffer: one write per 64 KiB either way.
  const chunk = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]);
  let received = "";
  const answered = new Promise((resolve, reject) => {
    socket.on("data", (data) => {
      received += data;
      const end = received.indexOf("\r\n\r\n");
      const length = Number(/content-length: *(\d+)/i.exec(received)?.[1]);
      if (end !== -1 && received.length >= end + 4 + length) resolve(received.slice(end + 4));
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`closed before answering: ${received.slice(0, 200)}`)));
  });
  answered.catch(() => {}); // awaited below; a failure mid-write surfaces there
  const started = performance.now();
  socket.write(framing === "length" ? `POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: ${bytes}\r\n\r\n` : "POST /upload HTTP/1.1\r\nHost: bench\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (let sent = 0; sent < bytes; sent += piece.length) {
    if (!socket.write(framing === "length" ? piece : chunk)) await Promise.race([once(socket, "drain"), answered]);
  }
  if (framing === "chunked") socket.write("0\r\n\r\n");
  const body = await answered;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  if (!received.startsWith("HTTP/1.1 200") || (checkCount && body !== String(bytes))) throw new Error(`upload answered ${received.slice(0, 200)}`);
  return seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** CPU seconds (user, system) a process has used so far, from /proc (Linux; clock ticks of 10 ms). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

// taskset's child is the server (taskset execs it), so child.pid is the server's pid.
const results = {};
for (let round = 1; round <= ROUNDS; round++) {
  for (const scenario of SCENARIOS) {
    const plan = PLAN[scenario];
    if (!plan) continue;
    for (const load of plan.loads ?? [{ name: "1 connection" }]) {
      for (const name of plan.servers) {
        const { child, port } = await startServer(name, plan.server);
        try {
          let r;
          let units; // requests, or MiB uploaded
          if (plan.upload) {
            // Warm-up (the floor has nothing to warm, and answers only after UPLOAD_BYTES).
            if (name !== "raw-floor") await upload(port, plan.upload, 16 * MIB, false);
            const before = cpuSeconds(child.pid);
            const seconds = await upload(port, plan.upload, UPLOAD_BYTES, name !== "raw-floor");
            const after = cpuSeconds(child.pid);
            r = { mibs: UPLOAD_BYTES / MIB / seconds };
            units = UPLOAD_BYTES / MIB / 1024; // GiB
            r.userUs = ((after.user - before.user) * 1e6) / units;
            r.systemUs = ((after.system - before.system) * 1e6) / units;
            console.error(`round ${round}: ${scenario}, ${name}: ${r.mibs.toFixed(0)} MiB/s, server CPU ${(r.userUs / 1000).toFixed(0)} ms user + ${(r.systemUs / 1000).toFixed(0)} ms system per GiB`);
          } else {
            const url = `${plan.https ? "https" : "http"}://127.0.0.1:${port}/`;
            runWrk(url, { args: ["-c", "10", "-d", "1s"] }); // warm-up
            const before = cpuSeconds(child.pid);
            r = runWrk(url, load);
            const after = cpuSeconds(child.pid);
            // Server CPU per request: what the server spends, whatever the load generator
            // manages; user (JavaScript, Wasm) and system (socket calls) apart.
            units = (r.rps * parseDuration(DURATION)) / 1000;
            r.userUs = ((after.user - before.user) * 1e6) / units;
            r.systemUs = ((after.system - before.system) * 1e6) / units;
            if (plan.bytes) r.mibs = (r.rps * plan.bytes) / MIB;
            console.error(`round ${round}: ${scenario}, ${load.name}, ${name}: ${r.rps.toFixed(0)} req/s${r.mibs ? ` (${r.mibs.toFixed(0)} MiB/s)` : ""}, p99 ${r.p99 > 0 ? `${r.p99.toFixed(2)} ms` : "n/a"}, server CPU ${r.userUs.toFixed(1)} µs user + ${r.systemUs.toFixed(1)} µs system per request`);
          }
          (results[`${scenario}|${load.name}|${name}`] ??= []).push(r);
        } finally {
          await stopServer(child);
        }
      }
    }
  }
}

// The machine's speed swings between rounds (other tenants), so ratios are taken within
// each round, where the servers ran back to back, and the median of those is reported:
// × node:http, and the share of the floor (this server ÷ raw-floor).
const ratio = (rs, base, field) => (base ? median(rs.map((r, i) => r[field] / base[i][field])).toFixed(2) : "n/a");
const wrkScenarios = SCENARIOS.filter((s) => PLAN[s]?.loads);
if (wrkScenarios.length) {
  console.log("| response | load | server | req/s (median) | MiB/s (median) | × node:http (median of per-round ratios) | share of floor (median of per-round ratios) | p99 ms (median) | server CPU µs/request, user + system (median) |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const scenario of wrkScenarios) {
    const plan = PLAN[scenario];
    for (const load of plan.loads) {
      const base = results[`${scenario}|${load.name}|node-http`];
      const floor = results[`${scenario}|${load.name}|raw-floor`];
      for (const name of plan.servers) {
        const rs = results[`${scenario}|${load.name}|${name}`];
        const rps = median(rs.map((r) => r.rps));
        const mibs = plan.bytes ? median(rs.map((r) => r.mibs)).toFixed(0) : "";
        // wrk can't time pipelined requests (its percentiles come out as 0): say so.
        const p99 = median(rs.map((r) => r.p99));
        const p99Text = p99 > 0 ? p99.toFixed(2) : "n/a";
        const cpu = `${median(rs.map((r) => r.userUs)).toFixed(1)} + ${median(rs.map((r) => r.systemUs)).toFixed(1)}`;
        console.log(`| ${plan.label} | ${load.name} | ${name === "node-http" && plan.https ? "node-https" : name} | ${rps.toFixed(0)} | ${mibs} | ${ratio(rs, base, "rps")} | ${ratio(rs, floor, "rps")} | ${p99Text} | ${cpu} |`);
      }
    }
  }
}
const uploadScenarios = SCENARIOS.filter((s) => PLAN[s]?.upload);
if (uploadScenarios.length) {
  console.log(`\n| upload of ${UPLOAD_BYTES / MIB} MiB | server | MiB/s (median) | × node:http (median of per-round ratios) | share of floor (median of per-round ratios) | server CPU ms/GiB, user + system (median) |`);
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const scenario of uploadScenarios) {
    const plan = PLAN[scenario];
    const base = results[`${scenario}|1 connection|node-http`];
    const floor = results[`${scenario}|1 connection|raw-floor`];
    for (const name of plan.servers) {
      const rs = results[`${scenario}|1 connection|${name}`];
      const cpu = `${(median(rs.map((r) => r.userUs)) / 1000).toFixed(0)} + ${(median(rs.map((r) => r.systemUs)) / 1000).toFixed(0)}`;
      console.log(`| ${plan.label} | ${name} | ${median(rs.map((r) => r.mibs)).toFixed(0)} | ${ratio(rs, base, "mibs")} | ${ratio(rs, floor, "mibs")} | ${cpu} |`);
    }
  }
}
if (wrkScenarios.length || uploadScenarios.length) {
  console.log(`\nnode ${process.version}; ${ROUNDS} rounds of ${DURATION} per wrk cell, one upload of ${UPLOAD_BYTES / MIB} MiB per upload cell; servers pinned to CPU 0, wrk (1 thread) and the upload client to CPU 1.`);
}

// Memory per idle connection: bench/faults.js's first scenario, its table passed through.
if (SCENARIOS.includes("idle")) {
  const faults = spawn(process.execPath, [path.join(here, "faults.js")], { env: { ...process.env, FAULTS_ONLY: "idle" }, stdio: ["ignore", "pipe", "inherit"] });
  let table = "";
  faults.stdout.on("data", (d) => (table += d));
  const [code] = await once(faults, "exit");
  console.log(`\n${table.trim()}`);
  if (code !== 0) process.exitCode = 1;
}
