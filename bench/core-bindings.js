// `npm run bench:bindings`: per-call cost of parse-head on the three requests of
// `bench:parser`, from every host of the core: the TypeScript thin binding, jco's
// generated bindings of the component, the C binding (wasm2c's C of the scalar core;
// beside Node's native llhttp on the same requests) and the Python binding on each of its
// backends (the core module called directly, the default; the same through wasmtime.Func;
// the component through wasmtime's component API; beside Python's own http.client head
// parsing). Only parse-head's call is
// timed (no request view, no header strings); medians of interleaved rounds. A benchmark,
// not a test: figures swing between runs on shared machines, compare within one run.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Core, DEFAULT_LIMITS } from "tophat/core";
import { REQUESTS } from "./requests.js";
import { nodeLlhttp } from "./parsers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const TARGET_MS = Number(process.env.ROUND_MS ?? 300);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
let sink = 0;

function timeOnce(fn, buf, iterations) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += fn(buf) ? 1 : 0;
  return Number(process.hrtime.bigint() - t0) / iterations;
}

// ---- in this process: the thin binding, jco's bindings, Node's llhttp ------------------
const core = Core.load();
const jco = await import(pathToFileURL(path.join(root, "dist", "jco", "tophat-http.js")).href);
const jcoLimits = { maxHeadBytes: 16384, maxHeaders: 100, maxTargetLength: 8192, maxChunkExtensionLength: 1024 };
const llhttp = nodeLlhttp();
const inProcess = {
  "TypeScript thin binding": (b) => core.parseHead(b, DEFAULT_LIMITS).tag === "complete",
  "jco bindings (component)": (b) => jco.parser.parseHead(b, jcoLimits).tag === "complete",
  "Node llhttp (native)": (b) => llhttp(b).method !== undefined,
};
const results = [];
for (const [name, buf] of Object.entries(REQUESTS)) {
  for (const [host, fn] of Object.entries(inProcess)) if (!fn(buf)) throw new Error(`${host} did not parse ${name}`);
  const iterations = {};
  for (const [host, fn] of Object.entries(inProcess)) {
    const ns = timeOnce(fn, buf, 5000);
    iterations[host] = Math.max(500, Math.round((TARGET_MS * 1e6) / ns));
  }
  const samples = Object.fromEntries(Object.keys(inProcess).map((h) => [h, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [host, fn] of Object.entries(inProcess)) samples[host].push(timeOnce(fn, buf, iterations[host]));
  for (const host of Object.keys(inProcess)) results.push({ request: name, host, ns: median(samples[host]) });
}

// ---- other processes: the C and Python bindings ---------------------------------------
const dir = mkdtempSync(path.join(os.tmpdir(), "tophat-bench-bindings-"));
const files = Object.entries(REQUESTS).map(([name, buf], i) => {
  const file = path.join(dir, `request-${i}.http`);
  writeFileSync(file, buf);
  return { name, file };
});
const byFile = new Map(files.map((f) => [f.file, f.name]));
const skipped = [];
try {
  try {
    execFileSync("make", ["-C", path.join(root, "bindings", "c"), "-s"], { stdio: "inherit" });
    const exe = path.join(dir, "parse_head");
    execFileSync("gcc", ["-O2", `-I${path.join(root, "bindings", "c")}`, path.join(root, "bench", "bindings", "parse_head.c"), path.join(root, "bindings", "c", "build", "libtophat.a"), "-lm", "-o", exe]);
    for (const line of execFileSync(exe, files.map((f) => f.file), { encoding: "utf8" }).trim().split("\n")) {
      const r = JSON.parse(line);
      results.push({ request: byFile.get(r.file), host: "C binding (wasm2c, scalar)", ns: r.ns });
    }
  } catch (error) {
    skipped.push(`C binding: ${error.message.split("\n")[0]} (needs gcc, make, wabt)`);
  }
  try {
    const out = execFileSync("python3", [path.join(root, "bench", "bindings", "parse_head.py"), ...files.map((f) => f.file)], {
      encoding: "utf8",
      env: { ...process.env, PYTHONPATH: path.join(root, "bindings", "python") },
    });
    for (const line of out.trim().split("\n")) {
      const r = JSON.parse(line);
      results.push({ request: byFile.get(r.file), host: r.parser === "http.client.parse_headers" ? "Python http.client" : r.parser, ns: r.ns });
    }
  } catch (error) {
    skipped.push(`Python: ${error.message.split("\n")[0]} (needs python3 with wasmtime)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rows = [["request", "host", "ns/call", "vs Node llhttp"]];
for (const r of results) {
  const ll = results.find((x) => x.request === r.request && x.host === "Node llhttp (native)").ns;
  rows.push([`${r.request} (${REQUESTS[r.request].length} B)`, r.host, r.ns.toFixed(0), (r.ns / ll).toFixed(2)]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
console.log(line(rows[0]));
console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
for (const r of rows.slice(1)) console.log(line(r));
for (const s of skipped) console.log(`skipped: ${s}`);
console.log(`\nnode ${process.version}, ${ROUNDS} rounds of ~${TARGET_MS} ms in process (C: 7, Python: 5), medians. (sink ${sink % 10})`);
