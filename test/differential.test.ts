/**
 * Differential test against Node's own HTTP parser (llhttp, through the native binding
 * node:http uses): generated valid requests must parse the same in both — method, target,
 * version, field lines in order, keep-alive, upgrade, body (Content-Length and chunked)
 * and trailers — and mutated requests that both accept must be framed the same way (where
 * the message ends, what its body is), which is what request smuggling would exploit.
 *
 * The generator stays inside what both parsers accept: methods llhttp knows (not CONNECT,
 * which takes authority-form, nor PRI), no BWS in chunk extensions (llhttp refuses it),
 * never both `close` and `keep-alive` in Connection (llhttp ignores `close` in HTTP/1.0).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Core, DEFAULT_LIMITS, initialChunkedState, type RequestHead } from "../host/core.js";
import { loadFuzzHeads } from "./support/corpora.js";
import { httpCommon } from "./support/llhttp.js";
import {
  COMMON_METHODS,
  UNUSUAL_METHODS,
  concatBytes,
  fromBytes,
  toBytes,
  validRequest,
  type GeneratedRequest,
} from "./support/arbitraries.js";

const core = Core.load();
/** `TOPHAT_PROPERTY_RUNS=10 npx vitest run ...` runs every property ten times as often. */
const runs = (n: number): number => Math.round(n * Number(process.env["TOPHAT_PROPERTY_RUNS"] ?? 1));
const L = DEFAULT_LIMITS;

// ---- Node's llhttp binding ----------------------------------------------------------------

const HTTPParser = httpCommon.HTTPParser;

/**
 * llhttp's method names by its method number. node:http reads them from the binding's
 * `allMethods` (`methods` leaves out some, so its indices drift: QUERY is 46 in llhttp).
 */
const METHOD_NAMES: readonly string[] = (() => {
  const quiet = process.noDeprecation;
  process.noDeprecation = true; // process.binding warns once; this is a test
  try {
    const withBinding = process as unknown as { binding(name: string): { allMethods?: unknown } };
    const binding = withBinding.binding("http_parser");
    if (Array.isArray(binding.allMethods)) return binding.allMethods.map(String);
  } catch {
    // fall through to the public list
  } finally {
    process.noDeprecation = quiet;
  }
  return httpCommon.methods;
})();

interface LlhttpMessage {
  method: string;
  url: string;
  version: string;
  /** Field lines, flat: name, value, name, value, ... (latin1) */
  headers: string[];
  upgrade: boolean;
  keepAlive: boolean;
  body: string;
  trailers: string[];
  /** Bytes from the start of the input to the end of the message, once complete. */
  end: number | undefined;
}

interface LlhttpResult {
  message: LlhttpMessage | undefined;
  error: string | undefined;
}

/**
 * Parses the first request in `bytes` with a fresh llhttp parser, as node:http does.
 * `byteByByte` feeds one byte per call, to learn exactly where the message ends.
 */
function llhttp(bytes: Uint8Array, byteByByte = false): LlhttpResult {
  const parser = new HTTPParser();
  let message: LlhttpMessage | undefined;
  let early: string[] = [];
  let earlyUrl = "";
  let fed = 0;
  let completeAt: number | undefined;
  parser[HTTPParser.kOnMessageBegin] = (): void => {};
  parser[HTTPParser.kOnExecute] = (): void => {};
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
    // More than 32 fields are handed over early; after the head, these are trailers.
    if (message) message.trailers.push(...headers);
    else {
      early = early.concat(headers);
      earlyUrl += url;
    }
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined,
    _status: unknown, _reason: unknown, upgrade: boolean, keepAlive: boolean,
  ): number => {
    if (message) return 0; // a second message: only the first is compared
    message = {
      method: METHOD_NAMES[method] ?? `#${method}`,
      url: url ?? earlyUrl,
      version: `${major}.${minor}`,
      headers: early.concat(headers ?? []),
      upgrade,
      keepAlive,
      body: "",
      trailers: [],
      end: undefined,
    };
    return 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer): void => {
    if (message && message.end === undefined) message.body += chunk.toString("latin1");
  };
  parser[HTTPParser.kOnMessageComplete] = (): void => {
    if (message && message.end === undefined && completeAt === undefined) completeAt = fed;
  };
  parser.initialize(HTTPParser.REQUEST, {});
  let error: string | undefined;
  try {
    const step = byteByByte ? 1 : bytes.length;
    for (let at = 0; at < bytes.length && !error; at += step) {
      const piece = Buffer.from(bytes.subarray(at, at + step));
      fed = at + piece.length;
      const r = parser.execute(piece);
      if (r instanceof Error) error = (r as Error & { code?: string }).code ?? r.message;
      if (message && completeAt !== undefined && message.end === undefined) message.end = completeAt;
      if (message?.end !== undefined && byteByByte) break;
    }
  } finally {
    parser.close();
  }
  return { message, error };
}

