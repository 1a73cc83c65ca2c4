// Builds a component from the test-only core that traps on a request whose method is
// TRAP (dist/test/trap.core.wasm, made by `npm run build`; see guest/index.ts), the same
// way build/build.js builds the release component, so the Python binding's trap recovery
// can be tested through wasmtime's component API. The release build ships no such
// component on purpose: it is test-only code.
//
// Usage: node make_trap_component.mjs OUT.wasm
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { componentEmbed, componentNew } from "@bytecodealliance/jco-transpile/wasm-tools";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const out = process.argv[2];
if (out === undefined) {
  console.error("usage: node make_trap_component.mjs OUT.wasm");
  process.exit(2);
}
const core = await readFile(path.join(root, "dist", "test", "trap.core.wasm"));
const witSource = await readFile(path.join(root, "wit", "tophat.wit"), "utf8");
const embedded = await componentEmbed({ binary: core, witSource, world: "core", stringEncoding: "utf8" });
await writeFile(out, await componentNew(embedded, []));
