// `npm run release` (build/release.js): the folder and the .tar.gz for other languages.
// The release is written to a temporary directory (never the repository's release/), its
// checksums are checked with sha256sum, and the archive is unpacked elsewhere and the C
// example built there with `make` alone — PATH limited to /usr/bin:/bin, with node, npm
// and npx shadowed by stubs that fail — then run and asked one request with curl.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/corpora.js";
import { skipWithout } from "./support/tools.js";

const WHO = "test/release.test.ts";
const missing = [skipWithout("gcc", WHO), skipWithout("make", WHO), skipWithout("wabt", WHO), skipWithout("curl", WHO)].some(Boolean);

const version = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
const name = `tophat-core-${version}`;

/** What the release folder must hold, exactly. */
const EXPECTED_FILES = [
  "CHANGELOG.md",
  "LICENSE",
  "Makefile",
  "README.md",
  "SHA256SUMS",
  "docs/core.md",
  "examples/server.c",
  "tests/corpus.c",
  "tophat-http.component.wasm",
  "tophat-http.core.wasm",
  "tophat-http.scalar.component.wasm",
  "tophat-http.scalar.core.wasm",
  "tophat.c",
  "tophat.h",
  "wit/tophat.wit",
];

/** The repository files build/release.js reads (docs/core.md apart). */
const SOURCES = [
  "package.json",
  "build/release.js",
  "dist/tophat-http.component.wasm",
  "dist/tophat-http.scalar.component.wasm",
  "dist/tophat-http.core.wasm",
  "dist/tophat-http.scalar.core.wasm",
  "wit/tophat.wit",
  "bindings/c/README.md",
  "bindings/c/Makefile",
  "bindings/c/tophat.h",
  "bindings/c/tophat.c",
  "bindings/c/examples/server.c",
  "bindings/c/tests/corpus.c",
  "LICENSE",
  "CHANGELOG.md",
];

function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** A copy of what the release reads, in `dir` (docs/core.md only if `docs` is given). */
function sourceCopy(dir: string, docs: string | undefined): string {
  for (const f of SOURCES) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    cpSync(path.join(repoRoot, f), path.join(dir, f));
  }
  if (docs !== undefined) {
    mkdirSync(path.join(dir, "docs"), { recursive: true });
    writeFileSync(path.join(dir, "docs", "core.md"), docs);
  }
  return dir;
}

function release(root: string, out: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, "build", "release.js"), "--out", out], { cwd: root, encoding: "utf8", timeout: 120_000 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp = "";
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "tophat-release-"));
});
afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