// ---- Tophat, as a host uses it --------------------------------------------------------------

interface TophatMessage extends Omit<LlhttpMessage, "end"> {
  end: number | undefined;
  expectContinue: boolean;
}

function field(bytes: Uint8Array, flat: readonly number[], i: number): string {
  return fromBytes(bytes, flat[i]!, flat[i]! + flat[i + 1]!);
}

/** Parses the first request in `bytes` with the core; undefined when it is not valid. */
function tophat(bytes: Uint8Array): TophatMessage | undefined | "incomplete" {
  const out = core.parseHead(bytes, L);
  if (out.tag === "incomplete") return "incomplete";
  if (out.tag === "invalid") return undefined;
  const h: RequestHead = out.val;
  const headers: string[] = [];
  for (let i = 0; i < h.headers.length; i += 4) headers.push(field(bytes, h.headers, i), field(bytes, h.headers, i + 2));
  const m: TophatMessage = {
    method: fromBytes(bytes, h.method.start, h.method.start + h.method.len),
    url: fromBytes(bytes, h.target.start, h.target.start + h.target.len),
    version: h.version === "http11" ? "1.1" : "1.0",
    headers,
    upgrade: h.upgrade,
    keepAlive: h.keepAlive,
    expectContinue: h.expectContinue,
    body: "",
    trailers: [],
    end: undefined,
  };
  const rest = bytes.subarray(h.headLength);
  if (h.body.tag === "none") {
    m.end = h.headLength;
  } else if (h.body.tag === "content-length") {
    m.body = fromBytes(rest, 0, Math.min(rest.length, h.body.val));
    if (rest.length >= h.body.val) m.end = h.headLength + h.body.val;
  } else {
    const out = core.decodeChunked(rest, initialChunkedState(), L);
    if (out.tag === "invalid") return undefined;
    for (const s of out.val.data) m.body += fromBytes(rest, s.start, s.start + s.len);
    for (let i = 0; i < out.val.trailers.length; i += 4) {
      m.trailers.push(field(rest, out.val.trailers, i), field(rest, out.val.trailers, i + 2));
    }
    if (out.val.state.phase === "done") m.end = h.headLength + out.val.consumed;
  }
  return m;
}

/**
 * A message both parsers accepted is framed the same: where it ends, its body and trailers,
 * its request line and fields, and (but for the divergences pinned below) keep-alive and
 * upgrade. A difference in framing is a request-smuggling gap.
 */
function expectSameFraming(ours: TophatMessage, t: LlhttpMessage, bytes: Uint8Array): void {
  expect({ end: ours.end, body: ours.body, trailers: ours.trailers }).toEqual({ end: t.end, body: t.body, trailers: t.trailers });
  expect([ours.method, ours.url, ours.version, ours.headers]).toEqual([t.method, t.url, t.version, t.headers]);
  // Known divergences, pinned in "known divergences" below: an HTAB before a comma in
  // Connection; `close` with `keep-alive` in HTTP/1.0; CONNECT's upgrade flag.
  const values = (name: string): string[] => ours.headers.filter((_, i) => i % 2 === 1 && ours.headers[i - 1]!.toLowerCase() === name);
  const connection = values("connection").join(",").toLowerCase();
  // An HTAB anywhere in a Connection line, OWS around the value included (the values above
  // are trimmed of it), so the raw bytes are looked at.
  const tabbed = /(^|\n)connection:[^\n]*\t/i.test(Buffer.from(bytes).toString("latin1"));
  if (!tabbed && ours.method !== "CONNECT") expect(ours.upgrade).toBe(t.upgrade);
  if (!tabbed && !(ours.version === "1.0" && connection.includes("close") && connection.includes("keep-alive"))) {
    expect(ours.keepAlive).toBe(t.keepAlive);
  }
}

// ---- the tests ----------------------------------------------------------------------------------

/** The generator, narrowed to what llhttp accepts too. */
const llhttpRequest = validRequest({
  methods: [...COMMON_METHODS, ...UNUSUAL_METHODS],
  chunked: { extensionWhitespace: false, maxChunks: 6, maxChunkSize: 100 },
});

