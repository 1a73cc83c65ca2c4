/**
 * The third-party request corpora (`test/corpora/`, see its README.md for sources and
 * licenses), loaded and
 * decoded into one typed shape.
 *
 * Every byte string in here is a "latin1 string": one character per byte, char code =
 * byte value. That keeps comparisons byte-exact and assertion diffs readable.
 *
 * How each corpus's own expectation becomes ours:
 * - llhttp: `default_mode` (strict llhttp) cases only. `expect_error` → must reject,
 *   otherwise must accept (a PAUSED_UPGRADE "error" is a pause, not a rejection). Cases that
 *   need llhttp's lenient flags are `unchecked` (they still go through the jco check).
 * - http-parser: `requests_table` → must accept, with method/url/path/query/headers/body/
 *   keep-alive; `simple_tests` with `expect_error` → must reject, without → must not reject.
 * - desync-guardian: `Severe` → must reject; `Compliant` and `Acceptable` → must accept;
 *   `Ambiguous` → `either` (rejecting is fine, accepting must parse to the fixture's head).
 * @module
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Vendored in the repository (provenance and licenses: `test/corpora/README.md`). */
export const corporaDir = path.resolve(repoRoot, "test", "corpora");

export type CorpusName = "llhttp" | "http-parser" | "desync-guardian";
export const CORPUS_NAMES: readonly CorpusName[] = ["llhttp", "http-parser", "desync-guardian"];

export type Expectation = "reject" | "accept" | "either" | "unchecked";

/** One message the source project expects, as latin1 strings. */
export interface ExpectedMessage {
  method: string;
  /** The request-target as sent. */
  url: string;
  /** "1.0", "1.1", or whatever the fixture says (e.g. "" for HTTP/0.9). */
  version: string;
  /**
   * Field lines in wire order, head fields then trailer fields, values without leading
   * and trailing whitespace (RFC 9110 §5.5: OWS is not part of a field value; llhttp and
   * http-parser report trailing OWS as part of the value).
   */
  headers: [string, string][];
  /** The body bytes present in the input (decoded, for chunked), or undefined to skip. */
  body: string | undefined;
  /** Non-zero chunk sizes, in order, when the source records them. */
  chunkLengths: number[] | undefined;
  /** Whether the whole head is in the input (undefined: not recorded). */
  headComplete: boolean;
  /** Whether the whole message, body included, is in the input (undefined: not recorded). */
  complete: boolean | undefined;
  /** http-parser only. */
  path: string | undefined;
  query: string | undefined;
  keepAlive: boolean | undefined;
  /** Bytes after the message when it switches protocols (upgrade/CONNECT). */
  upgradeTail: string | undefined;
}

export interface CorpusCase {
  corpus: CorpusName;
  /** Unique within the corpus; the key of the exception table. */
  id: string;
  /** Position in the corpus file (for http-parser: in its table). */
  index: number;
  raw: Uint8Array;
  expectation: Expectation;
  /** llhttp parser mode, http-parser table, or desync-guardian tier. */
  group: string;
  /** The source's error name (llhttp), errno (http-parser) or reason (desync-guardian). */
  sourceError: string | undefined;
  /** llhttp: how many messages complete before the error. */
  messagesBeforeError: number;
  messages: ExpectedMessage[];
  /** The last message switches protocols (Upgrade or CONNECT), per the source. */
  upgrade: boolean;
  /** llhttp's harness skipped bodies (`meta.skipBody`), which no server parser does. */
  skipBody: boolean;
}

// ---- narrowing JSON -------------------------------------------------------------------

type Json = Record<string, unknown>;

function fail(where: string, what: string): never {
  throw new Error(`corpus data: ${where}: expected ${what}`);
}
function obj(v: unknown, where: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, "an object");
  return v as Json;
}
function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, "an array");
  return v;
}
function str(v: unknown, where: string): string {
  if (typeof v !== "string") fail(where, "a string");
  return v;
}
function optStr(v: unknown, where: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, where);
}
function bool(v: unknown, where: string): boolean {
  if (typeof v !== "boolean") fail(where, "a boolean");
  return v;
}
function num(v: unknown, where: string): number {
  if (typeof v !== "number") fail(where, "a number");
  return v;
}
function pairs(v: unknown, where: string): [string, string][] {
  return arr(v, where).map((p, i) => {
    const a = arr(p, `${where}[${i}]`);
    return [str(a[0], `${where}[${i}][0]`), str(a[1], `${where}[${i}][1]`)];
  });
}

