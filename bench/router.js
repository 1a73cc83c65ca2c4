// `npm run bench:router`: the cost of routing with 100 routes — Tophat's Router (a tree of
// segments) against find-my-way (fastify's radix-tree router) and a linear scan of
// regular expressions (what a naive router does). Each router gets the same 100 routes
// (static, parameters, nested, catch-all) and the same mix of request paths; the figure is
// nanoseconds per lookup-and-dispatch, median of 7 runs. The Router is called through its
// Handler (`router.route`), with a stand-in request carrying method and path: the cost
// measured is matching, decoding and setting params — what a request pays for routing.
// `BASELINE=<an older build's dist/host/conveniences/router/index.js>` adds that build's
// Router as a row of the same run, for before/after figures side by side.
import FindMyWay from "find-my-way";
import { Router } from "tophat";

const Baseline = process.env.BASELINE ? (await import(new URL(process.env.BASELINE, `file://${process.cwd()}/`).href)).Router : undefined;

const RESOURCES = ["users", "orgs", "repos", "issues", "pulls", "teams", "projects", "gists", "events", "labels"];
/** 100 patterns in the three syntaxes. */
function patterns() {
  const list = [];
  for (const r of RESOURCES) {
    list.push([`/${r}`, `/${r}`]);
    list.push([`/${r}/:id`, `/${r}/:id`]);
    list.push([`/${r}/:id/comments`, `/${r}/:id/comments`]);
    list.push([`/${r}/:id/comments/:cid`, `/${r}/:id/comments/:cid`]);
    list.push([`/${r}/:id/settings`, `/${r}/:id/settings`]);
    list.push([`/${r}/search`, `/${r}/search`]);
    list.push([`/api/v1/${r}`, `/api/v1/${r}`]);
    list.push([`/api/v1/${r}/:id`, `/api/v1/${r}/:id`]);
    list.push([`/api/v1/${r}/:id/history`, `/api/v1/${r}/:id/history`]);
    list.push([`/static/${r}/*path`, `/static/${r}/*`]);
  }
  return list;
}
const PATHS = ["/users", "/repos/12345", "/issues/77/comments/3", "/api/v1/teams/9/history", "/static/gists/css/site.css", "/labels/search", "/orgs/acme/settings", "/pulls/8/comments"];
/** A path no route matches: each router's 404 path, timed on its own. */
const MISS = "/nope/not/here";

const handler = async () => 0;
const swallow = () => 0;

function tophat(RouterClass = Router) {
  const router = new RouterClass();
  for (const [p] of patterns()) router.get(p, handler);
  // The 404 rejects: `time` consumes every router's promise the same way, with one
  // `.catch` (as a server consumes any handler's with one `then(ok, failed)`). (Until
  // 2026-12-02 only this wrapper chained a `.catch`, a second promise and microtask the
  // other routers didn't pay: ~30–40 ns of a matched request.)
  return (path) => router.route({ method: "GET", path, params: undefined, state: undefined }, undefined);
}

function findMyWay() {
  const router = FindMyWay();
  for (const [, p] of patterns()) router.on("GET", p, handler);
  return (path) => {
    const found = router.find("GET", path);
    return found ? found.handler({ params: found.params }) : Promise.resolve(0);
  };
}

function regexScan() {
  const routes = patterns().map(([p]) => {
    const names = [];
    const source = p.replace(/\/:(\w+)/g, (_, n) => (names.push(n), "/([^/]+)")).replace(/\/\*(\w+)$/, (_, n) => (names.push(n), "/(.*)"));
    return { re: new RegExp(`^${source}$`), names };
  });
  return (path) => {
    for (const { re, names } of routes) {
      const m = re.exec(path);
      if (m === null) continue;
      const params = {};
      names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
      return handler({ params });
    }
    return Promise.resolve(0);
  };
}

async function time(lookup, rounds, paths) {
  const start = process.hrtime.bigint();
  // A 404 rejects with Tophat's router and resolves with the others: caught, not thrown
  // into this loop (rethrowing at an await costs a throw, which no server pays).
  for (let i = 0; i < rounds; i++) await lookup(paths[i % paths.length]).catch(swallow);
  return Number(process.hrtime.bigint() - start) / rounds;
}

const ROUNDS = Number(process.env.ROUNDS ?? 400_000);
const routers = { "tophat Router": tophat(), ...(Baseline ? { "tophat Router (BASELINE)": tophat(Baseline) } : {}), "find-my-way": findMyWay(), "regex scan": regexScan() };
const hits = {};
const misses = {};
for (const name of Object.keys(routers)) (hits[name] = []), (misses[name] = []);
for (const lookup of Object.values(routers)) await time(lookup, 50_000, [...PATHS, MISS]); // warm-up
for (let run = 0; run < 7; run++) {
  for (const [name, lookup] of Object.entries(routers)) {
    hits[name].push(await time(lookup, ROUNDS, PATHS));
    misses[name].push(await time(lookup, ROUNDS / 10, [MISS]));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`100 routes; ${PATHS.length} matching paths in turn, ${ROUNDS} lookups × 7 runs; medians (Node ${process.version})`);
console.log("| router | ns per matched request | ns per unmatched request (404) |\n| --- | --- | --- |");
for (const name of Object.keys(routers)) console.log(`| ${name} | ${median(hits[name]).toFixed(0)} | ${median(misses[name]).toFixed(0)} |`);
// The measure: the ratio in each run (both routers timed back to back), its median.
const ratio = (a, b) => median(a.map((x, i) => x / b[i])).toFixed(2);
console.log(`\ntophat Router ÷ find-my-way, median of the per-run ratios: matched ${ratio(hits["tophat Router"], hits["find-my-way"])}, 404 ${ratio(misses["tophat Router"], misses["find-my-way"])}`);
