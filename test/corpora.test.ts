/**
 * Conformance against three third-party request corpora (llhttp, http-parser,
 * desync-guardian; see test/support/corpora.ts for how their expectations map to ours).
 *
 * - Must-reject cases are rejected by parse-head, or by chunked.decode when the fault is
 *   in a chunked body; the reason must be one the source's error category maps to
 *   (REASONS_FOR below) unless the exception table names the exact reason.
 * - Accepted cases parse, message after message (head-length + body length or consumed
 *   bytes), to the expected method, target, version, field lines (byte-exact, trailers
 *   included) and body.
 * - Deliberate deviations are in test/support/corpus-exceptions.ts, each asserted exactly.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  Core,
  DEFAULT_LIMITS,
  initialChunkedState,
  type RejectReason,
  type Span,
} from "../host/core.js";
import {
  ADDED_HOST,
  CORPUS_NAMES,
  bytesOf,
  latin1,
  loadCorpora,
  withHost,
  type CorpusCase,
  type CorpusName,
  type ExpectedMessage,
} from "./support/corpora.js";
import { CORPUS_EXCEPTIONS, type CorpusException, type Rewrite } from "./support/corpus-exceptions.js";

const core = Core.load();
const corpora = loadCorpora();
const LIMITS = DEFAULT_LIMITS;

// ---- what each source error may map to ------------------------------------------------

const LINE: RejectReason[] = ["bad-line-ending"];
const FIELD_SYNTAX: RejectReason[] = ["bad-header-name", "bad-header-value", "space-before-colon", "obs-fold", "bad-line-ending"];
const TE: RejectReason[] = ["bad-transfer-encoding", "unsupported-transfer-coding", "content-length-with-transfer-encoding"];

/** The reasons a must-reject case may get, by corpus and source error name. */
const REASONS_FOR: Record<CorpusName, Record<string, RejectReason[]>> = {
  llhttp: {
    LF_EXPECTED: LINE,
    CR_EXPECTED: LINE,
    INVALID_HEADER_TOKEN: FIELD_SYNTAX,
    UNEXPECTED_SPACE: ["obs-fold"],
    INVALID_CONTENT_LENGTH: ["bad-content-length"],
    UNEXPECTED_CONTENT_LENGTH: ["conflicting-content-length"],
    INVALID_TRANSFER_ENCODING: TE,
    // llhttp's catch-all for framing bytes: line endings, chunk extensions, chunk ends.
    STRICT: ["bad-line-ending", "bad-chunk-extension", "bad-chunk-terminator"],
    INVALID_CONSTANT: ["bad-version"],
    INVALID_METHOD: ["bad-method"],
    // llhttp reports "Expected CRLF after version" as a version error.
    INVALID_VERSION: ["bad-version", "unsupported-version", "bad-line-ending"],
    // llhttp reports any bad byte after the size (where an extension or the CRLF would
    // be) as a size error.
    INVALID_CHUNK_SIZE: ["bad-chunk-size", "chunk-size-overflow", "bad-chunk-extension", "bad-line-ending"],
    INVALID_URL: ["bad-target"],
  },
  "http-parser": {
    HPE_UNEXPECTED_CONTENT_LENGTH: ["conflicting-content-length", "content-length-with-transfer-encoding"],
    HPE_LF_EXPECTED: LINE,
    HPE_INVALID_HEADER_TOKEN: FIELD_SYNTAX,
    HPE_INVALID_CONTENT_LENGTH: ["bad-content-length"],
    HPE_INVALID_CONSTANT: ["bad-version"],
    HPE_INVALID_VERSION: ["bad-version", "unsupported-version"],
    HPE_INVALID_TRANSFER_ENCODING: TE,
    HPE_INVALID_METHOD: ["bad-method"],
  },
  "desync-guardian": {
    // A control byte in a Content-Length or Transfer-Encoding value fails the generic
    // field-value syntax first; so does one in an earlier, unrelated field.
    BadContentLength: ["bad-content-length", "conflicting-content-length", "bad-header-value"],
    BadTransferEncoding: [...TE, "bad-header-value"],
    MultipleContentLength: ["conflicting-content-length"],
    MultipleTransferEncodingChunked: ["bad-transfer-encoding"],
    BadHeader: FIELD_SYNTAX,
    BadMethod: ["bad-method"],
    // The extra space makes the request line malformed before the version is read.
    BadVersion: ["bad-version", "bad-request-line"],
    BadUri: ["bad-target", "bad-request-line"],
  },
};

// ---- walking an input message by message -----------------------------------------------

