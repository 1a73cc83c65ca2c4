/**
 * fast-check generators of valid HTTP/1.1 requests (RFC 9112), with the model each one
 * was built from, so a test can check a parser's result against what was meant.
 *
 * Every byte string here is a "latin1 string": one character per byte, char code = byte
 * value (`toBytes` / `fromBytes` convert). Header names and values can hold obs-text
 * (0x80–0xFF), which this keeps byte-exact.
 *
 * What a generated request holds:
 * - an optional run of empty lines (CRLF) before the request line (RFC 9112 §2.2);
 * - a token method: common ones, unusual registered ones (PROPFIND, M-SEARCH, ...) and,
 *   unless `methods` narrows it, random tokens (never CONNECT, which needs authority-form);
 * - an origin-form target, visible ASCII without `#`, with or without a query;
 * - HTTP/1.0 or HTTP/1.1;
 * - exactly one Host field (always for HTTP/1.1, sometimes for HTTP/1.0) with a valid
 *   `uri-host [":" port]` value (reg-name with %XX, IPv4, IP-literal, or empty);
 * - 0–30 other fields with token names and values of VCHAR / SP / HTAB / obs-text without
 *   leading or trailing whitespace, and optionally Connection (close / keep-alive /
 *   upgrade and other options), Upgrade and `Expect: 100-continue`; the framing and
 *   connection fields are placed at random positions among the others;
 * - a body: none, Content-Length, or (HTTP/1.1 only) chunked with random chunk sizes
 *   (hex in either case, optionally zero-padded), optional chunk extensions (token or
 *   quoted-string values, optionally with BWS), and optional trailer fields.
 * @module
 */
import fc from "fast-check";

// ---- bytes ------------------------------------------------------------------------------

/** A latin1 string's bytes. */
export function toBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Bytes as a latin1 string. */
export function fromBytes(b: Uint8Array, start = 0, end = b.length): string {
  let s = "";
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, Math.min(end, i + 4096)));
  }
  return s;
}

/** `a` followed by `b`. */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const codes = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const str = (cs: readonly number[]): string => String.fromCharCode(...cs);

/** tchar (RFC 9110 §5.6.2). */
export const TOKEN_CHARS = str([...codes("!#$%&'*+-.^_`|~"), ...range(0x30, 0x39), ...range(0x41, 0x5a), ...range(0x61, 0x7a)]);
const VCHAR = range(0x21, 0x7e);
const OBS_TEXT = range(0x80, 0xff);
const SP = 0x20;
const HTAB = 0x09;

function charsOf(alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength, size: "max" });
}

/** A random token (method, field name, extension name, ...). */
export function token(minLength = 1, maxLength = 16): fc.Arbitrary<string> {
  return charsOf(TOKEN_CHARS, minLength, maxLength);
}

/** `s` with each letter's case chosen at random. */
function anyCase(s: string): fc.Arbitrary<string> {
  return fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) =>
    Array.from(s, (c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(""),
  );
}

// ---- field values -----------------------------------------------------------------------

/** A field value: VCHAR / obs-text, with SP and HTAB only between them (maybe empty). */
export function fieldValue(maxLength = 40): fc.Arbitrary<string> {
  const unit = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...VCHAR) },
    { weight: 2, arbitrary: fc.constantFrom(SP, HTAB) },
    { weight: 1, arbitrary: fc.constantFrom(...OBS_TEXT) },
  );
  return fc.array(unit, { maxLength, size: "max" }).map((cs) => str(cs).replace(/^[ \t]+|[ \t]+$/g, ""));
}

/**
 * Names the parsers treat specially (framing, connection handling; llhttp also reads
 * Proxy-Connection and Keep-Alive): random fields never use them.
 */
const SPECIAL_NAMES = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "proxy-connection",
  "keep-alive",
  "upgrade",
  "expect",
]);

/** A field name that is not one of the special ones. */
export function plainFieldName(maxLength = 20): fc.Arbitrary<string> {
  return fc.oneof(
    token(1, maxLength),
    fc.constantFrom("Accept", "User-Agent", "X-Request-Id", "Cookie", "accept-language", "CACHE-CONTROL", "x"),
  ).filter((n) => !SPECIAL_NAMES.has(n.toLowerCase()));
}

