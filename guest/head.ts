// The request-head parser (RFC 9112 §2–§3, §5–§6). One pass over the bytes; the outcome
// is written to a static return area in the canonical ABI layout of `parse-outcome`.
import { CR, LF, SP, isToken, isDigit, findTargetEnd, findByte, equalsIgnoreCase } from "./chars";
import { alloc } from "./arena";
import * as F from "./fields";
import * as V from "./field-values";
import * as R from "./reasons";

// parse-outcome: discriminant u8 at 0, payload at 8 (request-head has align 8).
const OUT = memory.data(96, 8);
const INCOMPLETE: u8 = 0;
const COMPLETE: u8 = 1;
const INVALID: u8 = 2;
// request-head field offsets (from OUT).
const METHOD = 8;
const TARGET = 16;
const PATH = 24;
const QUERY = 32; // option<span>: flag at +0, span at +4
const AUTHORITY = 44;
const VERSION = 56;
const HEADERS = 60; // list<header>: ptr, len
const HEAD_LENGTH = 68;
const BODY = 72; // body-framing: tag u8 at +0, u64 at +8
const KEEP_ALIVE = 88;
const EXPECT_CONTINUE = 89;
const UPGRADE = 90;

const BODY_NONE: u8 = 0;
const BODY_LENGTH: u8 = 1;
const BODY_CHUNKED: u8 = 2;

let base: usize = 0;

function reject(reason: u8, at: usize): usize {
  store<u8>(OUT, INVALID);
  R.storeRejection(OUT + 8, reason, <u32>(at - base));
  return OUT;
}

function storeSpan(at: usize, start: usize, end: usize): void {
  store<u32>(at, <u32>(start - base));
  store<u32>(at, <u32>(end - start), 4);
}

function storeOptionSpan(at: usize, present: bool, start: usize, end: usize): void {
  store<u8>(at, present ? 1 : 0);
  if (present) storeSpan(at + 4, start, end);
  else store<u64>(at + 4, 0);
}

/**
 * Parses the head at `buf` (`len` bytes) under the given limits; returns the address of
 * the `parse-outcome`.
 */
