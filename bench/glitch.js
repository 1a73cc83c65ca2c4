// `npm run bench:glitch`: what an error response costs the code that decides on it — a
// thrown and caught Glitch (with and without a stack trace) against a plain Error and
// against returning a value. Each is thrown a few calls deep (a handler calling a helper
// calling `ensure`), caught by the caller, in interleaved rounds; the figure is
// nanoseconds per throw-and-catch, median of the rounds. It imports from dist/: compile
// the host first (`npx tsc -p tsconfig.build.json`). `BASELINE=<an older build's
// dist/host/http/glitch.js>` adds that build's Glitch to the same run.
import { Glitch } from "tophat";

const Baseline = process.env.BASELINE ? (await import(new URL(process.env.BASELINE, `file://${process.cwd()}/`).href)).Glitch : undefined;

const N = Number(process.env.N ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 9);

/** A few frames between the throw and the catch, as in a handler (not inlined away: the stack is real). */
function depth3(make) {
  return depth2(make);
}
function depth2(make) {
  return depth1(make);
}
function depth1(make) {
  const value = make();
  if (value.message !== undefined) throw value;
  return value;
}

/** ns per call of `make` through depth3, caught; checks that it threw (or returned) every time. */
function run(make, returns) {
  let caught = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    try {
      if (depth3(make).status === 404) caught--;
    } catch (error) {
      if (error.message === "no item 7" || error.message === "no backend") caught++;
    }
  }
  const ns = Number(process.hrtime.bigint() - start) / N;
  if (caught !== (returns ? -N : N)) throw new Error("the case didn't do what it says");
  return ns;
}

const notFound = () => Glitch.notFound("no item 7");
const cases = {
  "return a value (no error)": { make: () => ({ status: 404 }), stacks: "server-errors", returns: true },
  "throw Glitch.notFound() (default: no stack)": { make: notFound, stacks: "server-errors" },
  "throw Glitch.internal() (default: 5xx without cause, stack)": { make: () => Glitch.internal("no backend"), stacks: "server-errors" },
  "throw Glitch.internal(…, { cause }) (default: no stack)": { make: () => Glitch.internal("no backend", { cause: "pool exhausted" }), stacks: "server-errors" },
  'throw Glitch.notFound(), captureStacks "all" (= before)': { make: notFound, stacks: "all" },
  "throw new Error()": { make: () => new Error("no item 7"), stacks: "server-errors" },
  // What the throw itself costs in V8, whatever is thrown.
  "throw { message } (not an Error)": { make: () => ({ message: "no item 7" }), stacks: "server-errors" },
  ...(Baseline ? { "throw Glitch.notFound(), BASELINE build": { make: () => Baseline.notFound("no item 7"), stacks: "server-errors" } } : {}),
};

const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = -1; round < ROUNDS; round++) {
  for (const [name, { make, stacks, returns }] of Object.entries(cases)) {
    Glitch.captureStacks = stacks;
    const ns = run(make, returns === true);
    if (round >= 0) results[name].push(ns);
  }
}
Glitch.captureStacks = "server-errors";

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${N} per round × ${ROUNDS} rounds, interleaved; medians (Node ${process.version}, Error.stackTraceLimit ${Error.stackTraceLimit})`);
console.log("| case | ns per throw + catch |\n| --- | --- |");
for (const [name, xs] of Object.entries(results)) console.log(`| ${name} | ${median(xs).toFixed(0)} |`);
