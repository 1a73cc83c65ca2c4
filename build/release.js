// The core's release artifacts for other languages (`npm run release`): a folder
// release/tophat-core-<version>/ and a .tar.gz of it, holding the components and core
// modules from dist/, the WIT, docs/core.md, the C binding (its Makefile finds the scalar
// core beside it, so `make` works in the folder alone), LICENSE, CHANGELOG.md and
// SHA256SUMS (`sha256sum -c SHA256SUMS` format, covering every other file).
//
//   node build/release.js [--out DIR]     # default DIR: release/ (TOPHAT_RELEASE_DIR too)
//
// Node built-ins only. The archive is made by the system's tar (GNU tar: sorted names,
// owner and group 0; SOURCE_DATE_EPOCH, if set, fixes the files' times), gzipped by
// node:zlib (whose gzip header carries no name or time), so one tree gives one archive.
// dist/ must be built (`npm run build`); this script never builds.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** [source in the repository, path in the release folder] */
const FILES = [
  ["dist/tophat-http.component.wasm", "tophat-http.component.wasm"],
  ["dist/tophat-http.scalar.component.wasm", "tophat-http.scalar.component.wasm"],
  ["dist/tophat-http.core.wasm", "tophat-http.core.wasm"],
  ["dist/tophat-http.scalar.core.wasm", "tophat-http.scalar.core.wasm"],
  ["wit/tophat.wit", "wit/tophat.wit"],
  ["docs/core.md", "docs/core.md"],
  ["bindings/c/README.md", "README.md"],
  ["bindings/c/Makefile", "Makefile"],
  ["bindings/c/tophat.h", "tophat.h"],
  ["bindings/c/tophat.c", "tophat.c"],
  ["bindings/c/examples/server.c", "examples/server.c"],
  ["bindings/c/tests/corpus.c", "tests/corpus.c"],
  ["LICENSE", "LICENSE"],
  ["CHANGELOG.md", "CHANGELOG.md"],
];

/** Why a source may be missing, for the error message. */
const HINTS = {
  "docs/": "the guide to using the core from any language must be written before a release",
  "dist/": "run `npm run build` first",
};

function outDirFromArgs() {
  const i = process.argv.indexOf("--out");
  if (i !== -1) {
    const dir = process.argv[i + 1];
    if (dir === undefined) throw new Error("release: --out needs a directory");
    return path.resolve(dir);
  }
  return path.resolve(process.env.TOPHAT_RELEASE_DIR ?? path.join(root, "release"));
}

async function exists(p) {
  try {
    return (await stat(p)).isFile();
  } catch (error) {
    if (error.code === "ENOENT") return false;
    throw error;
  }
}

/** Every file under `dir`, as paths relative to it with "/" separators, sorted. */
async function listFiles(dir, prefix = "") {
  const out = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

async function main() {
  const pkg = JSON.parse(await readFile(path.join(root, "package.json"), "utf8"));
  const version = pkg.version;
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+/.test(version)) throw new Error(`release: package.json has no usable version: ${version}`);
  const name = `tophat-core-${version}`;

  const missing = [];
  for (const [src] of FILES) if (!(await exists(path.join(root, src)))) missing.push(src);
  if (missing.length > 0) {
    const lines = missing.map((m) => {
      const hint = Object.entries(HINTS).find(([prefix]) => m.startsWith(prefix));
      return `  ${m}${hint ? ` (${hint[1]})` : ""}`;
    });
    throw new Error(`release: missing files, nothing written:\n${lines.join("\n")}`);
  }

  const outDir = outDirFromArgs();
  const dir = path.join(outDir, name);
  const archive = path.join(outDir, `${name}.tar.gz`);
  await rm(dir, { recursive: true, force: true });
  await rm(archive, { force: true });
  for (const [src, dest] of FILES) {
    await mkdir(path.dirname(path.join(dir, dest)), { recursive: true });
    await copyFile(path.join(root, src), path.join(dir, dest));
  }

  // Two spaces between hash and name: sha256sum's text-mode format, which `-c` reads.
  let sums = "";
  for (const rel of await listFiles(dir)) {
    const hash = createHash("sha256").update(await readFile(path.join(dir, rel))).digest("hex");
    sums += `${hash}  ${rel}\n`;
  }
  await writeFile(path.join(dir, "SHA256SUMS"), sums);

  const tarArgs = ["--create", "--format=ustar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner"];
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined) tarArgs.push(`--mtime=@${epoch}`, "--clamp-mtime");
  tarArgs.push("--file=-", "--directory", outDir, name);
  const tar = execFileSync("tar", tarArgs, { maxBuffer: 1 << 30 });
  await writeFile(archive, gzipSync(tar, { level: 9 }));

  const count = sums.split("\n").length - 1;
  console.log(`release: ${dir} (${count} files + SHA256SUMS)`);
  console.log(`release: ${archive}`);
}

try {
  await main();
} catch (error) {
  // Our own refusals read best as their message; anything else keeps its stack.
  const expected = error instanceof Error && error.message.startsWith("release:");
  console.error(expected ? error.message : error);
  process.exitCode = 1;
}
