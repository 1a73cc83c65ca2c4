/**
 * The Go binding (bindings/go, cgo over the C binding) gives exactly the thin binding's
 * outcomes, and its example server serves curl and raw sockets like every other host of
 * the core (support/host-scenarios.ts).
 *
 * The C library is built with make into bindings/c/build (the path the cgo directives
 * name); support/expected-outcomes.ts computes the thin binding's outcomes and `go test`
 * compares (bindings/go/tophat_test.go, with TOPHAT_EXPECTED naming the file).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/corpora.js";
import { expectedOutcomes } from "./support/expected-outcomes.js";
import { hostScenarios } from "./support/host-scenarios.js";
import { skipWithout } from "./support/tools.js";

const missing = [
  skipWithout("go", "the Go binding's tests"),
  skipWithout("gcc", "the Go binding's tests (cgo and the C binding)"),
  skipWithout("make", "the Go binding's tests (the C binding's build)"),
  skipWithout("wabt", "the Go binding's tests (wasm2c)"),
];
const skip = missing.some((m) => m);
const goDir = path.join(repoRoot, "bindings", "go");
const dir = mkdtempSync(path.join(os.tmpdir(), "tophat-go-"));
// Go's caches in the temp dir: the test needs no home directory and leaves nothing behind.
const goEnv = { ...process.env, GOCACHE: path.join(dir, "cache"), GOPATH: path.join(dir, "gopath"), GOFLAGS: "-modcacherw", GOPROXY: "off", CGO_ENABLED: "1" };

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = goEnv): string {
  const r = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 300_000 });
  if (r.error !== undefined) throw r.error;
  const output = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${r.status}):\n${output.slice(-6000)}`);
  return output;
}

let server: ChildProcess | undefined;
let base = "";

describe.skipIf(skip)("the Go binding", () => {
  beforeAll(async () => {
    run("make", ["-C", path.join(repoRoot, "bindings", "c"), "-s"], repoRoot, process.env);
    const binary = path.join(dir, "server");
    run("go", ["build", "-o", binary, "./examples/server/main.go"], goDir);
    server = spawn(binary, [], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    base = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`the Go example printed no URL: ${out}`)), 10_000);
      server!.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
      server!.once("exit", (code) => reject(new Error(`the Go example exited with ${code}: ${out}`)));
    });
  }, 300_000);
  afterAll(() => {
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes go test, which compares every outcome with the thin binding's", () => {
    const file = path.join(dir, "expected.json");
    const expected = expectedOutcomes();
    expect(expected.parse.length).toBeGreaterThan(4000);
    writeFileSync(file, JSON.stringify(expected));
    const output = run("go", ["test", "-count=1", "-v", "./..."], goDir, { ...goEnv, TOPHAT_EXPECTED: file });
    expect(output).toMatch(/--- PASS: TestSameOutcomesAsTheThinBinding/);
    expect(output).toMatch(/--- PASS: TestLinearFeeding/);
    expect(output).not.toMatch(/--- SKIP/);
    console.log(/\d+ parse-head, .* identical/.exec(output)?.[0]);
  }, 300_000);

  hostScenarios("bindings/go/examples/server", () => base);
});
