// tophat/core/portable, the binding for runtimes other than Node, checked two ways here (and
// in Chromium by core-portable-browser.test.ts):
// - statically: the module graph of its emitted JS (dist/host/core-portable.js and every
//   relative import from there) imports nothing but relative modules and uses no Buffer,
//   process or require, so it loads in a browser with no bundler and no polyfill;
// - in Node, from bytes: every corpus case, chunked body and framer case gives outcomes
//   identical to Node's binding (tophat/core), call by call.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { Core as NodeCore, CoreTrapError as NodeCoreTrapError, DEFAULT_LIMITS as NODE_DEFAULT_LIMITS } from "../host/core.js";
import { Core, CoreTrapError, DEFAULT_LIMITS } from "../host/core-portable.js";
import { repoRoot } from "./support/corpora.js";
import { latin1Of, runWorkload } from "./support/core-workload.js";
import { differences, workloadInput } from "./support/core-workload-input.js";

const distHost = path.join(repoRoot, "dist", "host");
const coreWasm = path.join(repoRoot, "dist", "tophat-http.core.wasm");
const trapWasm = path.join(repoRoot, "dist", "test", "trap.core.wasm");

// ---- the module graph -------------------------------------------------------------------

/** Globals that exist in Node and not in browsers; using one would fail there (or need a polyfill). */
const NODE_GLOBALS = new Set(["Buffer", "process", "require", "__dirname", "__filename", "setImmediate", "global"]);
/** Objects through which a global is reached as a property (`globalThis.process`). */
const GLOBAL_OBJECTS = new Set(["globalThis", "self", "window", "global"]);

interface GraphFinding {
  file: string;
  problem: string;
}

/** Whether `id` names a property or member here rather than reading a variable. */
function isPropertyName(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return !(ts.isIdentifier(p.expression) && GLOBAL_OBJECTS.has(p.expression.text));
  return (ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) && p.name === id;
}

/**
 * Walks the emitted JS from `entry` along relative imports (static, re-exports and dynamic);
 * returns every file reached and every finding: a non-relative import (node:, a package) or
 * a Node global read as a variable. Parsed, not grepped: comments may name Buffer freely.
 */
function moduleGraph(entry: string): { files: string[]; findings: GraphFinding[] } {
  const files: string[] = [];
  const findings: GraphFinding[] = [];
  const queue = [path.resolve(entry)];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const file = queue.shift()!;
    const name = path.relative(distHost, file);
    files.push(name);
    if (!existsSync(file)) {
      findings.push({ file: name, problem: "imported but not emitted" });
      continue;
    }
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
    const specifier = (spec: string): void => {
      if (!spec.startsWith("./") && !spec.startsWith("../")) {
        findings.push({ file: name, problem: `imports "${spec}"` });
        return;
      }
      const next = path.resolve(path.dirname(file), spec);
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    };
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
        specifier(node.moduleSpecifier.text);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = node.arguments[0];
        if (arg !== undefined && ts.isStringLiteralLike(arg)) specifier(arg.text);
        else findings.push({ file: name, problem: "a dynamic import of a computed specifier" });
      } else if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text) && !isPropertyName(node)) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart());
        findings.push({ file: name, problem: `uses ${node.text} (line ${line + 1})` });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { files, findings };
}

describe("tophat/core/portable's emitted module graph", () => {
  const entry = path.join(distHost, "core-portable.js");

  it("is built (dist/host is emitted by `node build/build.js`)", () => {
    expect(existsSync(entry), `${entry}: run node build/build.js (or tsc -p tsconfig.build.json)`).toBe(true);
  });

  it("imports only relative modules and uses no Buffer, process or require", () => {
    const { files, findings } = moduleGraph(entry);
    // The walk reached the binding and what it imports, not only the entry file.
    expect(files).toEqual(expect.arrayContaining(["core-portable.js", "core/portable.js", "core/types.js", "core/head-end.js"]));
    expect(findings).toEqual([]);
  });

  it("would fail on Node's entry: the same check finds node:fs and Buffer in tophat/core", () => {
    const { findings } = moduleGraph(path.join(distHost, "core.js"));
    const problems = findings.map((f) => `${f.file}: ${f.problem}`);
    expect(problems).toEqual(expect.arrayContaining([`core/binding.js: imports "node:fs"`, expect.stringMatching(/^core\/binding\.js: uses Buffer/)]));
  });
});

