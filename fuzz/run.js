// Builds the libFuzzer harnesses (fuzz/build.sh), seeds their corpora from the request
// corpora in test/corpora/*.json, runs each harness for FUZZ_SECONDS seconds and prints
// executions, exec/s, coverage (libFuzzer's `cov:` edges), corpus size and any crash file.
//
//   npm run fuzz                                  # every harness, 60 s each
//   FUZZ_SECONDS=300 FUZZ_HARNESSES=parse_head npm run fuzz
//   FUZZ_PARALLEL=1 npm run fuzz                  # harnesses side by side (one core each)
//
// Environment: FUZZ_SECONDS (default 60), FUZZ_HARNESSES (comma-separated; default every
// fuzz/*.c harness), FUZZ_BUILD_DIR (default fuzz/build, gitignored: binaries, generated
// C, corpus/<harness>, artifacts/<harness>, logs/<harness>.log), FUZZ_PARALLEL=1.
// Exits 1 when a harness crashed (an invariant violation, a trap or a sanitizer report).
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const buildDir = path.resolve(process.env.FUZZ_BUILD_DIR ?? path.join(here, "build"));
const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`FUZZ_SECONDS must be a positive number, got ${process.env.FUZZ_SECONDS}`);
const harnesses = process.env.FUZZ_HARNESSES
  ? process.env.FUZZ_HARNESSES.split(",").map((h) => h.trim()).filter(Boolean)
  : readdirSync(here).filter((f) => f.endsWith(".c")).map((f) => f.slice(0, -2)).sort();

// ---- build ---------------------------------------------------------------------------
const built = spawnSync("bash", [path.join(here, "build.sh"), ...harnesses], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_BUILD_DIR: buildDir },
});
if (built.status !== 0) {
  console.error(`fuzz/build.sh failed (${built.signal ?? built.status})`);
  process.exit(2);
}

// ---- seeds ---------------------------------------------------------------------------
/** Every `raw_base64` in the request corpora, decoded. */
function corpusRequests() {
  const out = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "raw_base64" && typeof x === "string") out.push(Buffer.from(x, "base64"));
        else walk(x);
      }
    }
  };
  const dir = path.join(root, "test", "corpora");
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json"))) walk(JSON.parse(readFileSync(path.join(dir, f), "utf8")));
  return out;
}

/** What each request-fed harness is seeded with: whole requests, or the bytes after a head. */
const SEEDS = {
  parse_head: (raw) => [raw],
  chunked_decode: (raw) => {
    const end = raw.indexOf("\r\n\r\n");
    return end >= 0 && end + 4 < raw.length ? [raw.subarray(end + 4)] : [];
  },
};

/** A frame_head input (layout in fuzz/frame_head.c): status, flags, body length, strings. */
function frameInput(status, flags, length, strings) {
  const fixed = Buffer.alloc(11);
  fixed.writeUInt16LE(status, 0);
  fixed[2] = flags;
  fixed.writeBigUInt64LE(BigInt(length), 3);
  return Buffer.concat([fixed, Buffer.from(strings.join("\0"), "utf8")]);
}
const DATE = "Tue, 01 Dec 2026 00:00:00 GMT";
const FRAME_SEEDS = [
  frameInput(200, 2 | 32, 5, [DATE, "Content-Type", "text/plain"]),
  frameInput(200, 0, 0, ["Cache-Control", "no-store"]),
  frameInput(204, 2, 0, []),
  frameInput(304, 2 | 4, 0, ["ETag", '"x"']),
  frameInput(101, 2, 0, ["Upgrade", "websocket", "Connection", "upgrade"]),
  frameInput(200, 2 | 4, 10, ["Content-Length", "10"]),
  frameInput(200, 8, 0, ["Transfer-Encoding", "chunked"]),
  frameInput(404, 1 | 2 | 16, 9, ["Not Here", "Connection", "keep-alive"]),
  frameInput(599, 1, 0, ["Custom Reason"]),
];

const requests = corpusRequests();

