/**
 * The Python binding (bindings/python) gives exactly the thin binding's outcomes.
 *
 * support/expected-outcomes.ts computes the thin binding's outcomes for every corpus
 * input, the linear incremental loop, every chunked body and the framer calls; this file
 * writes inputs and outcomes to a JSON file and runs the Python tests with TOPHAT_PY_EXPECTED naming it
 * (bindings/python/tests/test_equivalence.py compares). The same pytest run also covers
 * linear feeding, trap recovery and the asyncio example server driven by curl; with
 * TOPHAT_PYTEST_STRICT=1 a test that would skip fails instead.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectedOutcomes } from "./support/expected-outcomes.js";
import { repoRoot } from "./support/corpora.js";
import { skipWithout } from "./support/tools.js";

// Each tool is checked (and a missing one reported) even when another is missing too.
const missing = [
  skipWithout("python-wasmtime", "the Python binding's tests"),
  skipWithout("pytest", "the Python binding's tests"),
  skipWithout("curl", "the Python binding's example-server tests"),
];
const skip = missing.some((m) => m);

const dir = mkdtempSync(path.join(os.tmpdir(), "tophat-python-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skip)("the Python binding", () => {
  it("passes its pytest suite, which compares every outcome with the thin binding's", () => {
    const expected = expectedOutcomes();
    // Enough cases that an empty or truncated file cannot pass unnoticed.
    expect(expected.parse.length).toBeGreaterThan(4000);
    expect(expected.chunked.length).toBeGreaterThan(50);
    const file = path.join(dir, "expected.json");
    writeFileSync(file, JSON.stringify(expected));

    const r = spawnSync("python3", ["-m", "pytest", path.join(repoRoot, "bindings", "python", "tests"), "-q", "-p", "no:cacheprovider"], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 540_000,
      env: { ...process.env, TOPHAT_PY_EXPECTED: file, TOPHAT_PYTEST_STRICT: "1" },
    });
    if (r.error !== undefined) throw r.error;
    const output = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0) console.log(output);
    expect(r.status, `pytest failed:\n${output.slice(-8000)}`).toBe(0);
    // Under strict mode nothing may be skipped; the summary line says what ran.
    expect(output).toMatch(/\d+ passed/);
    expect(output).not.toMatch(/skipped/);
    console.log(output.trim().split("\n").slice(-3).join("\n"));
  }, 600_000);
});
