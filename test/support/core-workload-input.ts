/**
 * The inputs of test/support/core-workload.ts, read in Node: every case of the three
 * corpora (and its Host variant), the fuzz corpus of parse-head, and chunked bodies that
 * reach the decoder's limits and edges.
 * @module
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { CORPUS_NAMES, latin1, loadCorpora, repoRoot, withHost } from "./corpora.js";
import type { WorkloadInput } from "./core-workload.js";

const EDGE_BODIES = [
  "ffffffffffffffff\r\nabc",
  "10000000000000000\r\n",
  "0000000000000000000001\r\nx\r\n0\r\n\r\n",
  "5;a=b;c=\"d e\";f\r\nhello\r\n0;x=y\r\nT1: a\r\nT2: b\r\nT3: c\r\nT4: d\r\n\r\n",
  "3;averyveryverylongextension=1\r\nabc\r\n0\r\n\r\n",
  "3\r\nabcX\r\n",
  "3\nabc\r\n0\r\n\r\n",
  "-3\r\nabc\r\n",
  "0\r\nBad Name: x\r\n\r\n",
  "0\r\n fold: x\r\n\r\n",
  `0\r\n${"T: 0123456789\r\n".repeat(8)}\r\n`,
  "1\r\na\r\n1\r\nb\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
];

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
  const fuzz = JSON.parse(readFileSync(path.join(repoRoot, "fuzz", "corpus", "parse_head.json"), "utf8")) as unknown;
  if (!Array.isArray(fuzz)) throw new Error("fuzz/corpus/parse_head.json: expected an array of base64 strings");
  const wholeHeads = fuzz.map((b64: unknown, i): [string, string] => {
    if (typeof b64 !== "string") throw new Error(`fuzz/corpus/parse_head.json[${i}]: expected a base64 string`);
    return [`fuzz ${i}`, Buffer.from(b64, "base64").toString("latin1")];
  });
  return { heads, wholeHeads, bodies: EDGE_BODIES.map((b, i): [string, string] => [`edge body ${i} ${JSON.stringify(b.slice(0, 24))}`, b]) };
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