export type FieldLine = [name: string, value: string];

// ---- request line -----------------------------------------------------------------------

export const COMMON_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"] as const;
/** Registered methods llhttp knows too (no CONNECT: it takes authority-form only; no PRI). */
export const UNUSUAL_METHODS = [
  "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT",
  "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
  "PURGE", "MKCALENDAR", "LINK", "UNLINK", "BIND", "REBIND", "UNBIND", "ACL", "SOURCE", "QUERY",
] as const;

function method(methods: readonly string[] | undefined): fc.Arbitrary<string> {
  if (methods) return fc.constantFrom(...methods);
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...COMMON_METHODS) },
    { weight: 2, arbitrary: fc.constantFrom(...UNUSUAL_METHODS) },
    { weight: 2, arbitrary: token(1, 12).filter((m) => m !== "CONNECT") },
  );
}

const PATH_CHARS = str(VCHAR.filter((c) => c !== 0x23 && c !== 0x3f)); // no '#', no '?'
const QUERY_CHARS = str(VCHAR.filter((c) => c !== 0x23)); // '?' allowed in a query

/** An origin-form request-target: path and optional query. */
export function originForm(maxLength = 60): fc.Arbitrary<{ path: string; query: string | undefined }> {
  return fc.record({
    path: fc.oneof(
      { weight: 1, arbitrary: fc.constant("/") },
      { weight: 4, arbitrary: charsOf(PATH_CHARS, 0, maxLength).map((p) => `/${p}`) },
    ),
    query: fc.option(charsOf(QUERY_CHARS, 0, maxLength), { nil: undefined }),
  });
}

// ---- Host -------------------------------------------------------------------------------

const REG_NAME_CHARS = str([...range(0x30, 0x39), ...range(0x41, 0x5a), ...range(0x61, 0x7a), ...codes("-._~!$&'()*+;=")]);

function hostValue(): fc.Arbitrary<string> {
  const hex = charsOf("0123456789abcdefABCDEF", 2, 2).map((h) => `%${h}`);
  const regName = fc.array(fc.oneof({ weight: 9, arbitrary: charsOf(REG_NAME_CHARS, 1, 1) }, { weight: 1, arbitrary: hex }), {
    minLength: 1,
    maxLength: 24,
    size: "max",
  }).map((parts) => parts.join(""));
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
  const ipLiteral = fc.constantFrom("[::1]", "[2001:db8::7]", "[fe80::1:2:3:4]", "[v1.fe]", "[::ffff:10.0.0.1]");
  const name = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom("localhost", "example.com", "a.b.c.example") },
    { weight: 4, arbitrary: regName },
    { weight: 1, arbitrary: ipv4 },
    { weight: 1, arbitrary: ipLiteral },
  );
  const port = fc.option(fc.integer({ min: 0, max: 65535 }).map(String), { nil: undefined });
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(name, port).map(([n, p]) => (p === undefined ? n : `${n}:${p}`)) },
    { weight: 1, arbitrary: fc.constant("") },
  );
}

// ---- chunked bodies ---------------------------------------------------------------------

const QDTEXT = [HTAB, SP, 0x21, ...range(0x23, 0x5b), ...range(0x5d, 0x7e), ...OBS_TEXT];
const QUOTABLE = [HTAB, SP, ...VCHAR, ...OBS_TEXT];

function quotedString(): fc.Arbitrary<string> {
  const part = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...QDTEXT).map((c) => str([c])) },
    { weight: 1, arbitrary: fc.constantFrom(...QUOTABLE).map((c) => `\\${str([c])}`) },
  );
  return fc.array(part, { maxLength: 16, size: "max" }).map((ps) => `"${ps.join("")}"`);
}

/** Bad whitespace (RFC 9112 §7.1.1 allows it around `;` and `=` in chunk extensions). */
function bws(allowed: boolean): fc.Arbitrary<string> {
  if (!allowed) return fc.constant("");
  return fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 1, arbitrary: charsOf(" \t", 1, 3) });
}

