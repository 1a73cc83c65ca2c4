// Parsers for the values of the fields that decide framing and connection handling:
// Host, Content-Length, Transfer-Encoding, Connection, Expect (RFC 9110, RFC 9112).
// Each returns a reject reason, or NONE when the value is acceptable.
import { isToken, skipOws, trimOws, isDigit, hexValue, equalsIgnoreCase, findByte } from "./chars";
import * as R from "./reasons";

export const NONE: i32 = -1;

/** The largest Content-Length accepted: 2^53 - 1, the largest integer a double holds exactly. */
const MAX_CONTENT_LENGTH: u64 = 9007199254740991;

// ---- Host (RFC 9110 §7.2, RFC 3986 §3.2.2) --------------------------------------------

// unreserved / sub-delims, minus "," (a comma would make the value a list).
function isRegNameChar(c: u32): bool {
  if (c - 0x61 < 26 || c - 0x41 < 26 || isDigit(c)) return true;
  switch (c) {
    case 0x2d: case 0x2e: case 0x5f: case 0x7e: // - . _ ~
    case 0x21: case 0x24: case 0x26: case 0x27: case 0x28: case 0x29: // ! $ & ' ( )
    case 0x2a: case 0x2b: case 0x3b: case 0x3d: // * + ; =
      return true;
  }
  return false;
}

/**
 * Whether [p, end) (non-empty, inside the brackets) is an IPv6 address (checked loosely:
 * hex digits, ":" and "." for an embedded IPv4) or an IPvFuture:
 * "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) (RFC 3986 §3.2.2), no comma.
 */
function isIpLiteral(p: usize, end: usize): bool {
  if ((<u32>load<u8>(p) | 0x20) == 0x76) {
    let q = p + 1;
    const h0 = q;
    while (q < end && hexValue(load<u8>(q)) >= 0) q++;
    if (q == h0 || q >= end || load<u8>(q) != 0x2e) return false;
    q++;
    if (q == end) return false;
    for (; q < end; q++) {
      const c = <u32>load<u8>(q);
      if (!(isRegNameChar(c) || c == 0x3a)) return false;
    }
    return true;
  }
  for (; p < end; p++) {
    const c = <u32>load<u8>(p);
    if (!(hexValue(c) >= 0 || c == 0x3a || c == 0x2e)) return false;
  }
  return true;
}

/**
 * Whether [p, end) is `uri-host [":" port]`: a reg-name (with %XX escapes) or IPv4
 * address, or an IP-literal in brackets; the port at most 65535. `needPort` is for
 * CONNECT's authority-form, which must have one. An empty Host is valid (RFC 9110 §7.2).
 */
export function isValidAuthority(p: usize, end: usize, needPort: bool): bool {
  if (p < end && load<u8>(p) == 0x5b) {
    p++;
    const close = findByte(p, end, 0x5d);
    if (close == end || close == p || !isIpLiteral(p, close)) return false;
    p = close + 1;
  } else {
    while (p < end) {
      const c = <u32>load<u8>(p);
      if (c == 0x3a) break;
      if (c == 0x25) {
        if (p + 2 >= end || hexValue(load<u8>(p + 1)) < 0 || hexValue(load<u8>(p + 2)) < 0) return false;
        p += 3;
        continue;
      }
      if (!isRegNameChar(c)) return false;
      p++;
    }
  }
  if (p == end) return !needPort;
  if (load<u8>(p) != 0x3a) return false;
  p++;
  const digits = end - p;
  if (digits == 0) return !needPort;
  if (digits > 5) return false;
  let port: u32 = 0;
  for (; p < end; p++) {
    const c = <u32>load<u8>(p);
    if (!isDigit(c)) return false;
    port = port * 10 + c - 0x30;
  }
  return port <= 65535;
}

// ---- Content-Length (RFC 9110 §8.6, RFC 9112 §6.3) ------------------------------------

/** The length the Content-Length fields seen so far agree on, or -1 before the first. */
export let contentLength: i64 = -1;