export function parseHead(buf: usize, len: usize, maxHead: u32, maxHeaders: u32, maxTarget: u32): usize {
  base = buf;
  // Only the first max-head-bytes are looked at; running out there means 431.
  const over = len >= <usize>maxHead;
  const end = over ? buf + maxHead : buf + len;
  let p = buf;

  // Empty lines before the request line (RFC 9112 §2.2).
  while (p < end) {
    const c = load<u8>(p);
    if (c == LF) return reject(R.BAD_LINE_ENDING, p);
    if (c != CR) break;
    if (p + 1 >= end) return outOfBytes(over, end, p);
    if (load<u8>(p + 1) != LF) return reject(R.BAD_LINE_ENDING, p + 1);
    p += 2;
  }

  // method SP
  const m0 = p;
  while (p < end && isToken(load<u8>(p))) p++;
  if (p >= end) return outOfBytes(over, end, m0);
  if (load<u8>(p) != SP || p == m0) {
    const c = load<u8>(p);
    return reject(p > m0 && (c == CR || c == LF) ? R.BAD_REQUEST_LINE : R.BAD_METHOD, p);
  }
  const m1 = p;

  // request-target SP
  const t0 = p + 1;
  const t1 = findTargetEnd(t0, end);
  if (t1 - t0 > <usize>maxTarget) return reject(R.TARGET_TOO_LONG, t0 + maxTarget);
  if (t1 >= end) return outOfBytes(over, end, m0);
  {
    const c = load<u8>(t1);
    if (c == 0x23) return reject(R.FRAGMENT_IN_TARGET, t1);
    if (t1 == t0 || c == CR || c == LF) return reject(R.BAD_REQUEST_LINE, t1);
    if (c != SP) return reject(R.BAD_TARGET, t1);
  }

  // HTTP-version CRLF: exactly "HTTP/" DIGIT "." DIGIT CR LF
  const v0 = t1 + 1;
  for (let i: usize = 0; i < 10; i++) {
    const q = v0 + i;
    if (q >= end) return outOfBytes(over, end, m0);
    const c = <u32>load<u8>(q);
    let ok: bool;
    if (i < 5) ok = c == <u32>"HTTP/".charCodeAt(<i32>i);
    else if (i == 6) ok = c == 0x2e;
    else if (i < 8) ok = isDigit(c);
    else if (i == 8) ok = c == CR;
    else ok = c == LF;
    if (!ok) {
      if (i == 9) return reject(R.BAD_LINE_ENDING, q);
      if (i == 8 && c == LF) return reject(R.BAD_LINE_ENDING, q);
      if (i == 8 && c == SP) return reject(R.BAD_REQUEST_LINE, q);
      if (i == 0 && c == SP) return reject(R.BAD_REQUEST_LINE, q);
      return reject(R.BAD_VERSION, q);
    }
  }
  // HTTP/1.2 to HTTP/1.9 are answered as the highest minor version this server supports,
  // 1.1 (RFC 9110 §2.5); another major version is not HTTP/1.
  const major = load<u8>(v0 + 5);
  const minor = load<u8>(v0 + 7);
  if (major != 0x31) return reject(R.UNSUPPORTED_VERSION, v0);
  const http11 = minor != 0x30;

  const formReason = storeTargetForm(m0, m1, t0, t1);
  if (formReason != V.NONE) return reject(<u8>formReason, t0);

  // Field lines.
  p = v0 + 10;
  // A field line takes at least 4 bytes ("a:" CRLF), which bounds the list's size.
  let cap = (len >> 2) + 1;
  if (cap > <usize>maxHeaders) cap = maxHeaders;
  const list = alloc(cap << 4, 4);
  let count: u32 = 0;
  let hosts: u32 = 0;
  let hostStart: usize = 0;
  let hostEnd: usize = 0;
  /** Where the second Host field line starts (the offset of multiple-host). */
  let secondHostAt: usize = 0;
  /** Where the first Content-Length and Transfer-Encoding field lines start. */
  let contentLengthAt: usize = 0;
  let transferEncodingAt: usize = 0;
  let hasTransferEncoding = false;
  let hasUpgrade = false;
  let expectContinue = false;
  V.resetFieldValues();

  while (true) {
    const kind = F.parseFieldLine(p, end);
    if (kind == F.SECTION_END) break;
    // The LF that ended the previous line starts the search for the empty line.
    if (kind == F.NEED_MORE) return outOfBytes(over, end, p - 1);
    if (kind == F.FAILED) return reject(F.failReason, F.failAt);
    if (count >= maxHeaders) return reject(R.TOO_MANY_HEADERS, p);
    const n0 = F.nameStart;
    const n1 = F.nameEnd;
    const vs = F.valueStart;
    const ve = F.valueEnd;
    const entry = list + (<usize>count << 4);
    storeSpan(entry, n0, n1);
    storeSpan(entry + 8, vs, ve);
    count++;

    // The fields that decide framing and connection handling, by length then name.
    const nameLen = n1 - n0;
    let reason = V.NONE;
    switch (nameLen) {
      case 4:
        if (equalsIgnoreCase(n0, 4, "host")) {
          if (++hosts == 2) secondHostAt = n0;
          hostStart = vs;
          hostEnd = ve;
        }
        break;
      case 6:
        if (equalsIgnoreCase(n0, 6, "expect")) {
          if (!V.isContinueExpectation(vs, ve)) reason = R.UNSUPPORTED_EXPECTATION;
          else expectContinue = true;
        }
        break;
      case 7:
        // An empty Upgrade offers no protocol: nothing to upgrade to.
        if (equalsIgnoreCase(n0, 7, "upgrade") && ve > vs) hasUpgrade = true;
        break;
      case 10:
        if (equalsIgnoreCase(n0, 10, "connection")) V.readConnection(vs, ve);
        break;
      case 14:
        if (equalsIgnoreCase(n0, 14, "content-length")) {
          if (contentLengthAt == 0) contentLengthAt = n0;
          reason = V.readContentLength(vs, ve);
        }
        break;
      case 17:
        if (equalsIgnoreCase(n0, 17, "transfer-encoding")) {
          if (!hasTransferEncoding) transferEncodingAt = n0;
          hasTransferEncoding = true;
          reason = V.readTransferEncoding(vs, ve);
        }
        break;
    }
    if (reason != V.NONE) return reject(<u8>reason, vs);
    p = F.lineEnd;
  }
  const headEnd = F.lineEnd;

  // Whole-head rules. Each offset is the start of the field line (or coding) that broke
  // the rule: the second Host, the later of Content-Length and Transfer-Encoding.
  if (hosts > 1) return reject(R.MULTIPLE_HOST, secondHostAt);
  if (hosts == 0 && http11) return reject(R.MISSING_HOST, headEnd);
  if (hosts == 1 && !V.isValidAuthority(hostStart, hostEnd, false)) return reject(R.BAD_HOST, hostStart);
  if (hasTransferEncoding) {
    if (!http11) return reject(R.TRANSFER_ENCODING_IN_HTTP10, transferEncodingAt);
    if (V.contentLength >= 0) return reject(R.CONTENT_LENGTH_WITH_TRANSFER_ENCODING, contentLengthAt > transferEncodingAt ? contentLengthAt : transferEncodingAt);
    if (V.otherCoding) return reject(R.UNSUPPORTED_TRANSFER_CODING, V.otherCodingAt);
    if (!V.chunked) return reject(R.BAD_TRANSFER_ENCODING, transferEncodingAt);
  }

  store<u8>(OUT, COMPLETE);
  storeSpan(OUT + METHOD, m0, m1);
  storeSpan(OUT + TARGET, t0, t1);
  store<u8>(OUT + VERSION, http11 ? 1 : 0);
  store<u32>(OUT + HEADERS, <u32>list);
  store<u32>(OUT + HEADERS + 4, count);
  store<u32>(OUT + HEAD_LENGTH, <u32>(headEnd - buf));
  if (V.chunked) {
    store<u8>(OUT + BODY, BODY_CHUNKED);
    store<u64>(OUT + BODY + 8, 0);
  } else if (V.contentLength >= 0) {
    store<u8>(OUT + BODY, BODY_LENGTH);
    store<u64>(OUT + BODY + 8, <u64>V.contentLength);
  } else {
    store<u8>(OUT + BODY, BODY_NONE);
    store<u64>(OUT + BODY + 8, 0);
  }
  store<u8>(OUT + KEEP_ALIVE, (http11 ? !V.connectionClose : V.connectionKeepAlive && !V.connectionClose) ? 1 : 0);
  store<u8>(OUT + EXPECT_CONTINUE, expectContinue && http11 ? 1 : 0);
  store<u8>(OUT + UPGRADE, hasUpgrade && V.connectionUpgrade ? 1 : 0);
  return OUT;
}