/** A chunk extension: `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`. */
export function chunkExtension(withBws: boolean, maxCount = 3): fc.Arbitrary<string> {
  const one = fc
    .tuple(
      bws(withBws),
      bws(withBws),
      token(1, 10),
      fc.option(fc.tuple(bws(withBws), bws(withBws), fc.oneof(token(1, 12), quotedString())), { nil: undefined }),
    )
    .map(([b1, b2, name, value]) => `${b1};${b2}${name}${value === undefined ? "" : `${value[0]}=${value[1]}${value[2]}`}`);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant("") },
    { weight: 1, arbitrary: fc.array(one, { minLength: 1, maxLength: maxCount }).map((es) => es.join("")) },
  );
}

/** How a chunk size is written: hex digits of either case, maybe zero-padded. */
function sizeText(size: number): fc.Arbitrary<string> {
  return fc.tuple(fc.boolean(), fc.nat(2)).map(([upper, pad]) => {
    const hex = size.toString(16);
    return "0".repeat(pad) + (upper ? hex.toUpperCase() : hex);
  });
}

export interface Chunk {
  /** The chunk data. */
  data: Uint8Array;
  /** The size as written (hex). */
  size: string;
  /** The chunk extension as written (everything between the size and CRLF). */
  ext: string;
}

export interface ChunkedBody {
  chunks: Chunk[];
  /** The last chunk's size as written ("0", "000", ...) and its extension. */
  lastSize: string;
  lastExt: string;
  trailers: FieldLine[];
  /** The whole encoded body, from the first size line to the final CRLF. */
  encoded: Uint8Array;
  /** The decoded data. */
  data: Uint8Array;
  /** Bytes of the trailer section: the trailer field lines and the final CRLF. */
  trailerSectionLength: number;
}

export interface ChunkedOptions {
  /** BWS around `;` and `=` in extensions (llhttp refuses it). Default true. */
  extensionWhitespace?: boolean;
  /** Zero-padded chunk sizes. Default true. */
  paddedSizes?: boolean;
  maxChunks?: number;
  maxChunkSize?: number;
  maxTrailers?: number;
}

function encodeChunked(chunks: Chunk[], lastSize: string, lastExt: string, trailers: FieldLine[]): ChunkedBody {
  let wire = "";
  let data = "";
  for (const c of chunks) {
    const d = fromBytes(c.data);
    wire += `${c.size}${c.ext}\r\n${d}\r\n`;
    data += d;
  }
  wire += `${lastSize}${lastExt}\r\n`;
  let section = "";
  for (const [n, v] of trailers) section += `${n}: ${v}\r\n`;
  section += "\r\n";
  wire += section;
  return {
    chunks,
    lastSize,
    lastExt,
    trailers,
    encoded: toBytes(wire),
    data: toBytes(data),
    trailerSectionLength: section.length,
  };
}

/** A chunked body: random chunks, extensions and trailers. */
export function chunkedBody(options: ChunkedOptions = {}): fc.Arbitrary<ChunkedBody> {
  const withBws = options.extensionWhitespace ?? true;
  const padded = options.paddedSizes ?? true;
  const chunk = fc
    .uint8Array({ minLength: 1, maxLength: options.maxChunkSize ?? 64, size: "max" })
    .chain((data) =>
      fc.record({
        data: fc.constant(data),
        size: padded ? sizeText(data.length) : fc.constant(data.length.toString(16)),
        ext: chunkExtension(withBws),
      }),
    );
  return fc
    .record({
      chunks: fc.array(chunk, { maxLength: options.maxChunks ?? 8, size: "max" }),
      lastSize: padded ? fc.constantFrom("0", "0", "0", "00", "000") : fc.constant("0"),
      lastExt: chunkExtension(withBws),
      trailers: fc.array(fc.tuple(plainFieldName(), fieldValue(30)), { maxLength: options.maxTrailers ?? 4, size: "max" }),
    })
    .map(({ chunks, lastSize, lastExt, trailers }) => encodeChunked(chunks, lastSize, lastExt, trailers));
}

// ---- whole requests ---------------------------------------------------------------------

export type Version = "http10" | "http11";

export type Body =
  | { kind: "none" }
  | { kind: "content-length"; data: Uint8Array }
  | { kind: "chunked"; chunked: ChunkedBody };