function seed(harness) {
  const dir = path.join(buildDir, "seeds", harness);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const inputs = harness === "frame_head" ? FRAME_SEEDS : requests.flatMap(SEEDS[harness] ?? SEEDS.parse_head);
  let n = 0;
  for (const s of inputs) writeFileSync(path.join(dir, `seed-${String(n++).padStart(4, "0")}`), s);
  return { dir, count: n };
}

// ---- run -----------------------------------------------------------------------------
function runHarness(harness) {
  const seeds = seed(harness);
  const corpus = path.join(buildDir, "corpus", harness);
  const artifacts = path.join(buildDir, "artifacts", harness);
  const logs = path.join(buildDir, "logs");
  for (const d of [corpus, artifacts, logs]) mkdirSync(d, { recursive: true });
  const log = path.join(logs, `${harness}.log`);
  const args = [
    `-max_total_time=${seconds}`,
    `-dict=${path.join(here, "http.dict")}`,
    `-artifact_prefix=${artifacts}/`,
    "-print_final_stats=1",
    corpus,
    seeds.dir,
  ];
  const from = harness === "frame_head" ? "built-in responses" : "test/corpora";
  console.log(`\n== ${harness}: ${seconds} s, ${seeds.count} seeds from ${from} (log: ${path.relative(root, log)})`);
  return new Promise((resolve) => {
    const child = spawn(path.join(buildDir, harness), args, { stdio: ["ignore", "pipe", "pipe"] });
    const out = createWriteStream(log);
    let text = "";
    const take = (chunk) => {
      out.write(chunk);
      text += chunk;
      if (text.length > 1 << 20) text = text.slice(-(1 << 19)); // the tail holds the stats
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", (code, signal) => {
      out.end();
      resolve(summarize(harness, text, code, signal, corpus));
    });
  });
}

function last(text, re) {
  let m, found;
  const g = new RegExp(re.source, "g");
  while ((m = g.exec(text)) !== null) found = m;
  return found;
}

function summarize(harness, text, code, signal, corpus) {
  const stat = (name) => last(text, new RegExp(`stat::${name}:\\s*(\\d+)`))?.[1];
  const cov = last(text, /cov: (\d+) ft: (\d+) corp: (\d+)\/(\S+)/);
  const crash = last(text, /Test unit written to (\S+)/)?.[1];
  const why = last(text, /^\*\*\* (.+)$|^==\d+==ERROR: (.+)$|^SUMMARY: (.+)$/m);
  const r = {
    harness,
    executions: Number(stat("number_of_executed_units") ?? NaN),
    execPerSec: Number(stat("average_exec_per_sec") ?? NaN),
    coverageEdges: cov ? Number(cov[1]) : NaN,
    features: cov ? Number(cov[2]) : NaN,
    corpusUnits: cov ? Number(cov[3]) : NaN,
    corpusBytes: cov ? cov[4] : null,
    corpusFiles: existsSync(corpus) ? readdirSync(corpus).length : 0,
    newUnits: Number(stat("new_units_added") ?? NaN),
    peakRssMb: Number(stat("peak_rss_mb") ?? NaN),
    crash: crash ?? null,
    ok: code === 0 && crash === undefined,
  };
  console.log(`   ${harness}: executions ${r.executions}, ${r.execPerSec} exec/s, cov ${r.coverageEdges} edges (ft ${r.features}), ` +
    `corpus ${r.corpusUnits} units/${r.corpusBytes} (${r.corpusFiles} files kept, +${r.newUnits} this run), peak RSS ${r.peakRssMb} MB`);
  if (!r.ok) {
    console.log(`   CRASH (exit ${signal ?? code}): ${why ? (why[1] ?? why[2] ?? why[3]) : "see the log"}`);
    if (crash) console.log(`   crash file: ${crash}\n   reproduce: ${path.join(buildDir, harness)} ${crash}`);
  }
  return r;
}

const results = [];
if (process.env.FUZZ_PARALLEL === "1") results.push(...(await Promise.all(harnesses.map(runHarness))));
else for (const h of harnesses) results.push(await runHarness(h));

writeFileSync(path.join(buildDir, "results.json"), JSON.stringify(results, null, 2) + "\n");
console.log(`\n${results.filter((r) => r.ok).length}/${results.length} harnesses ran without a crash (summary: ${path.relative(root, path.join(buildDir, "results.json"))})`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
