// Smoke test of the libFuzzer harnesses in fuzz/ (see fuzz/README.md): builds them from
// wasm2c's C of the scalar core, runs each for a few seconds from the test/corpora seeds,
// and replays the saved inputs of fuzz/regressions/. Any crash (a trap in the core, an
// invariant violation, a sanitizer report) fails. The campaigns themselves are `npm run fuzz`.
//
// Needs wabt (wasm2c) and clang with libFuzzer: a missing tool makes the tests skip loudly,
// or fail under CI=true (test/support/tools.ts).
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { skipWithout } from "./support/tools.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fuzzDir = path.join(repoRoot, "fuzz");
const harnesses = readdirSync(fuzzDir).filter((f) => f.endsWith(".c")).map((f) => f.slice(0, -2)).sort();
const buildDir = mkdtempSync(path.join(tmpdir(), "tophat-fuzz-"));
/** Seconds per harness: a few on a developer's machine; .ci/run asks for 20 (a minute in all). */
const SECONDS = Number(process.env["TOPHAT_FUZZ_SMOKE_SECONDS"] ?? 5);

afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

function missingTools(who: string): boolean {
  // Both checks run (and warn) even when the first tool is already missing.
  const noWabt = skipWithout("wabt", who);
  const noClang = skipWithout("clang", who);
  return noWabt || noClang;
}

interface HarnessResult {
  harness: string;
  executions: number;
  coverageEdges: number;
  crash: string | null;
  ok: boolean;
}

describe("fuzz harnesses (libFuzzer over wasm2c's C of the scalar core)", () => {
  it("finds at least the parse-head and chunked-decode harnesses", () => {
    expect(harnesses).toEqual(expect.arrayContaining(["parse_head", "chunked_decode"]));
  });

  for (const harness of harnesses) {
    it(`${harness} builds and runs ${SECONDS} s without a crash`, (ctx) => {
      if (missingTools(`the ${harness} fuzz harness`)) return ctx.skip("wabt or clang/libFuzzer is not installed");
      const r = spawnSync("node", [path.join(fuzzDir, "run.js")], {
        encoding: "utf8",
        timeout: 300_000,
        env: { ...process.env, FUZZ_SECONDS: String(SECONDS), FUZZ_HARNESSES: harness, FUZZ_BUILD_DIR: buildDir },
      });
      const output = `${r.stdout}\n${r.stderr}`;
      const results = path.join(buildDir, "results.json");
      expect(existsSync(results), `fuzz/run.js wrote no results (exit ${r.status ?? r.signal}):\n${output}`).toBe(true);
      const [result] = JSON.parse(readFileSync(results, "utf8")) as HarnessResult[];
      expect(result?.harness).toBe(harness);
      expect(result?.crash, `${harness} crashed:\n${output}`).toBeNull();
      expect(result?.ok, output).toBe(true);
      expect(r.status, output).toBe(0);
      expect(result!.executions).toBeGreaterThan(1000);
      expect(result!.coverageEdges).toBeGreaterThan(50);
    }, 300_000);
  }

  it("replays fuzz/regressions/ without a crash", (ctx) => {
    if (missingTools("the fuzz regressions")) return ctx.skip("wabt or clang/libFuzzer is not installed");
    const dir = path.join(fuzzDir, "regressions");
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.includes("--")) : [];
    for (const file of files) {
      const harness = file.split("--")[0]!;
      const binary = path.join(buildDir, harness);
      if (!existsSync(binary)) {
        const b = spawnSync("bash", [path.join(fuzzDir, "build.sh"), harness], {
          encoding: "utf8",
          timeout: 300_000,
          env: { ...process.env, FUZZ_BUILD_DIR: buildDir },
        });
        expect(b.status, b.stderr).toBe(0);
      }
      const r = spawnSync(binary, [path.join(dir, file)], { encoding: "utf8", timeout: 60_000 });
      expect(r.status, `${file} crashes ${harness}:\n${r.stderr}`).toBe(0);
    }
  }, 300_000);
});
