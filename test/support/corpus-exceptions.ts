/**
 * Where Tophat deliberately parts ways with a corpus, case by case. Keys are the case ids
 * of `corpora.ts` (fixture names; duplicates carry ` [index]`). Every entry cites the rule
 * (from `wit/tophat.wit` and the RFC it implements or tightens), and the test asserts the
 * exact outcome each entry states, so an entry can neither hide a parser bug nor go stale
 * (an entry whose case does not exist, or is not used, fails the suite).
 *
 * Not listed here, because they are applied to every case:
 * - Host: an HTTP/1.1 request without Host gets `Host: x` as its first field line (the
 *   corpora README asks for this when a fixture is about something else).
 * - Trailing whitespace in field values: llhttp and http-parser report it as part of the
 *   value; RFC 9110 §5.5 and the WIT exclude it, so expected values are trimmed.
 * @module
 */
import type { RejectReason } from "../../host/core.js";
import type { CorpusName } from "./corpora.js";

/** A check of a second input: the fixture with every `from` (latin1) replaced by `to`. */
export interface Rewrite {
  from: string;
  to: string;
  /** What parse-head (with the Host rule) must then say: a reason, or `complete`. */
  outcome: RejectReason | "complete";
}

export type CorpusException =
  /**
   * We reject with exactly this reason: a case the source accepts (our rule is stricter),
   * or a must-reject case whose reason is not the one its source error maps to.
   * `rewrite` shows what the rest of the fixture gets when the first problem is removed.
   */
  | { kind: "reject"; reason: RejectReason; rule: string; rewrite?: Rewrite }
  /** A must-reject case we accept: parse-head must say `complete`. */
  | { kind: "accept"; rule: string }
  /**
   * A must-reject case cut off before its faulty part is decided: parse-head must say
   * `incomplete` for it, and reject with `reason` once `append` completes it.
   */
  | { kind: "truncated"; append: string; reason: RejectReason; rule: string }
  /**
   * A must-reject case whose "error" is data after a message that ends the connection:
   * the messages before it must parse, the last with `keepAlive: false`, so the host
   * closes and never parses the rest.
   */
  | { kind: "close"; rule: string }
  /** Only the first message is checked (the source's harness did something no parser does). */
  | { kind: "first-message-only"; rule: string };

const OBS_FOLD = "RFC 9112 §5.2: obs-fold → 400 (WIT obs-fold)";
const ASTERISK = "RFC 9112 §3.2.4: asterisk-form is for OPTIONS only (WIT bad-target)";
const NOT_HTTP_VERSION = 'RFC 9112 §2.3: HTTP-version is "HTTP/" DIGIT "." DIGIT; RTSP/ICE are not HTTP (WIT bad-version)';
const HTTP09 = "RFC 9112 §3: request-line needs an HTTP-version; HTTP/0.9 is not supported (WIT bad-request-line)";
const FRAGMENT = "RFC 9112 §3.2: a request-target has no fragment (WIT fragment-in-target)";
const USERINFO = "RFC 9110 §4.2.4: userinfo in an http(s) target is an error (WIT bad-target)";
const NON_CHUNKED = "RFC 9112 §6.1/§7: only chunked is implemented; other transfer codings → 501 (WIT unsupported-transfer-coding)";
const CHUNKED_PARAM = "RFC 9112 §7.1: chunked defines no parameters (WIT bad-transfer-encoding: a parameter on chunked)";
const TE_WITH_CL = "RFC 9112 §6.3: Transfer-Encoding with Content-Length → 400 (WIT content-length-with-transfer-encoding)";
const UNKNOWN_METHOD = "RFC 9110 §9.1: a method is any token; an unknown one is a 501 for the application, not a parse error (WIT bad-method)";
const SPACE_BEFORE_COLON = "RFC 9112 §5.1: whitespace between field name and colon → 400 (WIT space-before-colon)";
const CTL_IN_NAME = "RFC 9110 §5.1: a field name is a token (WIT bad-header-name)";
const CTL_IN_VALUE = "RFC 9110 §5.5: CTLs other than HTAB in a field value are invalid (WIT bad-header-value)";
const CLOSE = "RFC 9112 §9.6: after a request that closes the connection the server processes no further requests";
const PATH_NON_ASCII = "RFC 9112 §3.2: a request-target is URI syntax, visible ASCII only (WIT bad-target)";
const ABSENT_TARGET = "RFC 9112 §3: request-line = method SP request-target SP HTTP-version (WIT bad-request-line)";
const UNSUPPORTED_VERSION = "WIT unsupported-version: a major version other than 1 → 505 (HTTP/1.2–1.9 are parsed as 1.1, RFC 9110 §2.5)";