/**
 * Reads one Content-Length field value (a comma list of identical values is accepted, as
 * RFC 9110 §8.6 allows) and checks it against earlier ones.
 */
export function readContentLength(p: usize, end: usize): i32 {
  if (p == end) return R.BAD_CONTENT_LENGTH;
  while (true) {
    const e0 = p;
    let v: u64 = 0;
    while (p < end && isDigit(load<u8>(p))) {
      v = v * 10 + (<u64>load<u8>(p) - 0x30);
      if (v > MAX_CONTENT_LENGTH) return R.BAD_CONTENT_LENGTH;
      p++;
    }
    if (p == e0) return R.BAD_CONTENT_LENGTH;
    if (contentLength >= 0 && <u64>contentLength != v) return R.CONFLICTING_CONTENT_LENGTH;
    contentLength = <i64>v;
    p = skipOws(p, end);
    if (p == end) return NONE;
    if (load<u8>(p) != 0x2c) return R.BAD_CONTENT_LENGTH;
    p = skipOws(p + 1, end);
  }
}

// ---- Transfer-Encoding (RFC 9112 §6.1, §7) --------------------------------------------

/** Whether `chunked` has been seen (it must be the last coding). */
export let chunked: bool = false;
/** Whether a coding other than chunked was seen (answered 501). */
export let otherCoding: bool = false;
/** Where the first such coding starts (the offset of the 501's rejection). */
export let otherCodingAt: usize = 0;

/** Reads one Transfer-Encoding field value as the continuation of the codings list. */
export function readTransferEncoding(p: usize, end: usize): i32 {
  if (p == end) return R.BAD_TRANSFER_ENCODING;
  while (true) {
    const t0 = p;
    while (p < end && isToken(load<u8>(p))) p++;
    if (p == t0) return R.BAD_TRANSFER_ENCODING;
    if (chunked) return R.BAD_TRANSFER_ENCODING; // chunked was not the final coding
    const isChunked = equalsIgnoreCase(t0, p - t0, "chunked");
    p = skipOws(p, end);
    if (p < end && load<u8>(p) == 0x3b) {
      // A parameter: chunked has none; other codings are refused anyway.
      if (isChunked) return R.BAD_TRANSFER_ENCODING;
      p = findByte(p, end, 0x2c);
    }
    if (isChunked) chunked = true;
    else if (!otherCoding) {
      otherCoding = true;
      otherCodingAt = t0;
    }
    if (p == end) return NONE;
    if (load<u8>(p) != 0x2c) return R.BAD_TRANSFER_ENCODING;
    p = skipOws(p + 1, end);
  }
}

// ---- Connection (RFC 9110 §7.6.1) ----------------------------------------------------

export let connectionClose: bool = false;
export let connectionKeepAlive: bool = false;
export let connectionUpgrade: bool = false;

/** Reads the connection options of one Connection field; unknown options are ignored. */
export function readConnection(p: usize, end: usize): void {
  while (p < end) {
    p = skipOws(p, end);
    const comma = findByte(p, end, 0x2c);
    const t1 = trimOws(p, comma);
    const len = t1 - p;
    if (len == 5 && equalsIgnoreCase(p, 5, "close")) connectionClose = true;
    else if (len == 10 && equalsIgnoreCase(p, 10, "keep-alive")) connectionKeepAlive = true;
    else if (len == 7 && equalsIgnoreCase(p, 7, "upgrade")) connectionUpgrade = true;
    p = comma + 1;
  }
}

// ---- Expect (RFC 9110 §10.1.1) --------------------------------------------------------

/** Whether an Expect value is exactly `100-continue` (any case); anything else is 417. */
export function isContinueExpectation(p: usize, end: usize): bool {
  return equalsIgnoreCase(p, end - p, "100-continue");
}

/** Clears what the readers above accumulate, before each head. */
export function resetFieldValues(): void {
  contentLength = -1;
  chunked = false;
  otherCoding = false;
  connectionClose = false;
  connectionKeepAlive = false;
  connectionUpgrade = false;
}