interface ParsedMessage {
  hostAdded: boolean;
  method: string;
  url: string;
  version: string;
  path: string;
  query: string | undefined;
  /** Head fields then trailer fields, as latin1 strings. */
  headers: [string, string][];
  /** Undefined for CONNECT: what follows its head is a tunnel, not a body. */
  body: string | undefined;
  /** Data span lengths of a chunked body. */
  chunkLengths: number[] | undefined;
  complete: boolean;
  keepAlive: boolean;
  /** Upgrade or CONNECT: the bytes after it are another protocol's. */
  switched: boolean;
  tail: string | undefined;
}

type End =
  | { kind: "rejected"; in: "head" | "body"; reason: RejectReason }
  | { kind: "incomplete-head" }
  | { kind: "incomplete-body" }
  | { kind: "consumed" }
  | { kind: "switched" }
  | { kind: "closed" }
  | { kind: "stopped" };

interface Walk {
  messages: ParsedMessage[];
  end: End;
}

function text(bytes: Uint8Array, s: Span): string {
  return latin1(bytes.subarray(s.start, s.start + s.len));
}

function fieldPairs(bytes: Uint8Array, quads: ArrayLike<number>): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 3 < quads.length; i += 4) {
    out.push([
      text(bytes, { start: quads[i]!, len: quads[i + 1]! }),
      text(bytes, { start: quads[i + 2]!, len: quads[i + 3]! }),
    ]);
  }
  return out;
}

/**
 * Parses `input` the way a connection would: head, body, next head, ... Adds `Host: x` to
 * HTTP/1.1 requests without Host. Stops at a rejection, at bytes that are not all there
 * yet, after a message that switches protocols or closes the connection, when the input is
 * used up, or after `max` messages.
 */
function walk(input: Uint8Array, max = Number.POSITIVE_INFINITY): Walk {
  let bytes = input;
  let at = 0;
  const messages: ParsedMessage[] = [];
  for (;;) {
    if (messages.length >= max) return { messages, end: { kind: "stopped" } };
    if (at >= bytes.length) return { messages, end: { kind: "consumed" } };
    const last = messages[messages.length - 1];
    if (last !== undefined && !last.keepAlive) return { messages, end: { kind: "closed" } };

    const added = withHost(bytes, at);
    bytes = added.bytes;
    const view = bytes.subarray(at);
    const out = core.parseHead(view, LIMITS);
    if (out.tag === "invalid") return { messages, end: { kind: "rejected", in: "head", reason: out.val.reason } };
    if (out.tag === "incomplete") return { messages, end: { kind: "incomplete-head" } };
    const h = out.val;
    const method = text(view, h.method);
    const isConnect = method === "CONNECT";
    const m: ParsedMessage = {
      hostAdded: added.injected,
      method,
      url: text(view, h.target),
      version: h.version === "http11" ? "1.1" : "1.0",
      path: text(view, h.path),
      query: h.query === undefined ? undefined : text(view, h.query),
      headers: fieldPairs(view, h.headers),
      body: "",
      chunkLengths: undefined,
      complete: true,
      keepAlive: h.keepAlive,
      switched: h.upgrade || isConnect,
      tail: undefined,
    };
    messages.push(m);

    let bodyEnd = h.headLength;
    if (isConnect) {
      m.body = undefined;
    } else if (h.body.tag === "content-length") {
      const have = Math.min(h.body.val, view.length - h.headLength);
      m.body = latin1(view.subarray(h.headLength, h.headLength + have));
      m.complete = have === h.body.val;
      bodyEnd = h.headLength + h.body.val;
    } else if (h.body.tag === "chunked") {
      const rest = view.subarray(h.headLength);
      const d = core.decodeChunked(rest, initialChunkedState(), LIMITS);
      if (d.tag === "invalid") {
        m.complete = false;
        return { messages, end: { kind: "rejected", in: "body", reason: d.val.reason } };
      }
      m.body = d.val.data.map((s) => text(rest, s)).join("");
      m.chunkLengths = d.val.data.map((s) => s.len);
      m.headers.push(...fieldPairs(rest, d.val.trailers));
      m.complete = d.val.state.phase === "done";
      bodyEnd = h.headLength + d.val.consumed;
    }
    if (m.switched) {
      m.tail = latin1(view.subarray(isConnect ? h.headLength : Math.min(bodyEnd, view.length)));
      return { messages, end: { kind: "switched" } };
    }
    if (!m.complete) return { messages, end: { kind: "incomplete-body" } };
    at += bodyEnd;
  }
}

function firstToken(raw: Uint8Array): string {
  return latin1(raw).replace(/^(\r\n)+/, "").split(" ")[0] ?? "";
}