describe("differential: Tophat's core and Node's llhttp", () => {
  it("the native llhttp binding is loaded and parses a request", () => {
    const r = llhttp(toBytes("QUERY /q HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"));
    expect(r).toEqual({
      error: undefined,
      message: {
        method: "QUERY", url: "/q", version: "1.1", headers: ["Host", "a", "Content-Length", "2"],
        upgrade: false, keepAlive: true, body: "hi", trailers: [], end: 51,
      },
    });
  });

  it("valid requests parse the same: method, target, version, fields, keep-alive, upgrade, body, trailers", () => {
    const seen = { chunked: 0, length: 0, upgrade: 0, close: 0, many: 0 };
    fc.assert(
      fc.property(llhttpRequest, (r: GeneratedRequest) => {
        const theirs = llhttp(r.bytes);
        expect(theirs.error).toBeUndefined();
        const ours = tophat(r.bytes);
        if (ours === undefined || ours === "incomplete") throw new Error(`the core did not accept the request: ${String(ours)}`);
        const { end: theirEnd, ...their } = theirs.message!;
        const { end: ourEnd, expectContinue, ...our } = ours;
        expect(our).toEqual(their);
        // Both agree with what was generated, and end the message where it ends.
        expect(our.body).toBe(fromBytes(r.bodyData));
        expect(our.keepAlive).toBe(r.keepAlive);
        expect(our.upgrade).toBe(r.upgrade);
        expect(expectContinue).toBe(r.expectContinue);
        expect(ourEnd).toBe(r.bytes.length);
        expect(theirEnd).toBe(r.bytes.length);
        if (r.body.kind === "chunked") seen.chunked++;
        if (r.body.kind === "content-length") seen.length++;
        if (r.upgrade) seen.upgrade++;
        if (!r.keepAlive) seen.close++;
        if (r.headers.length > 32) seen.many++;
      }),
      { numRuns: runs(600) },
    );
    // The generator reaches the interesting cases.
    expect(seen.chunked).toBeGreaterThan(50);
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.upgrade).toBeGreaterThan(5);
    expect(seen.close).toBeGreaterThan(20);
    expect(seen.many).toBeGreaterThan(0);
  });

  it("the same requests sent back to back: both find the second message where the first ends", () => {
    fc.assert(
      fc.property(llhttpRequest, llhttpRequest, (a, b) => {
        fc.pre(!a.upgrade);
        const both = concatBytes(a.bytes, b.bytes);
        const ours = tophat(both);
        if (ours === undefined || ours === "incomplete") throw new Error("the core did not accept the first request");
        expect(ours.end).toBe(a.bytes.length);
        const second = tophat(both.subarray(ours.end!));
        if (second === undefined || second === "incomplete") throw new Error("the core did not accept the second request");
        const theirs = llhttp(b.bytes).message!;
        expect(second.method).toBe(theirs.method);
        expect(second.url).toBe(theirs.url);
        expect(second.headers).toEqual(theirs.headers);
        expect(second.body).toBe(theirs.body);
      }),
      { numRuns: runs(200) },
    );
  });

  it("mutated requests that both accept are framed the same (no smuggling gap)", () => {
    const CR = 0x0d;
    const LF = 0x0a;
    const edits = fc.array(
      fc.oneof(
        fc.record({ at: fc.nat(), del: fc.constant(1), ins: fc.constant<number[]>([]) }),
        fc.record({
          at: fc.nat(),
          del: fc.nat(1),
          ins: fc.oneof(
            fc.constantFrom<number[]>([CR], [LF], [0], [0x20], [0x09], [0x2c], [0x3b], [0x22], [0x30], [0x61], [0xff]),
            fc.constantFrom<number[]>(
              ...["\r\nContent-Length: 3", "\r\nContent-Length: 0", "\r\nTransfer-Encoding: chunked", "\r\nConnection: close",
                ", chunked", ",0", " 3", "\r\n\r\n", "0\r\n\r\n", ";x=y", "\r\n", "\n"].map((s) => Array.from(toBytes(s))),
            ),
          ),
        }),
      ),
      { minLength: 1, maxLength: 3 },
    );
    let compared = 0;
    fc.assert(
      fc.property(llhttpRequest, edits, (r, es) => {
        const b = Array.from(r.bytes);
        for (const e of es) b.splice(e.at % (b.length + 1), e.del, ...e.ins);
        const bytes = Uint8Array.from(b);
        const ours = tophat(bytes);
        if (ours === undefined || ours === "incomplete" || ours.end === undefined) return;
        const theirs = llhttp(bytes, true);
        if (theirs.error !== undefined || theirs.message?.end === undefined) return;
        compared++;
        expectSameFraming(ours, theirs.message, bytes);
      }),
      { numRuns: runs(1000) },
    );
    expect(compared).toBeGreaterThan(100);
  });

  it("the fuzzer's parse-head corpus: every input both accept is framed the same", () => {
    // fuzz/corpus/parse_head.json: the corpus libFuzzer kept (inputs that reached new
    // coverage of the core), grown from test/corpora's requests; see fuzz/README.md.
    const corpus = loadFuzzHeads();
    const tally = { both: 0, oursOnly: 0, theirsOnly: 0, neither: 0 };
    const refusals = new Map<string, number>();
    for (const bytes of corpus) {
      const ours = tophat(bytes);
      const quick = llhttp(bytes);
      const weAccept = ours !== undefined && ours !== "incomplete" && ours.end !== undefined;
      const theyAccept = quick.error === undefined && quick.message?.end !== undefined;
      if (!weAccept) {
        tally[theyAccept ? "theirsOnly" : "neither"]++;
        // Tophat is the stricter one here: why it refused, for the log.
        const out = core.parseHead(bytes, L);
        if (theyAccept) refusals.set(out.tag === "invalid" ? out.val.reason : out.tag, (refusals.get(out.tag === "invalid" ? out.val.reason : out.tag) ?? 0) + 1);
        continue;
      }
      const theirs = llhttp(bytes, true);
      if (theirs.error !== undefined || theirs.message?.end === undefined) {
        // The one rule by which Tophat accepts what llhttp refuses: methods are extensible
        // tokens (RFC 9110 §9.1; the core checks tchar), llhttp knows a fixed list.
        expect(theirs.error, `only Tophat accepts ${JSON.stringify(Buffer.from(bytes).toString("latin1"))}`).toBe("HPE_INVALID_METHOD");
        tally.oursOnly++;
        continue;
      }
      tally.both++;
      try {
        expectSameFraming(ours, theirs.message, bytes);
      } catch (error) {
        throw new Error(`fuzz corpus input ${JSON.stringify(Buffer.from(bytes).toString("latin1"))}: ${(error as Error).message}`);
      }
    }
    console.log(
      `[differential] fuzz corpus: ${corpus.length} inputs; both accept ${tally.both} (framed the same), only Tophat ${tally.oursOnly} (extension methods), ` +
        `only llhttp ${tally.theirsOnly} (Tophat's stricter rules: ${[...refusals].map(([r, n]) => `${r} ${n}`).join(", ")}), neither ${tally.neither}`,
    );
    expect(tally.both).toBeGreaterThan(50);
  });

  describe("known divergences (each side pinned, so a change on either shows up here)", () => {
    const both = (request: string) => {
      const bytes = toBytes(request);
      const ours = tophat(bytes);
      if (ours === undefined || ours === "incomplete") throw new Error("the core did not accept the request");
      const theirs = llhttp(bytes);
      expect(theirs.error).toBeUndefined();
      return { ours, theirs: theirs.message! };
    };

    it("HTTP/1.0 with `Connection: keep-alive, close`: Tophat closes (close wins), llhttp keeps alive", () => {
      const { ours, theirs } = both("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
      expect([ours.keepAlive, theirs.keepAlive]).toEqual([false, true]);
    });

    it("HTAB before the comma in Connection: Tophat reads the option (OWS, RFC 9110 §5.6.1), llhttp does not", () => {
      const { ours, theirs } = both("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\t, TE\r\n\r\n");
      expect([ours.keepAlive, theirs.keepAlive]).toEqual([false, true]);
      const up = both("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\t,x\r\n\r\n");
      expect([up.ours.upgrade, up.theirs.upgrade]).toEqual([true, false]);
      // Trailing OWS too (found by the fuzzer): `close<HTAB>` is the option close.
      const trailing = both("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\t\r\n\r\n");
      expect([trailing.ours.keepAlive, trailing.theirs.keepAlive]).toEqual([false, true]);
    });

    it("CONNECT: llhttp flags an upgrade (a 2xx makes the connection a tunnel); Tophat's flag is the Upgrade field's only (the tunnel is the handler's: RFC 9110 §9.3.6)", () => {
      const { ours, theirs } = both("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
      expect([ours.upgrade, theirs.upgrade]).toEqual([false, true]);
    });

    it("an empty Upgrade field offers no protocol: neither reports an upgrade (they used to differ)", () => {
      const { ours, theirs } = both("GET / HTTP/1.1\r\nHost: a\r\nUpgrade:\r\nConnection: upgrade\r\n\r\n");
      expect([ours.upgrade, theirs.upgrade]).toEqual([false, false]);
    });
  });
});
