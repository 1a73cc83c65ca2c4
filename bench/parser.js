// `npm run bench:parser`: ns per request and MB/s for three requests, through Tophat's
// thin binding (including the JS request view) and, side by side in the same process,
// Node's native llhttp binding and undici's llhttp WebAssembly build. Interleaved rounds,
// medians. A benchmark, not a test: figures swing between runs; compare ratios.
import { REQUESTS } from "./requests.js";
import { tophatLazy, tophatEager, nodeLlhttp, undiciLlhttp } from "./parsers.js";

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const TARGET_MS = Number(process.env.ROUND_MS ?? 300);

const PARSERS = {
  "tophat (lazy view)": tophatLazy(),
  "tophat (all header strings)": tophatEager(),
  "node llhttp (native)": nodeLlhttp(),
  "undici llhttp (wasm simd)": undiciLlhttp(),
};

let sink = 0;

function timeOnce(parse, buf, iterations) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += parse(buf).method.length;
  return Number(process.hrtime.bigint() - t0) / iterations;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const results = [];
for (const [reqName, buf] of Object.entries(REQUESTS)) {
  // Every parser must agree before it is timed.
  for (const [name, parse] of Object.entries(PARSERS)) {
    const r = parse(buf);
    if (!r.target.startsWith("/")) throw new Error(`${name} parsed ${reqName} wrong: ${r.target}`);
  }
  const iterations = {};
  for (const [name, parse] of Object.entries(PARSERS)) {
    const ns = timeOnce(parse, buf, 20000); // warm-up and calibration
    iterations[name] = Math.max(1000, Math.round((TARGET_MS * 1e6) / ns));
  }
  const samples = Object.fromEntries(Object.keys(PARSERS).map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, parse] of Object.entries(PARSERS)) samples[name].push(timeOnce(parse, buf, iterations[name]));
  }
  for (const name of Object.keys(PARSERS)) {
    const ns = median(samples[name]);
    results.push({ request: reqName, bytes: buf.length, parser: name, ns, mbps: (buf.length / ns) * 1000 });
  }
}

const rows = [["request", "parser", "ns/request", "MB/s", "vs node llhttp", "vs undici wasm"]];
for (const r of results) {
  const node = results.find((x) => x.request === r.request && x.parser.startsWith("node")).ns;
  const undici = results.find((x) => x.request === r.request && x.parser.startsWith("undici")).ns;
  rows.push([`${r.request} (${r.bytes} B)`, r.parser, r.ns.toFixed(0), r.mbps.toFixed(0), (r.ns / node).toFixed(2), (r.ns / undici).toFixed(2)]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
console.log(line(rows[0]));
console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
for (const r of rows.slice(1)) console.log(line(r));
console.log(`\nnode ${process.version}, ${ROUNDS} interleaved rounds of ~${TARGET_MS} ms each, medians. (sink ${sink % 10})`);