// ---- in Node, from bytes ----------------------------------------------------------------

describe("tophat/core/portable in Node, from bytes", () => {
  const bytes = new Uint8Array(readFileSync(coreWasm));
  const input = workloadInput();

  it("gives outcomes identical to tophat/core on every corpus case, chunked body and framer case", () => {
    const expected = runWorkload(NodeCore.load(), input);
    const actual = runWorkload(new Core(bytes), input);
    expect(differences(expected, actual)).toEqual([]);
    // The workload is what it claims: every corpus head, prefixes, bodies and framer calls.
    expect(input.heads.length).toBeGreaterThan(400);
    expect(input.wholeHeads.length).toBeGreaterThan(1000);
    const kinds = new Set(expected.map((r) => /^[a-z-]+/.exec(r.what)?.[0]));
    expect([...kinds].sort()).toEqual(["chunk-size-line", "decode", "frame-head", "frame-message", "last-chunk", "parse-head"]);
    const outcomes = expected.map((r) => r.outcome).join("\n");
    for (const tag of ['"tag":"complete"', '"tag":"incomplete"', '"tag":"invalid"', '"phase":"done"', '"tag":"message"']) expect(outcomes).toContain(tag);
    expect(expected.filter((r) => r.what.startsWith("decode ") && r.what.includes("(head ")).length).toBeGreaterThan(20);
  });

  it("compiles synchronously from bytes or a module, and asynchronously", async () => {
    const head = new TextEncoder().encode("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n");
    const module = new WebAssembly.Module(bytes);
    for (const core of [new Core(bytes), new Core(bytes.buffer), new Core(module), Core.fromBytes(bytes), await Core.compile(bytes), await Core.compile(module)]) {
      const r = core.parseHead(head, DEFAULT_LIMITS);
      expect(r.tag === "complete" ? r.val.path : r).toEqual({ start: 4, len: 2 });
    }
  });

  it("gives plain Uint8Arrays where tophat/core gives Buffers, with the same bytes", () => {
    const response = { status: 200, headers: [{ name: "X", value: "Zoë" }] };
    const request = { head: false, http10: false, close: false };
    const body = "☃".repeat(30);
    const portable = new Core(bytes).frameMessage(response, request, undefined, body);
    const node = NodeCore.load().frameMessage(response, request, undefined, body);
    if (portable.tag !== "message" || node.tag !== "message") throw new Error(`not framed: ${portable.tag}, ${node.tag}`);
    expect(Buffer.isBuffer(portable.val.bytes)).toBe(false);
    expect(Buffer.isBuffer(node.val.bytes)).toBe(true);
    expect(latin1Of(portable.val.bytes)).toBe(latin1Of(node.val.bytes));
    expect(new TextDecoder().decode(portable.val.bytes.subarray(portable.val.headLength))).toBe(body);
  });

  it("tophat/core's factories make Node's Core, which shares the trap error and limits", async () => {
    expect(NodeCore.fromBytes(bytes)).toBeInstanceOf(NodeCore);
    expect(await NodeCore.compile(bytes)).toBeInstanceOf(NodeCore);
    expect(NodeCore.load()).toBeInstanceOf(Core);
    expect(NodeCoreTrapError).toBe(CoreTrapError);
    expect(NODE_DEFAULT_LIMITS).toBe(DEFAULT_LIMITS);
  });

  it("recovers from a trap: CoreTrapError for that call, a fresh instance for the next", () => {
    const core = new Core(new Uint8Array(readFileSync(trapWasm)));
    const enc = new TextEncoder();
    expect(() => core.parseHead(enc.encode("TRAP / HTTP/1.1\r\nHost: a\r\n\r\n"), DEFAULT_LIMITS)).toThrow(CoreTrapError);
    expect(core.restarts).toBe(1);
    expect(core.parseHead(enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), DEFAULT_LIMITS).tag).toBe("complete");
  });
});