/** A generated request: its bytes and everything a parser should find in them. */
export interface GeneratedRequest {
  /** The whole request: empty lines, head and body. */
  bytes: Uint8Array;
  /** Bytes up to the end of the empty line that ends the head. */
  headLength: number;
  /** Where the request line starts (after the leading empty lines). */
  requestLineStart: number;
  method: string;
  target: string;
  path: string;
  query: string | undefined;
  version: Version;
  /** Every field line in wire order. */
  headers: FieldLine[];
  /** For each field line, the offset where it starts. */
  headerOffsets: number[];
  body: Body;
  /** The decoded body bytes (empty for none). */
  bodyData: Uint8Array;
  keepAlive: boolean;
  upgrade: boolean;
  expectContinue: boolean;
}

export interface RequestOptions {
  /** The methods to pick from (default: common, unusual registered and random tokens). */
  methods?: readonly string[];
  /** Most random fields besides Host, framing and connection fields. Default 30. */
  maxExtraHeaders?: number;
  maxValueLength?: number;
  maxTargetLength?: number;
  /** Empty lines before the request line. Default true. */
  leadingEmptyLines?: boolean;
  /** Options for chunked bodies. */
  chunked?: ChunkedOptions;
  maxBodyLength?: number;
}

interface ConnectionChoice {
  /** The Connection field values (one field each), or none. */
  values: string[];
  close: boolean;
  keepAlive: boolean;
  upgradeOption: boolean;
}

/** Connection fields, never with both `close` and `keep-alive` (parsers differ on that). */
function connectionFields(): fc.Arbitrary<ConnectionChoice> {
  const option = fc.oneof(
    fc.constant("close").chain(anyCase),
    fc.constant("keep-alive").chain(anyCase),
    fc.constant("upgrade").chain(anyCase),
    fc.constantFrom("TE", "foo", "x-trace"),
  );
  return fc
    .array(fc.array(option, { minLength: 1, maxLength: 3 }), { maxLength: 2 })
    .filter((fields) => {
      const all = fields.flat().map((o) => o.toLowerCase());
      return !(all.includes("close") && all.includes("keep-alive"));
    })
    .chain((fields) =>
      fc.tuple(...fields.map((f) => fc.constantFrom(", ", ",", " ,\t").map((sep) => f.join(sep)))).map((values) => {
        const all = fields.flat().map((o) => o.toLowerCase());
        return {
          values,
          close: all.includes("close"),
          keepAlive: all.includes("keep-alive"),
          upgradeOption: all.includes("upgrade"),
        };
      }),
    );
}

interface RequestSpec {
  empties: number;
  method: string;
  target: { path: string; query: string | undefined };
  version: Version;
  host: { present: boolean; name: string; value: string };
  extra: FieldLine[];
  connection: ConnectionChoice;
  upgradeField: string | undefined;
  expect: string | undefined;
  bodyKind: "none" | "content-length" | "chunked";
  clName: string;
  teName: string;
  teValue: string;
  contentLength: Uint8Array;
  chunked: ChunkedBody;
  /** Insertion positions for the special fields among the extra ones. */
  positions: number[];
}

