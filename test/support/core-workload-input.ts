/**
 * The inputs of test/support/core-workload.ts, read in Node: every case of the three
 * corpora (and its Host variant), the fuzz corpus of parse-head, and chunked bodies that
 * reach the decoder's limits and edges.
 * @module
 */
import { CHUNKED_EDGE_BODIES, CORPUS_NAMES, latin1, loadCorpora, loadFuzzHeads, withHost } from "./corpora.js";
import type { WorkloadInput } from "./core-workload.js";

/** All of it, as latin1 strings. */
export function workloadInput(): WorkloadInput {
  const corpora = loadCorpora();
  const heads: [string, string][] = [];
  for (const name of CORPUS_NAMES) {
    for (const c of corpora[name]) {
      heads.push([`${name} ${c.id}`, latin1(c.raw)]);
      const added = withHost(c.raw, 0);
      if (added.injected) heads.push([`${name} ${c.id} (Host added)`, latin1(added.bytes)]);
    }
  }
  const wholeHeads = loadFuzzHeads().map((bytes, i): [string, string] => [`fuzz ${i}`, latin1(bytes)]);
  return { heads, wholeHeads, bodies: CHUNKED_EDGE_BODIES.map((b, i): [string, string] => [`edge body ${i} ${JSON.stringify(b.slice(0, 24))}`, b]) };
}

/** The first differences between two runs, by call (at most `limit`). */
export function differences(
  expected: readonly { what: string; outcome: string }[],
  actual: readonly { what: string; outcome: string }[],
  limit = 10,
): string[] {
  const out: string[] = [];
  if (expected.length !== actual.length) out.push(`${actual.length} results where ${expected.length} were expected`);
  for (let i = 0; i < Math.max(expected.length, actual.length) && out.length < limit; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e?.what !== a?.what || e?.outcome !== a?.outcome) {
      out.push(`${e?.what ?? "(none)"}: expected ${e?.outcome ?? "(none)"}, got ${a?.what ?? "(none)"}: ${a?.outcome ?? "(none)"}`);
    }
  }
  return out;
}