function rewritten(raw: Uint8Array, r: Rewrite): Uint8Array {
  const s = latin1(raw);
  expect(s.includes(r.from), `rewrite source ${JSON.stringify(r.from)} is in the fixture`).toBe(true);
  return bytesOf(s.split(r.from).join(r.to));
}

function checkRewrite(c: CorpusCase, r: Rewrite | undefined): void {
  if (r === undefined) return;
  const out = core.parseHead(withHost(rewritten(c.raw, r), 0).bytes, LIMITS);
  if (r.outcome === "complete") expect(out.tag, "outcome once rewritten").toBe("complete");
  else expect(out.tag === "invalid" ? out.val.reason : out.tag, "outcome once rewritten").toBe(r.outcome);
}

/** Compares one parsed message with what the source expects. */
function expectMessage(p: ParsedMessage, m: ExpectedMessage, where: string): void {
  expect(p.method, `${where} method`).toBe(m.method);
  expect(p.url, `${where} target`).toBe(m.url);
  // HTTP/1.2–1.9 are parsed as 1.1 (RFC 9110 §2.5).
  expect(p.version, `${where} version`).toBe(/^1\.[1-9]$/.test(m.version) ? "1.1" : m.version);
  const headers = p.hostAdded ? [ADDED_HOST, ...m.headers] : m.headers;
  expect(p.headers, `${where} field lines`).toEqual(headers);
  if (m.body !== undefined && p.body !== undefined) expect(p.body, `${where} body`).toBe(m.body);
  if (m.complete !== undefined && p.body !== undefined) expect(p.complete, `${where} message complete`).toBe(m.complete);
  if (m.chunkLengths !== undefined && p.chunkLengths !== undefined) {
    expect(p.chunkLengths, `${where} chunk sizes`).toEqual(m.chunkLengths);
  }
  if (m.path !== undefined) expect(p.path, `${where} path`).toBe(m.path);
  if (m.query !== undefined) expect(p.query ?? "", `${where} query`).toBe(m.query);
  if (m.keepAlive !== undefined) expect(p.keepAlive, `${where} keep-alive`).toBe(m.keepAlive);
  if (m.upgradeTail !== undefined) expect(p.tail, `${where} bytes after the switch`).toBe(m.upgradeTail);
}

// ---- counts ---------------------------------------------------------------------------

interface Tally {
  mustReject: number;
  rejectedInHead: number;
  rejectedInBody: number;
  rejectedAfterCompletion: number;
  closeInstead: number;
  acceptedByRule: number;
  accepted: number;
  acceptedMessages: number;
  rejectedByRule: number;
  ambiguousAccepted: number;
  ambiguousRejected: number;
  reasons: Map<RejectReason, number>;
}
const tally = Object.fromEntries(
  CORPUS_NAMES.map((n): [CorpusName, Tally] => [
    n,
    {
      mustReject: 0, rejectedInHead: 0, rejectedInBody: 0, rejectedAfterCompletion: 0, closeInstead: 0,
      acceptedByRule: 0, accepted: 0, acceptedMessages: 0, rejectedByRule: 0, ambiguousAccepted: 0,
      ambiguousRejected: 0, reasons: new Map(),
    },
  ]),
) as Record<CorpusName, Tally>;

function countReason(c: CorpusCase, reason: RejectReason): void {
  const t = tally[c.corpus];
  t.reasons.set(reason, (t.reasons.get(reason) ?? 0) + 1);
}

// ---- the three kinds of check ---------------------------------------------------------