function readJson(file: string): unknown {
  const text: string = readFileSync(path.join(corporaDir, file), "utf8");
  const parsed: unknown = JSON.parse(text);
  return parsed;
}

// ---- bytes ----------------------------------------------------------------------------

export function fromBase64(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, "base64"));
}
/** Bytes as a latin1 string (one char per byte). */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
/** A latin1 string (char codes ≤ 0xFF) as bytes. */
export function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Error(`not a latin1 string: ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}
/** Strips leading and trailing SP/HTAB. */
export function trimOws(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** Makes ids unique: a name used more than once gets ` [index]` appended. */
function uniqueIds<T>(items: readonly T[], name: (t: T, i: number) => string): string[] {
  const names = items.map(name);
  const seen = new Map<string, number>();
  for (const n of names) seen.set(n, (seen.get(n) ?? 0) + 1);
  return names.map((n, i) => ((seen.get(n) ?? 0) > 1 ? `${n} [${i}]` : n));
}

// ---- llhttp ---------------------------------------------------------------------------

function loadLlhttp(): CorpusCase[] {
  const items = arr(readJson("llhttp-requests.json"), "llhttp");
  const fixtures = items.map((x, i) => obj(x, `llhttp[${i}]`));
  const ids = uniqueIds(fixtures, (f, i) => str(f["name"], `llhttp[${i}].name`));
  return fixtures.map((f, i): CorpusCase => {
    const where = `llhttp ${ids[i]}`;
    const defaultMode = bool(f["default_mode"], `${where}.default_mode`);
    const expectError = bool(f["expect_error"], `${where}.expect_error`);
    const error = f["error"] === null ? undefined : obj(f["error"], `${where}.error`);
    const meta = obj(f["meta"], `${where}.meta`);
    const messages = arr(f["messages"], `${where}.messages`).map((x, j): ExpectedMessage => {
      const m = obj(x, `${where}.messages[${j}]`);
      const chunks = arr(m["chunks"], `${where}.chunks`).map((n) => num(n, `${where}.chunks[]`));
      return {
        method: str(m["method"], `${where}.method`),
        url: str(m["url"], `${where}.url`),
        version: str(m["version"], `${where}.version`),
        headers: pairs(m["headers"], `${where}.headers`).map(([n, v]) => [n, trimOws(v)]),
        body: str(m["body"], `${where}.body`),
        chunkLengths: chunks.filter((n) => n > 0),
        headComplete: m["headers_complete"] !== null,
        complete: bool(m["message_complete"], `${where}.message_complete`),
        path: undefined,
        query: undefined,
        keepAlive: undefined,
        upgradeTail: undefined,
      };
    });
    return {
      corpus: "llhttp",
      id: ids[i]!,
      index: i,
      raw: fromBase64(str(f["raw_base64"], `${where}.raw_base64`)),
      expectation: !defaultMode ? "unchecked" : expectError ? "reject" : "accept",
      group: str(f["parser_mode"], `${where}.parser_mode`),
      sourceError: error === undefined ? undefined : str(error["name"], `${where}.error.name`),
      messagesBeforeError:
        f["messages_completed_before_error"] === undefined ? 0 : num(f["messages_completed_before_error"], where),
      messages,
      upgrade: bool(f["upgrade"], `${where}.upgrade`),
      skipBody: meta["skipBody"] === true,
    };
  });
}

// ---- http-parser ----------------------------------------------------------------------

function loadHttpParser(): CorpusCase[] {
  const root = obj(readJson("http-parser-requests.json"), "http-parser");
  const table = arr(root["requests_table"], "requests_table").map((x, i) => obj(x, `requests_table[${i}]`));
  const simple = arr(root["simple_tests"], "simple_tests").map((x, i) => obj(x, `simple_tests[${i}]`));
  const tableIds = uniqueIds(table, (r, i) => `requests_table: ${str(r["name"], `requests_table[${i}].name`)}`);

  const fromTable = table.map((r, i): CorpusCase => {
    const where = tableIds[i]!;
    const bodyB64 = optStr(r["expected_body_base64"], `${where}.expected_body_base64`);
    const tail = optStr(r["upgrade_tail"], `${where}.upgrade_tail`);
    const version = str(r["http_version"], `${where}.http_version`);
    return {
      corpus: "http-parser",
      id: where,
      index: i,
      raw: fromBase64(str(r["raw_base64"], `${where}.raw_base64`)),
      expectation: bool(r["expect_error"], `${where}.expect_error`) ? "reject" : "accept",
      group: r["needs_lenient_flag"] === null ? "requests_table" : `requests_table (${str(r["needs_lenient_flag"], where)})`,
      sourceError: undefined,
      messagesBeforeError: 0,
      messages: [
        {
          method: str(r["expected_method"], `${where}.expected_method`),
          url: str(r["expected_url"], `${where}.expected_url`),
          version: version === "0.9" ? "" : version,
          headers: pairs(r["expected_headers"], `${where}.expected_headers`).map(([n, v]) => [n, trimOws(v)]),
          body: bodyB64 === undefined ? undefined : latin1(fromBase64(bodyB64)),
          chunkLengths: arr(r["chunk_lengths"], `${where}.chunk_lengths`).map((n) => num(n, where)),
          headComplete: true,
          complete: undefined,
          path: str(r["expected_path"], `${where}.expected_path`),
          query: str(r["expected_query"], `${where}.expected_query`),
          keepAlive: bool(r["should_keep_alive"], `${where}.should_keep_alive`),
          upgradeTail: tail,
        },
      ],
      upgrade: tail !== undefined,
      skipBody: false,
    };
  });

  const fromSimple = simple.map((s, i): CorpusCase => {
    const raw = fromBase64(str(s["raw_base64"], `simple_tests[${i}].raw_base64`));
    const firstLine = latin1(raw).split(/\r?\n/)[0] ?? "";
    return {
      corpus: "http-parser",
      id: `simple_tests[${i}]: ${JSON.stringify(firstLine.slice(0, 40))}`,
      index: i,
      raw,
      expectation: bool(s["expect_error"], `simple_tests[${i}].expect_error`) ? "reject" : "accept",
      group: "simple_tests",
      sourceError: str(s["expected_errno"], `simple_tests[${i}].expected_errno`),
      messagesBeforeError: 0,
      messages: [],
      upgrade: false,
      skipBody: false,
    };
  });
  return [...fromTable, ...fromSimple];
}

// ---- desync-guardian ------------------------------------------------------------------

/**
 * The corpus's raw bytes hold each character of its YAML strings truncated to its low
 * byte (e.g. U+017F "ſ" became 0x7F), so the expected strings are mapped the same way.
 */
function lowBytes(s: string): string {
  let out = "";
  for (const ch of s) out += String.fromCharCode((ch.codePointAt(0) ?? 0) & 0xff);
  return out;
}

function loadDesyncGuardian(): CorpusCase[] {
  const items = arr(readJson("desync-guardian-requests.json"), "desync-guardian").map((x, i) =>
    obj(x, `desync-guardian[${i}]`),
  );
  const ids = uniqueIds(items, (c, i) => str(c["name"], `desync-guardian[${i}].name`));
  return items.map((c, i): CorpusCase => {
    const where = `desync-guardian ${ids[i]}`;
    const tier = str(c["tier"], `${where}.tier`);
    const version = str(c["version"], `${where}.version`);
    const headers = arr(c["headers"], `${where}.headers`).map((h, j): [string, string] => {
      const a = arr(h, `${where}.headers[${j}]`);
      return [lowBytes(str(a[0], where)), trimOws(lowBytes(str(a[1], where)))];
    });
    return {
      corpus: "desync-guardian",
      id: ids[i]!,
      index: i,
      raw: fromBase64(str(c["raw_base64"], `${where}.raw_base64`)),
      expectation:
        tier === "Severe" ? "reject" : tier === "Compliant" || tier === "Acceptable" ? "accept" : "either",
      group: tier,
      sourceError: str(c["reason"], `${where}.reason`),
      messagesBeforeError: 0,
      messages: [
        {
          method: lowBytes(str(c["method"], `${where}.method`)),
          url: lowBytes(str(c["uri"], `${where}.uri`)),
          version: version.startsWith("HTTP/") ? version.slice(5) : version,
          headers,
          body: undefined,
          chunkLengths: undefined,
          headComplete: true,
          complete: undefined,
          path: undefined,
          query: undefined,
          keepAlive: undefined,
          upgradeTail: undefined,
        },
      ],
      upgrade: false,
      skipBody: false,
    };
  });
}

// ---- all ------------------------------------------------------------------------------

let cache: Record<CorpusName, CorpusCase[]> | undefined;

/** All cases of all three corpora (loaded once). */
export function loadCorpora(): Record<CorpusName, CorpusCase[]> {
  cache ??= {
    llhttp: loadLlhttp(),
    "http-parser": loadHttpParser(),
    "desync-guardian": loadDesyncGuardian(),
  };
  return cache;
}

// ---- the Host rule --------------------------------------------------------------------

/** The field line the tests add to HTTP/1.1 requests that lack Host (see the README). */
export const ADDED_HOST: [string, string] = ["Host", "x"];
const ADDED_HOST_LINE = bytesOf("Host: x\r\n");

/**
 * When the request starting at `at` (after any empty lines) is HTTP/1.1 and its head has
 * no Host field line, returns the bytes with `Host: x` inserted as the first field line
 * (and `injected: true`); otherwise the bytes unchanged. Only a request line ending in
 * exactly " HTTP/1.1" CRLF counts: a malformed one is rejected before Host matters.
 */
export function withHost(bytes: Uint8Array, at: number): { bytes: Uint8Array; injected: boolean } {
  const text = latin1(bytes);
  let p = at;
  while (text.startsWith("\r\n", p)) p += 2;
  const lineEnd = text.indexOf("\r\n", p);
  // HTTP/1.1, and 1.2–1.9 which are parsed as 1.1 (RFC 9110 §2.5): Host is required.
  if (lineEnd < 0 || !/ HTTP\/1\.[1-9]$/.test(text.slice(p, lineEnd))) return { bytes, injected: false };
  const headEnd = text.indexOf("\r\n\r\n", lineEnd);
  const fields = text.slice(lineEnd + 2, headEnd < 0 ? text.length : headEnd + 2);
  if (/(^|\r\n)host[ \t]*:/i.test(fields)) return { bytes, injected: false };
  const insert = lineEnd + 2;
  const out = new Uint8Array(bytes.length + ADDED_HOST_LINE.length);
  out.set(bytes.subarray(0, insert), 0);
  out.set(ADDED_HOST_LINE, insert);
  out.set(bytes.subarray(insert), insert + ADDED_HOST_LINE.length);
  return { bytes: out, injected: true };
}

// ---- inputs beyond the third-party corpora ----------------------------------------------

/**
 * The parse-head corpus libFuzzer kept (fuzz/corpus/parse_head.json: inputs that reached
 * new coverage of the core, grown from test/corpora's requests; see fuzz/README.md).
 */
export function loadFuzzHeads(): Uint8Array[] {
  const parsed: unknown = JSON.parse(readFileSync(path.join(repoRoot, "fuzz", "corpus", "parse_head.json"), "utf8"));
  if (!Array.isArray(parsed)) throw new Error("fuzz/corpus/parse_head.json: expected an array of base64 strings");
  return parsed.map((x: unknown, i) => {
    if (typeof x !== "string") throw new Error(`fuzz/corpus/parse_head.json[${i}]: expected a base64 string`);
    return fromBase64(x);
  });
}

/**
 * Chunked bodies that reach the decoder's limits and edges (as latin1 strings): size
 * overflow, leading zeros, extensions (quoted, long, malformed), bad line endings and
 * terminators, bad trailers, and bytes after the body.
 */
export const CHUNKED_EDGE_BODIES: readonly string[] = [
  "ffffffffffffffff\r\nabc",
  "10000000000000000\r\n",
  "0000000000000000000001\r\nx\r\n0\r\n\r\n",
  "5;a=b;c=\"d e\";f\r\nhello\r\n0;x=y\r\nT1: a\r\nT2: b\r\nT3: c\r\nT4: d\r\n\r\n",
  "3;averyveryverylongextension=1\r\nabc\r\n0\r\n\r\n",
  "3\r\nabcX\r\n",
  "3\nabc\r\n0\r\n\r\n",
  "3;a=\"b\"\nabc\r\n",
  "3\r\nabc\r\r",
  "-3\r\nabc\r\n",
  "0x3\r\nabc\r\n",
  " 3\r\nabc\r\n",
  "3 ;a\r\nabc\r\n0\r\n\r\n",
  "3;\"q\"\r\nabc\r\n",
  "0\r\nBad Name: x\r\n\r\n",
  "0\r\n fold: x\r\n\r\n",
  "0\r\nT: a\rb\r\n\r\n",
  `0\r\n${"T: 0123456789\r\n".repeat(8)}\r\n`,
  "1\r\na\r\n1\r\nb\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
];