/**
 * The outcome when the bytes end before the head does: 431 at the limit, else `incomplete`
 * with the offset from which a host searches for the head's final empty line (`searchFrom`:
 * no line before it can end the head).
 */
function outOfBytes(over: bool, end: usize, searchFrom: usize): usize {
  if (over) return reject(R.HEAD_TOO_LARGE, end);
  store<u8>(OUT, INCOMPLETE);
  store<u32>(OUT + 8, <u32>(searchFrom - base));
  return OUT;
}

/**
 * Checks the request-target's form against the method (RFC 9112 §3.2) and stores path,
 * query and authority. Returns a reject reason or NONE.
 */
function storeTargetForm(m0: usize, m1: usize, t0: usize, t1: usize): i32 {
  const isConnect = m1 - m0 == 7 && isAscii(m0, "CONNECT");
  const first = load<u8>(t0);
  let pathStart = t0;
  let authority = false;
  let a0: usize = 0;
  let a1: usize = 0;

  if (isConnect) {
    // authority-form: uri-host ":" port, and nothing else.
    if (!V.isValidAuthority(t0, t1, true)) return R.BAD_TARGET;
    storeSpan(OUT + PATH, t1, t1);
    storeOptionSpan(OUT + QUERY, false, 0, 0);
    storeOptionSpan(OUT + AUTHORITY, true, t0, t1);
    return V.NONE;
  }
  if (first == 0x2a && t1 - t0 == 1) {
    // asterisk-form
    if (!(m1 - m0 == 7 && isAscii(m0, "OPTIONS"))) return R.BAD_TARGET;
  } else if (first != 0x2f) {
    // absolute-form: "http://" or "https://" authority path-abempty [ "?" query ]
    let s = t0;
    while (s < t1 && load<u8>(s) != 0x3a) s++;
    const schemeLen = s - t0;
    const http = schemeLen == 4 && equalsIgnoreCase(t0, 4, "http");
    const https = schemeLen == 5 && equalsIgnoreCase(t0, 5, "https");
    if (!(http || https)) return R.BAD_TARGET;
    if (t1 - s < 3 || load<u8>(s + 1) != 0x2f || load<u8>(s + 2) != 0x2f) return R.BAD_TARGET;
    a0 = s + 3;
    a1 = a0;
    while (a1 < t1 && load<u8>(a1) != 0x2f && load<u8>(a1) != 0x3f) a1++;
    // A host is required (RFC 9110 §4.2.1); userinfo is refused along with other
    // non-host bytes by the authority check.
    if (a1 == a0 || !V.isValidAuthority(a0, a1, false)) return R.BAD_TARGET;
    authority = true;
    pathStart = a1;
  }
  const q = findByte(pathStart, t1, 0x3f);
  storeSpan(OUT + PATH, pathStart, q);
  storeOptionSpan(OUT + QUERY, q < t1, q + 1, t1);
  storeOptionSpan(OUT + AUTHORITY, authority, a0, a1);
  return V.NONE;
}

/** Whether the bytes at `p` are exactly the ASCII `s` (case-sensitive, as methods are). */
function isAscii(p: usize, s: string): bool {
  for (let i = 0; i < s.length; i++) {
    if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}
