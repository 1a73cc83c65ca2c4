// `node bench/cpuprofile-top.js <file.cpuprofile> [N]`: the N (default 10) items with the
// most self time in a V8 CPU profile (from `node --cpu-prof`, e.g. `PROFILE=tophat npm run
// bench:server`), functions of the same name and place summed, with their share of the
// samples. Idle time ("(idle)") is listed but left out of the shares' denominator, so the
// shares are of the time the process was busy.
import { readFileSync } from "node:fs";
import path from "node:path";

const [file, n = "10"] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// Self time per node: each sample's time delta belongs to the node it hit (deltas are the
// time since the previous sample, so delta i + 1 is attributed to sample i).
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
}
const totals = new Map();
let busy = 0;
let idle = 0;
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id).callFrame;
  const name = functionName || "(anonymous)";
  if (name === "(idle)") {
    idle += us;
    continue;
  }
  busy += us;
  const where = url ? `${path.basename(url)}:${lineNumber + 1}` : "";
  const key = `${name} ${where}`.trim();
  totals.set(key, (totals.get(key) ?? 0) + us);
}
console.log(`busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`);
console.log("| # | self time, % of busy | item |");
console.log("| --- | --- | --- |");
[...totals]
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(n))
  .forEach(([key, us], i) => console.log(`| ${i + 1} | ${((100 * us) / busy).toFixed(1)} | \`${key}\` |`));