function buildRequest(spec: RequestSpec): GeneratedRequest {
  const http11 = spec.version === "http11";
  const upgrade = spec.upgradeField !== undefined && spec.connection.upgradeOption;
  // A body only when the request is not an upgrade (an upgrading request's bytes after
  // the head belong to the new protocol for llhttp), and chunked only in HTTP/1.1.
  let bodyKind = upgrade ? "none" : spec.bodyKind;
  if (bodyKind === "chunked" && !http11) bodyKind = "content-length";

  const special: FieldLine[] = [];
  if (spec.host.present || http11) special.push([spec.host.name, spec.host.value]);
  for (const v of spec.connection.values) special.push(["Connection", v]);
  if (spec.upgradeField !== undefined) special.push(["Upgrade", spec.upgradeField]);
  if (spec.expect !== undefined) special.push(["Expect", spec.expect]);
  let body: Body;
  if (bodyKind === "content-length") {
    special.push([spec.clName, String(spec.contentLength.length)]);
    body = { kind: "content-length", data: spec.contentLength };
  } else if (bodyKind === "chunked") {
    special.push([spec.teName, spec.teValue]);
    body = { kind: "chunked", chunked: spec.chunked };
  } else {
    body = { kind: "none" };
  }

  const headers: FieldLine[] = [...spec.extra];
  special.forEach((f, i) => headers.splice((spec.positions[i] ?? 0) % (headers.length + 1), 0, f));

  const target = spec.target.query === undefined ? spec.target.path : `${spec.target.path}?${spec.target.query}`;
  let head = "\r\n".repeat(spec.empties);
  const requestLineStart = head.length;
  head += `${spec.method} ${target} ${http11 ? "HTTP/1.1" : "HTTP/1.0"}\r\n`;
  const headerOffsets: number[] = [];
  for (const [n, v] of headers) {
    headerOffsets.push(head.length);
    head += `${n}: ${v}\r\n`;
  }
  head += "\r\n";
  const headBytes = toBytes(head);
  const bodyBytes = body.kind === "content-length" ? body.data : body.kind === "chunked" ? body.chunked.encoded : new Uint8Array(0);
  const bodyData = body.kind === "content-length" ? body.data : body.kind === "chunked" ? body.chunked.data : new Uint8Array(0);
  const { close, keepAlive } = spec.connection;
  return {
    bytes: concatBytes(headBytes, bodyBytes),
    headLength: headBytes.length,
    requestLineStart,
    method: spec.method,
    target,
    path: spec.target.path,
    query: spec.target.query,
    version: spec.version,
    headers,
    headerOffsets,
    body,
    bodyData,
    keepAlive: http11 ? !close : keepAlive && !close,
    upgrade,
    expectContinue: http11 && spec.expect !== undefined,
  };
}

/** `arb` once in `oneIn` draws, otherwise undefined. */
function sometimes<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

/** A valid HTTP/1.0 or HTTP/1.1 request (see the module comment). */
export function validRequest(options: RequestOptions = {}): fc.Arbitrary<GeneratedRequest> {
  const spec: fc.Arbitrary<RequestSpec> = fc.record({
    empties: options.leadingEmptyLines ?? true ? fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }) : fc.constant(0),
    method: method(options.methods),
    target: originForm(options.maxTargetLength ?? 60),
    version: fc.constantFrom<Version>("http10", "http11", "http11"),
    host: fc.record({
      present: fc.boolean(),
      name: fc.constantFrom("Host", "host", "HOST", "hOsT"),
      value: hostValue(),
    }),
    extra: fc.array(fc.tuple(plainFieldName(), fieldValue(options.maxValueLength ?? 40)), { maxLength: options.maxExtraHeaders ?? 30, size: "max" }),
    connection: fc.oneof({ weight: 2, arbitrary: fc.constant<ConnectionChoice>({ values: [], close: false, keepAlive: false, upgradeOption: false }) }, { weight: 1, arbitrary: connectionFields() }),
    upgradeField: sometimes(fc.constantFrom("websocket", "h2c", "foo/2, bar"), 4),
    expect: sometimes(fc.constant("100-continue").chain(anyCase), 6),
    bodyKind: fc.constantFrom<RequestSpec["bodyKind"]>("none", "content-length", "chunked"),
    clName: fc.constantFrom("Content-Length", "content-length", "CONTENT-LENGTH"),
    teName: fc.constantFrom("Transfer-Encoding", "transfer-encoding", "TRANSFER-ENCODING"),
    teValue: fc.constant("chunked").chain(anyCase),
    contentLength: fc.uint8Array({ maxLength: options.maxBodyLength ?? 200, size: "max" }),
    chunked: chunkedBody(options.chunked),
    positions: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
  });
  return spec.map(buildRequest);
}

/**
 * Raw split points, for any length: `cut` reduces them modulo the length (so they shrink
 * well and need no `chain` on the input they cut).
 */
export function splitPoints(maxCount = 12): fc.Arbitrary<number[]> {
  return fc.array(fc.nat(), { maxLength: maxCount, size: "max" });
}

/** Cuts `bytes` into non-empty pieces at the given raw points (see `splitPoints`). */
export function cut(bytes: Uint8Array, raw: readonly number[]): Uint8Array[] {
  if (bytes.length < 2) return [bytes];
  const at = [...new Set(raw.map((r) => 1 + (r % (bytes.length - 1))))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let prev = 0;
  for (const p of at) {
    pieces.push(bytes.subarray(prev, p));
    prev = p;
  }
  pieces.push(bytes.subarray(prev));
  return pieces;
}