function checkMustReject(c: CorpusCase, ex: CorpusException | undefined): void {
  const t = tally[c.corpus];
  t.mustReject++;
  if (ex?.kind === "accept") {
    const w = walk(c.raw, 1);
    expect(w.end.kind, `accepted by rule: ${ex.rule}`).not.toBe("rejected");
    expect(w.messages[0]?.method, "the request parses").toBe(firstToken(c.raw));
    t.acceptedByRule++;
    return;
  }
  if (ex?.kind === "truncated") {
    expect(walk(c.raw).end.kind, "the fixture is cut off").toMatch(/^incomplete/);
    const w = walk(new Uint8Array([...c.raw, ...bytesOf(ex.append)]));
    expect(w.end, `once completed: ${ex.rule}`).toEqual({ kind: "rejected", in: "head", reason: ex.reason });
    t.rejectedAfterCompletion++;
    countReason(c, ex.reason);
    return;
  }
  const w = walk(c.raw);
  if (ex?.kind === "close") {
    expect(w.end.kind, ex.rule).toBe("closed");
    expect(w.messages.length, "messages before the connection closes").toBe(c.messagesBeforeError);
    expect(w.messages[w.messages.length - 1]?.keepAlive).toBe(false);
    for (const [i, m] of w.messages.entries()) {
      const e = c.messages[i];
      if (e !== undefined) expectMessage(m, e, `message ${i + 1}`);
    }
    t.closeInstead++;
    return;
  }
  if (w.end.kind !== "rejected") {
    expect.fail(`must reject, but the walk ended ${w.end.kind} after ${w.messages.length} message(s)`);
  }
  if (c.corpus === "llhttp") {
    expect(w.messages.filter((m) => m.complete).length, "messages before the error").toBe(c.messagesBeforeError);
  }
  if (ex?.kind === "reject") {
    expect(w.end.reason, ex.rule).toBe(ex.reason);
    checkRewrite(c, ex.rewrite);
  } else {
    const allowed = REASONS_FOR[c.corpus][c.sourceError ?? ""];
    expect(allowed, `a reason mapping for ${c.sourceError}`).toBeDefined();
    expect(allowed, `${c.sourceError} → ${w.end.reason}`).toContain(w.end.reason);
  }
  if (w.end.in === "head") t.rejectedInHead++;
  else t.rejectedInBody++;
  countReason(c, w.end.reason);
}

function checkAccepted(c: CorpusCase, ex: CorpusException | undefined): void {
  const t = tally[c.corpus];
  if (ex?.kind === "reject") {
    const w = walk(c.raw);
    expect(w.end.kind === "rejected" ? w.end.reason : w.end.kind, ex.rule).toBe(ex.reason);
    checkRewrite(c, ex.rewrite);
    t.rejectedByRule++;
    countReason(c, ex.reason);
    return;
  }
  if (c.messages.length === 0) {
    // http-parser's simple_tests: no expected values beyond "no error".
    const w = walk(c.raw, 1);
    expect(w.end.kind).not.toBe("rejected");
    if (w.messages[0] !== undefined) expect(w.messages[0].method).toBe(firstToken(c.raw));
    t.accepted++;
    t.acceptedMessages += w.messages.length;
    return;
  }
  // first-message-only: the source's harness skipped the body, so only the head is compared.
  const expected =
    ex?.kind === "first-message-only"
      ? c.messages.slice(0, 1).map((m) => ({ ...m, body: undefined, complete: undefined }))
      : c.messages;
  const withHead = expected.filter((m) => m.headComplete);
  const w = walk(c.raw, expected.length);
  if (w.end.kind === "rejected") expect.fail(`must accept, but rejected: ${w.end.reason} (in the ${w.end.in})`);
  expect(w.messages.length, `messages parsed (walk ended ${w.end.kind})`).toBe(withHead.length);
  if (withHead.length < expected.length) expect(w.end.kind, "the last head is not all there").toBe("incomplete-head");
  for (const [i, m] of w.messages.entries()) expectMessage(m, withHead[i]!, `message ${i + 1}`);
  const last = w.messages[w.messages.length - 1];
  if (last !== undefined && withHead.length === expected.length && c.corpus !== "desync-guardian") {
    expect(last.switched, "switches protocols (Upgrade/CONNECT)").toBe(c.upgrade);
  }
  t.accepted++;
  t.acceptedMessages += w.messages.length;
}

/** desync-guardian's Ambiguous tier: rejecting is fine; accepting must parse as sent. */
function checkAmbiguous(c: CorpusCase): void {
  const t = tally[c.corpus];
  const w = walk(c.raw, 1);
  if (w.end.kind === "rejected") {
    t.ambiguousRejected++;
    countReason(c, w.end.reason);
    return;
  }
  expect(w.messages.length, `walk ended ${w.end.kind}`).toBe(1);
  const p = w.messages[0]!;
  const m = c.messages[0]!;
  expectMessage(p, { ...m, body: undefined }, "message 1");
  t.ambiguousAccepted++;
}

// ---- the suite ------------------------------------------------------------------------

