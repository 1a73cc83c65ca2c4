// Code in the documentation for other languages' hosts (docs/core.md and the bindings'
// READMEs) is copied from files the tests run, so it cannot rot: each fenced block is
// preceded by `<!-- from: <path>[#<region>] -->`, and must be the text between
// `docs:start <region>` and `docs:end <region>` in that file, or (without a region) appear
// in it verbatim. The file must be one a test uses (its path appears in a test). Shell
// commands in a binding's README (```sh) are instructions, not code, and are exempt.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./support/corpora.js";

/** The documents checked: docs/core.md and every binding's README. */
function documents(): string[] {
  const docs = ["docs/core.md"];
  const bindings = path.join(repoRoot, "bindings");
  if (existsSync(bindings)) {
    for (const name of readdirSync(bindings)) {
      if (existsSync(path.join(bindings, name, "README.md"))) docs.push(`bindings/${name}/README.md`);
    }
  }
  return docs;
}

interface Block {
  lang: string;
  source: string | undefined;
  code: string;
  line: number;
}

/** The fenced code blocks of a Markdown text, each with the `from:` comment before it. */
function blocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\w*)/.exec(lines[i]!);
    if (!fence) continue;
    const indent = fence[1]!;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() !== "```") j++;
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === "") k--;
    const from = k >= 0 ? /^\s*<!-- from: (\S+) -->$/.exec(lines[k]!) : null;
    out.push({ lang: fence[2]!, source: from?.[1], code: lines.slice(i + 1, j).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join("\n"), line: i + 1 });
    i = j;
  }
  return out;
}

/** The text between the `docs:start name` and `docs:end name` lines of `text`. */
function region(text: string, name: string): string | undefined {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => new RegExp(`docs:start ${name}\\b`).test(l));
  const end = lines.findIndex((l, i) => i > start && new RegExp(`docs:end ${name}\\b`).test(l));
  return start < 0 || end < 0 ? undefined : lines.slice(start + 1, end).join("\n");
}

/** Every test source: vitest files, and the Python and Go bindings' tests. */
function testSources(): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && e.name !== "build" && e.name !== "__pycache__") walk(p);
      } else if (/(\.test\.ts|^test_.*\.py|_test\.go)$/.test(e.name) || (dir.endsWith(`${path.sep}support`) && e.name.endsWith(".ts"))) files.push(p);
    }
  };
  walk(path.join(repoRoot, "test"));
  walk(path.join(repoRoot, "bindings"));
  return files.map((f) => readFileSync(f, "utf8")).join("\n");
}

const tests = testSources();

describe.each(documents())("%s", (doc) => {
  const text = readFileSync(path.join(repoRoot, doc), "utf8");
  const found = blocks(text);

  it("has code blocks, each copied from a file a test uses", () => {
    expect(found.length).toBeGreaterThan(0);
    // A binding's README may show shell commands to type; docs/core.md holds code only.
    const code = doc === "docs/core.md" ? found : found.filter((b) => !["sh", "shell", "console"].includes(b.lang));
    expect(code.length).toBeGreaterThan(0);
    for (const b of code) {
      expect(b.source, `${doc}:${b.line}: a code block without <!-- from: path --> before it`).toBeDefined();
      const [file, name] = b.source!.split("#") as [string, string | undefined];
      const full = path.resolve(path.dirname(path.join(repoRoot, doc)), file);
      const rel = path.relative(repoRoot, existsSync(full) ? full : path.join(repoRoot, file));
      expect(existsSync(path.join(repoRoot, rel)), `${doc}:${b.line}: ${file} does not exist`).toBe(true);
      const source = readFileSync(path.join(repoRoot, rel), "utf8");
      if (name === undefined) {
        expect(source.includes(b.code), `${doc}:${b.line}: the block is not in ${rel} any more`).toBe(true);
      } else {
        // Trailing blank lines aside (a formatter may put one before the end marker).
        expect(region(source, name)?.trimEnd(), `${doc}:${b.line}: region ${name} of ${rel}`).toBe(b.code.trimEnd());
      }
      // The file is one the tests run: its path (from the repository root, or from its
      // binding's folder for the bindings' own tests) appears in a test.
      const local = rel.replace(/^bindings\/[^/]+\//, "");
      expect(tests.includes(rel) || tests.includes(local), `${doc}:${b.line}: no test uses ${rel}`).toBe(true);
    }
  });
});
