// The API reference builds from the TSDoc with zero warnings (typedoc.json turns warnings
// into errors and requires documentation on every export), so an undocumented export, a
// broken {@link} or a leaked internal fails the suite, not only `npm run docs`.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/corpora.js";

const run = promisify(execFile);
const out = mkdtempSync(path.join(tmpdir(), "tophat-docs-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("npm run docs (TypeDoc)", () => {
  it("builds the API reference of every entry with no warning", async () => {
    const typedoc = path.join(repoRoot, "node_modules", "typedoc", "bin", "typedoc");
    const result = await run(process.execPath, [typedoc, "--out", out], { cwd: repoRoot, maxBuffer: 16 << 20 }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`typedoc failed:\n${error.stdout ?? ""}${error.stderr ?? String(error)}`);
    });
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/warning|error/i);
    // Every entry point is in the reference, with the option interfaces users configure.
    for (const page of ["index.html", "modules/tophat.html", "modules/tophat_core.html", "functions/tophat.serve.html", "classes/tophat_core.Core.html", "modules/tophat_core_portable.html", "classes/tophat_core_portable.Core.html", "interfaces/tophat.CorsOptions.html", "interfaces/tophat.ConnectionOptions.html"]) {
      expect(existsSync(path.join(out, page)), page).toBe(true);
    }
  }, 120_000);
});