for (const name of CORPUS_NAMES) {
  const cases = corpora[name];
  const exceptions = CORPUS_EXCEPTIONS[name];
  const reject = cases.filter((c) => c.expectation === "reject");
  const accept = cases.filter((c) => c.expectation === "accept");
  const either = cases.filter((c) => c.expectation === "either");
  const unchecked = cases.filter((c) => c.expectation === "unchecked");

  describe(`${name} corpus (${cases.length} cases, ${Object.keys(exceptions).length} exceptions)`, () => {
    it(`has the expected shape (${reject.length} must-reject, ${accept.length} must-accept, ${either.length} ambiguous, ${unchecked.length} lenient-only)`, () => {
      expect(reject.length).toBeGreaterThan(20);
      expect(accept.length).toBeGreaterThan(20);
      expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    });

    it("has an exception table that names only real cases, each of a kind that fits", () => {
      const byId = new Map(cases.map((c) => [c.id, c]));
      for (const [id, ex] of Object.entries(exceptions)) {
        const c = byId.get(id);
        expect(c, `exception for an unknown case: ${id}`).toBeDefined();
        if (c === undefined) continue;
        const fits =
          ex.kind === "reject" ? c.expectation === "reject" || c.expectation === "accept"
          : ex.kind === "first-message-only" ? c.expectation === "accept"
          : c.expectation === "reject";
        expect(fits, `${ex.kind} exception on a ${c.expectation} case: ${id}`).toBe(true);
        expect(ex.rule.length, `a rule citation for ${id}`).toBeGreaterThan(10);
      }
    });

    describe(`must reject (${reject.length})`, () => {
      for (const c of reject) it(c.id, () => checkMustReject(c, exceptions[c.id]));
    });
    describe(`must accept (${accept.length})`, () => {
      for (const c of accept) it(c.id, () => checkAccepted(c, exceptions[c.id]));
    });
    if (either.length > 0) {
      describe(`ambiguous: reject, or parse as sent (${either.length})`, () => {
        for (const c of either) it(c.id, () => checkAmbiguous(c));
      });
    }
  });
}

describe("edges next to the corpora (guest fixes made while checking them)", () => {
  const enc = (s: string): Uint8Array => bytesOf(s);
  it("a bare LF in a chunk-size line is bad-line-ending (WIT: an LF not preceded by CR in chunked framing)", () => {
    for (const body of ["3\nabc\r\n0\r\n\r\n", "3 \nabc\r\n", "3;a\nabc\r\n", "3;a=b\nabc\r\n", '3;a="b"\nabc\r\n']) {
      const out = core.decodeChunked(enc(body), initialChunkedState(), LIMITS);
      expect(out.tag === "invalid" ? out.val.reason : out.tag, JSON.stringify(body)).toBe("bad-line-ending");
    }
    const ok = core.decodeChunked(enc("3;a=b\r\nabc\r\n0\r\n\r\n"), initialChunkedState(), LIMITS);
    expect(ok.tag === "progress" ? ok.val.state.phase : ok.tag).toBe("done");
  });

  it("an IPvFuture literal is a valid host (RFC 3986 §3.2.2), a malformed one is not", () => {
    const outcome = (host: string): string => {
      const o = core.parseHead(enc(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`), LIMITS);
      return o.tag === "invalid" ? o.val.reason : o.tag;
    };
    for (const good of ["[v1.fe80::a+en1]", "[V7.x]:8080", "[::1]", "[::ffff:1.2.3.4]:1"]) expect(outcome(good), good).toBe("complete");
    for (const bad of ["[v.x]", "[v1.]", "[v1x]", "[v1.a,b]", "[::v]", "[]", "[::1]x"]) expect(outcome(bad), bad).toBe("bad-host");
  });
});

afterAll(() => {
  const rows = CORPUS_NAMES.map((n) => {
    const t = tally[n];
    const ex = Object.values(CORPUS_EXCEPTIONS[n]);
    const kinds = new Map<string, number>();
    for (const e of ex) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
    return [
      `${n}:`,
      `  must-reject checked ${t.mustReject}: rejected in head ${t.rejectedInHead}, in chunked body ${t.rejectedInBody},`,
      `    after completing a cut-off input ${t.rejectedAfterCompletion}, connection closes first ${t.closeInstead}, accepted by our rules ${t.acceptedByRule}`,
      `  must-accept checked ${t.accepted + t.rejectedByRule}: accepted ${t.accepted} (${t.acceptedMessages} messages), rejected by our stricter rules ${t.rejectedByRule}`,
      ...(t.ambiguousAccepted + t.ambiguousRejected > 0
        ? [`  ambiguous: accepted ${t.ambiguousAccepted}, rejected ${t.ambiguousRejected}`]
        : []),
      `  exceptions ${ex.length}: ${[...kinds].map(([k, v]) => `${k} ${v}`).join(", ")}`,
      `  reasons: ${[...t.reasons].sort((a, b) => b[1] - a[1]).map(([r, v]) => `${r} ${v}`).join(", ")}`,
    ].join("\n");
  });
  console.log(`corpus conformance summary\n${rows.join("\n")}`);
});