describe("npm run release", () => {
  it("refuses clearly, writing nothing, when docs/core.md is missing", () => {
    const root = sourceCopy(path.join(tmp, "no-docs"), undefined);
    const out = path.join(tmp, "no-docs-out");
    const r = release(root, out);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing files, nothing written:\n\s+docs\/core\.md/);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(missing)("the release artifacts", () => {
  let out = "";
  let folder = "";
  let unpacked = "";

  beforeAll(() => {
    // The lead's docs/core.md if it is there; otherwise a placeholder, in a temporary copy only.
    const root = existsSync(path.join(repoRoot, "docs", "core.md"))
      ? repoRoot
      : sourceCopy(path.join(tmp, "src"), "# placeholder written by test/release.test.ts\n");
    out = path.join(tmp, "out");
    const r = release(root, out);
    if (r.status !== 0) throw new Error(`release failed (${r.status}):\n${r.stdout}${r.stderr}`);
    folder = path.join(out, name);
  }, 120_000);

  it("writes the folder with exactly the expected files, copied unchanged", () => {
    expect(listFiles(folder)).toEqual(EXPECTED_FILES);
    expect(readFileSync(path.join(folder, "tophat-http.scalar.core.wasm"))).toEqual(readFileSync(path.join(repoRoot, "dist", "tophat-http.scalar.core.wasm")));
    expect(readFileSync(path.join(folder, "tophat.h"), "utf8")).toBe(readFileSync(path.join(repoRoot, "bindings", "c", "tophat.h"), "utf8"));
    expect(readdirSync(out).sort()).toEqual([name, `${name}.tar.gz`]);
  });

  it("SHA256SUMS covers every other file and sha256sum -c passes (and fails on a changed file)", () => {
    const sums = readFileSync(path.join(folder, "SHA256SUMS"), "utf8");
    const listed = sums.trimEnd().split("\n").map((l) => {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(l);
      if (!m) throw new Error(`not a sha256sum line: ${JSON.stringify(l)}`);
      return m[2]!;
    });
    expect(listed).toEqual(EXPECTED_FILES.filter((f) => f !== "SHA256SUMS"));
    const ok = spawnSync("sha256sum", ["-c", "--strict", "SHA256SUMS"], { cwd: folder, encoding: "utf8" });
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout.match(/: OK$/gm)?.length).toBe(listed.length);
    // The check can fail: a copy with one byte changed does not pass.
    const copy = path.join(tmp, "tampered");
    cpSync(folder, copy, { recursive: true });
    writeFileSync(path.join(copy, "tophat.h"), readFileSync(path.join(copy, "tophat.h"), "utf8") + " ");
    expect(spawnSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: copy, encoding: "utf8" }).status).not.toBe(0);
  });

  it("the .tar.gz unpacks to the same folder", () => {
    unpacked = path.join(tmp, "unpacked");
    mkdirSync(unpacked);
    const r = spawnSync("tar", ["-xzf", path.join(out, `${name}.tar.gz`), "-C", unpacked], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readdirSync(unpacked)).toEqual([name]);
    const dir = path.join(unpacked, name);
    expect(listFiles(dir)).toEqual(EXPECTED_FILES);
    for (const f of EXPECTED_FILES) expect(readFileSync(path.join(dir, f)).equals(readFileSync(path.join(folder, f))), f).toBe(true);
  });

  it("builds the C example from the unpacked folder with make alone, and it serves a request", async () => {
    expect(unpacked).not.toBe(""); // the previous test unpacked it
    const dir = path.join(unpacked, name);
    // Debian installs node in /usr/bin, so the PATH limit alone would not keep it out:
    // stubs that fail loudly shadow node, npm and npx.
    const stubs = path.join(tmp, "no-node");
    mkdirSync(stubs);
    for (const tool of ["node", "npm", "npx"]) {
      writeFileSync(path.join(stubs, tool), `#!/bin/sh\necho "${tool} was called during the release build" >&2\nexit 97\n`);
      chmodSync(path.join(stubs, tool), 0o755);
    }
    const env = { PATH: `${stubs}:/usr/bin:/bin`, HOME: tmp, LANG: "C" };
    const r = spawnSync("make", [], { cwd: dir, env, encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) throw new Error(`make failed in the release folder (${r.status}):\n${r.stdout}\n${r.stderr}`);
    expect(r.stdout).toContain(`wasm2c ${dir}/tophat-http.scalar.core.wasm`); // the core beside the Makefile
    expect(r.stdout).not.toMatch(/\bnode\b|\bnpm\b|\.\.\/\.\.\/dist/);
    expect(statSync(path.join(dir, "build", "server")).isFile()).toBe(true);

    const server = spawn(path.join(dir, "build", "server"), ["0"], { env });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = "";
        server.stdout.on("data", (d: Buffer) => {
          text += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
          if (m) resolve(m[1]!);
        });
        server.on("exit", (code) => reject(new Error(`server exited ${code}`)));
      });
      const c = spawnSync("curl", ["-sS", "--max-time", "10", `${url}from-release`], { encoding: "utf8" });
      expect(c.stderr).toBe("");
      expect(c.stdout).toBe("GET /from-release 0\n");
    } finally {
      server.kill("SIGTERM");
    }
  }, 300_000);
});