export const CORPUS_EXCEPTIONS: Readonly<Record<CorpusName, Readonly<Record<string, CorpusException>>>> = {
  llhttp: {
    // Must reject: the "error" is data after a connection-closing message.
    "connection: Connection header > `keep-alive` > No restart when keep-alive is off (1.0)": { kind: "close", rule: `${CLOSE}; HTTP/1.0 without keep-alive closes` },
    "connection: Connection header > `close` > CRLF between requests, explicit `close`": { kind: "close", rule: CLOSE },
    "connection: Connection header > `close` > CRLF between requests, explicit `close` followed by tab": { kind: "close", rule: CLOSE },
    // Must reject: llhttp knows a fixed method list; any token is a method for us.
    "invalid: Invalid requests > Invalid method": { kind: "accept", rule: UNKNOWN_METHOD },
    "invalid: Invalid requests > HTTP protocol and ANNOUNCE method": { kind: "accept", rule: UNKNOWN_METHOD },
    // Must reject, cut off before the CRLF that ends the request line.
    "invalid: Invalid requests > Invalid HTTP version": { kind: "truncated", append: "\r\n", reason: "unsupported-version", rule: "the request line has no CRLF yet: HTTP/5.6 is well-formed → 505 once it ends" },
    // Must reject, but the target's "#hey" is refused before the field the fixture is about.
    "transfer-encoding: Transfer-Encoding header > POST with `Transfer-Encoding` and `Content-Length`": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#hey", to: "", outcome: "content-length-with-transfer-encoding" },
    },
    "transfer-encoding: Transfer-Encoding header > POST with `chunked` before other transfer coding names": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#hey", to: "", outcome: "bad-transfer-encoding" },
    },
    "transfer-encoding: Transfer-Encoding header > POST with `chunked` and duplicate transfer-encoding": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#hey", to: "", outcome: "bad-transfer-encoding" },
    },
    "transfer-encoding: Transfer-Encoding header > POST with `chunkedchunked` as transfer-encoding": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#hey", to: "", outcome: "unsupported-transfer-coding" },
    },
    // Accepted by llhttp, rejected by our rules.
    "method: Methods > M-SEARCH request": { kind: "reject", reason: "bad-target", rule: ASTERISK },
    "method: Methods > PRI request HTTP2": { kind: "reject", reason: "bad-target", rule: `${ASTERISK}; the HTTP/2 preface is not an HTTP/1.1 request` },
    "method: Methods > SOURCE request with ICE": { kind: "reject", reason: "bad-version", rule: NOT_HTTP_VERSION },
    "method: Methods > OPTIONS request with RTSP": { kind: "reject", reason: "bad-version", rule: NOT_HTTP_VERSION },
    "method: Methods > ANNOUNCE request with RTSP": { kind: "reject", reason: "bad-version", rule: NOT_HTTP_VERSION },
    "sample: Sample requests > No HTTP version": { kind: "reject", reason: "bad-request-line", rule: HTTP09 },
    "transfer-encoding: Transfer-Encoding header > POST with `chunked` as last transfer-encoding": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#hey", to: "", outcome: "unsupported-transfer-coding" },
    },
    "transfer-encoding: Transfer-Encoding header > POST with `chunked` as last transfer-encoding (multiple headers)": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#hey", to: "", outcome: "unsupported-transfer-coding" },
    },
    "uri: URI > Fragment in URI": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#posts-17408", to: "", outcome: "complete" },
    },
    "uri: URI > `host:port` and basic auth": {
      kind: "reject", reason: "bad-target", rule: USERINFO,
      rewrite: { from: "a%12:b!&*$@", to: "", outcome: "complete" },
    },
    // llhttp's harness told the parser to skip the body (as for a response to HEAD).
    "content-length: Content-Length header > Content-Length reset when no body is received": {
      kind: "first-message-only",
      rule: "meta.skipBody: llhttp's on_headers_complete skipped the 123-byte body; a request parser never does (RFC 9112 §6.3)",
    },
  },

  "http-parser": {
    "requests_table: fragment in url": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#posts-17408", to: "", outcome: "complete" },
    },
    "requests_table: post identity body world": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#hey", to: "", outcome: "complete" },
    },
    "requests_table: request with no http version": { kind: "reject", reason: "bad-request-line", rule: HTTP09 },
    "requests_table: m-search request": { kind: "reject", reason: "bad-target", rule: ASTERISK },
    "requests_table: line folding in header value [21]": { kind: "reject", reason: "obs-fold", rule: OBS_FOLD },
    "requests_table: utf-8 path request": { kind: "reject", reason: "bad-target", rule: PATH_NON_ASCII },
    "requests_table: host:port and basic_auth": {
      kind: "reject", reason: "bad-target", rule: USERINFO,
      rewrite: { from: "a%12:b!&*$@", to: "", outcome: "complete" },
    },
    "requests_table: line folding in header value [34]": {
      kind: "reject", reason: "bad-line-ending",
      rule: "RFC 9112 §2.2: a bare LF as line terminator → 400 (WIT bad-line-ending; stricter than the MAY)",
    },
    "requests_table: multiple connection header values with folding": { kind: "reject", reason: "obs-fold", rule: OBS_FOLD },
    "requests_table: multiple connection header values with folding and lws [37]": { kind: "reject", reason: "obs-fold", rule: OBS_FOLD },
    "requests_table: source request [43]": { kind: "reject", reason: "bad-version", rule: NOT_HTTP_VERSION },
    "requests_table: post - multi coding transfer-encoding chunked body": { kind: "reject", reason: "unsupported-transfer-coding", rule: NON_CHUNKED },
    "requests_table: post - multi line coding transfer-encoding chunked body": {
      kind: "reject", reason: "bad-transfer-encoding",
      rule: "WIT bad-transfer-encoding: an empty list element (`deflate,` before the obs-fold is reached; stricter than RFC 9110 §5.6.1)",
      rewrite: { from: "deflate,\r\n chunked", to: "deflate, chunked", outcome: "unsupported-transfer-coding" },
    },
    "requests_table: chunked with content-length set, allow_chunked_length flag is set": {
      kind: "reject", reason: "content-length-with-transfer-encoding", rule: TE_WITH_CL,
    },
    'simple_tests[11]: "POST / HTTP/1.1"': {
      kind: "reject", reason: "obs-fold", rule: `${OBS_FOLD}; the folded line comes before anything is wrong with Content-Length`,
    },
    'simple_tests[12]: "POST / HTTP/1.1"': { kind: "reject", reason: "obs-fold", rule: `${OBS_FOLD} (an empty continuation line is still a fold)` },
    'simple_tests[56]: "ASDF / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[57]: "C****** / HTTP/1.1"': { kind: "accept", rule: `${UNKNOWN_METHOD}; "*" is a tchar` },
    'simple_tests[58]: "COLA / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[59]: "GEM / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[60]: "GETA / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[61]: "M**** / HTTP/1.1"': { kind: "accept", rule: `${UNKNOWN_METHOD}; "*" is a tchar` },
    'simple_tests[62]: "MKCOLA / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[63]: "PROPPATCHA / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[64]: "PUN / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[65]: "PX / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[66]: "SA / HTTP/1.1"': { kind: "accept", rule: UNKNOWN_METHOD },
    'simple_tests[67]: "hello world / HTTP/1.1"': {
      kind: "reject", reason: "bad-version",
      rule: '"hello" is a valid method and "world" a target; "/ HTTP/1.1" is then not an HTTP-version (RFC 9112 §3)',
    },
    'simple_tests[69]: "GET / HTTP/1.1"': { kind: "reject", reason: "obs-fold", rule: OBS_FOLD },
  },

  "desync-guardian": {
    // Must reject (Severe), but accepted by the contract: see the report.
    "severe.yaml: Bad Content-Length: 1000,1000": {
      kind: "accept",
      rule: "RFC 9110 §8.6: a list of one repeated value MAY be taken as that value; the WIT refuses only values that are not all the same (conflicting-content-length)",
    },
    // Severe, rejected, but by the generic field syntax before the header it is about.
    "severe.yaml: Content-Length[white-space] and Content-Length": { kind: "reject", reason: "space-before-colon", rule: SPACE_BEFORE_COLON },
    "severe.yaml: [white-space]Content-Length and Content-Length": { kind: "reject", reason: "obs-fold", rule: `${OBS_FOLD}; a field line starting with whitespace` },
    "severe.yaml: Transfer-Encoding[white-space] and Transfer-Encoding": { kind: "reject", reason: "space-before-colon", rule: SPACE_BEFORE_COLON },
    // Compliant / Acceptable in desync-guardian, refused by our rules.
    "acceptable.yaml: No TE/CL headers, some others are non-compliant": { kind: "reject", reason: "space-before-colon", rule: SPACE_BEFORE_COLON },
    "acceptable.yaml: TE and some others are non-compliant": { kind: "reject", reason: "space-before-colon", rule: SPACE_BEFORE_COLON },
    "acceptable.yaml: CL and some others are non-compliant": { kind: "reject", reason: "space-before-colon", rule: SPACE_BEFORE_COLON },
    "acceptable.yaml: A non-essential header with a non-printable character (x01)": { kind: "reject", reason: "bad-header-name", rule: CTL_IN_NAME },
    "acceptable.yaml: Non-RFC, but OK HTTP/0.9": { kind: "reject", reason: "unsupported-version", rule: UNSUPPORTED_VERSION },
    "acceptable.yaml: Empty version, which means HTTP/0.9": { kind: "reject", reason: "bad-request-line", rule: HTTP09 },
    "bad-header-characters.yaml: Some-Header\\x01": { kind: "reject", reason: "bad-header-name", rule: CTL_IN_NAME },
    "bad-header-characters.yaml: \\x01Some-Header": { kind: "reject", reason: "bad-header-name", rule: CTL_IN_NAME },
    "bad-header-characters.yaml: Some-Header: \\x01value": { kind: "reject", reason: "bad-header-value", rule: CTL_IN_VALUE },
    "bad-header-characters.yaml: Some-Header: value\\x01": { kind: "reject", reason: "bad-header-value", rule: CTL_IN_VALUE },
    "more-compliant-tests.yaml: Correct TE OK": { kind: "reject", reason: "unsupported-transfer-coding", rule: NON_CHUNKED },
    "more-compliant-tests.yaml: Transfer-Encoding: identity and chunked OK": { kind: "reject", reason: "unsupported-transfer-coding", rule: NON_CHUNKED },
    "more-compliant-tests.yaml: Multiple transfer encoding headers in a single request OK": { kind: "reject", reason: "unsupported-transfer-coding", rule: NON_CHUNKED },
    "more-compliant-tests.yaml: TE with custom parameters OK": { kind: "reject", reason: "bad-transfer-encoding", rule: CHUNKED_PARAM },
    "rfc-compliant.yaml: Different Transfer-Encoding headers": { kind: "reject", reason: "unsupported-transfer-coding", rule: NON_CHUNKED },
    "rfc-compliant.yaml: Different Transfer-Encoding headers combined": { kind: "reject", reason: "unsupported-transfer-coding", rule: NON_CHUNKED },
    "rfc-compliant.yaml: Transfer-Encoding with a param: chunked;custom_param": { kind: "reject", reason: "bad-transfer-encoding", rule: CHUNKED_PARAM },
    "rfc-compliant.yaml: Compliant URL": {
      kind: "reject", reason: "fragment-in-target", rule: FRAGMENT,
      rewrite: { from: "#", to: "%23", outcome: "complete" },
    },
    "rfc-compliant.yaml: Empty URI": { kind: "reject", reason: "bad-request-line", rule: ABSENT_TARGET },
    "uri-specific-test-cases.yaml: Extra spaces in version": {
      kind: "reject", reason: "bad-request-line", rule: "RFC 9112 §3: nothing may follow HTTP-version but CRLF (WIT bad-request-line)",
    },
    "uri-specific-test-cases.yaml: [space] in URI": {
      kind: "reject", reason: "bad-version", rule: "RFC 9112 §3.2: a request-target has no spaces; the rest of the line is then not an HTTP-version",
    },
  },
};
