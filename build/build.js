// The build: guest (AssemblyScript) → core module → component (with the WIT embedded) →
// checks → jco bindings (for the tests) → host (TypeScript). One command: `npm run build`.
import { readFile, writeFile, mkdir, rm } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import asc from "assemblyscript/asc";
// jco's transpiler without its CLI (which pulls in componentize-js and platform binaries).
import { transpileBytes } from "@bytecodealliance/jco-transpile";
import { componentEmbed, componentNew, print } from "@bytecodealliance/jco-transpile/wasm-tools";
import ExportNames from "./export-names.js";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, "dist");
const at = (...p) => path.join(root, ...p);

/** The exports the component's core module must have; each gets a post-return. */
export const CORE_FUNCTIONS = [
  "tophat:http/parser@0.2.0#parse-head",
  "tophat:http/chunked@0.2.0#decode",
  "tophat:http/framer@0.2.0#frame-head",
  "tophat:http/framer@0.2.0#chunk-size-line",
  "tophat:http/framer@0.2.0#last-chunk",
];

async function compileGuest(target, outFile, extraArgs = []) {
  const args = ["--config", at("asconfig.json"), "--target", target, "--outFile", outFile, ...extraArgs];
  const { error, stderr } = await asc.main(args, { transforms: [ExportNames] });
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  return readFile(outFile);
}

function checkCore(bytes) {
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module);
  if (imports.length) throw new Error(`the core imports ${imports.map((i) => `${i.module}.${i.name}`).join(", ")}; it must import nothing`);
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const expected = ["memory", "cabi_realloc", ...CORE_FUNCTIONS, ...CORE_FUNCTIONS.map((f) => `cabi_post_${f}`)];
  const missing = expected.filter((e) => !exports.has(e));
  if (missing.length) throw new Error(`the core lacks exports: ${missing.join(", ")}`);
  const extra = [...exports].filter((e) => !expected.includes(e));
  if (extra.length) throw new Error(`the core has unexpected exports: ${extra.join(", ")}`);
}

async function checkComponent(component) {
  // componentNew silently accepts a missing or misspelled post-return (a leak), so read
  // the printed component back and look for each one.
  const text = await print(component);
  for (const f of CORE_FUNCTIONS) {
    if (!text.includes(`"cabi_post_${f}"`)) throw new Error(`component: no post-return for ${f}`);
  }
  if (/^\s*\(import /m.test(text.split("(core module")[0])) throw new Error("component: it imports something");
}

async function buildComponent(core, witSource) {
  const embedded = await componentEmbed({ binary: core, witSource, world: "core", stringEncoding: "utf8" });
  return componentNew(embedded, []);
}

async function main() {
  const onlyGuest = process.argv.includes("--guest");
  await rm(path.join(dist, "jco"), { recursive: true, force: true });
  await mkdir(path.join(dist, "guest"), { recursive: true });
  const witSource = await readFile(at("wit", "tophat.wit"), "utf8");

  const core = await compileGuest("release", at("dist", "guest", "core.wasm"));
  checkCore(core);
  const component = await buildComponent(core, witSource);
  await checkComponent(component);
  await writeFile(at("dist", "tophat-http.component.wasm"), component);

  // jco's bindings: the tests compare them with the thin binding; the core module it
  // extracts is the one the thin binding instantiates.
  const { files } = await transpileBytes(component, { name: "tophat-http" });
  for (const [name, bytes] of Object.entries(files)) {
    const file = path.join(dist, "jco", name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
  }
  await writeFile(at("dist", "tophat-http.core.wasm"), files["tophat-http.core.wasm"]);

  // The same core without SIMD, for hosts and tools that lack it (wasm2c before wabt 1.0.33).
  const scalarCore = await compileGuest("release", at("dist", "tophat-http.scalar.core.wasm"), ["--disable", "simd", "--textFile", at("dist", "guest", "scalar.core.wat")]);
  checkCore(scalarCore);
  await writeFile(at("dist", "tophat-http.scalar.component.wasm"), await buildComponent(scalarCore, witSource));

  // A test-only core that traps on a request whose method is TRAP (see guest/index.ts).
  await mkdir(path.join(dist, "test"), { recursive: true });
  const trapCore = await compileGuest("release", at("dist", "test", "trap.core.wasm"), ["--use", "TOPHAT_TEST_TRAP=1", "--textFile", at("dist", "test", "trap.core.wat")]);
  checkCore(trapCore);
  console.log(`core ${core.length} B, component ${component.length} B`);

  if (!onlyGuest) {
    execFileSync(process.execPath, [at("node_modules", "typescript", "bin", "tsc"), "-p", at("tsconfig.build.json")], { stdio: "inherit" });
  }
}

await main();
