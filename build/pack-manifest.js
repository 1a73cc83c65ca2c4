// `npm pack` / `npm publish` hooks: the published package.json carries no scripts.
// (prepack builds first: once the scripts are gone npm no longer runs `prepare`.)
//
// The repository's scripts (`prepare` builds on `npm install`, the test and bench
// commands) mean nothing in an app's node_modules, and npm ≥ 11 warns about a dependency
// that declares `prepare` even though it never runs it for a tarball. So `prepack` moves the
// scripts aside (npm has read them already, so `postpack` still runs) and `postpack` puts
// them back. A pack that fails half-way leaves `package.json.scripts` beside package.json:
// `node build/pack-manifest.js restore` undoes it.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const manifest = path.join(root, "package.json");
const kept = path.join(root, "package.json.scripts");

const command = process.argv[2];
if (command === "strip") {
  if (existsSync(kept)) throw new Error(`${kept} exists: a previous pack did not finish; run \`node build/pack-manifest.js restore\``);
  const text = readFileSync(manifest, "utf8");
  const json = JSON.parse(text);
  writeFileSync(kept, text);
  delete json.scripts;
  writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
} else if (command === "restore") {
  if (!existsSync(kept)) throw new Error(`${kept} is missing: nothing to restore`);
  renameSync(kept, manifest);
} else {
  throw new Error("usage: node build/pack-manifest.js strip|restore");
}
