// Response framing (RFC 9112 §4, §6, §7; RFC 9110 §6.4.1, §8.6, §15): status line,
// fields, body framing and connection fields, written in one allocation. Results use the
// canonical ABI layouts of `frame-outcome` and `trailer-outcome`.
import { CR, LF, HTAB, isToken, isDigit, findControl, findByte, skipOws, trimOws, equalsIgnoreCase } from "./chars";
import { alloc } from "./arena";

// frame-error-reason
const BAD_STATUS: u8 = 0;
const BAD_REASON: u8 = 1;
const BAD_HEADER_NAME: u8 = 2;
const BAD_HEADER_VALUE: u8 = 3;
const BAD_CONTENT_LENGTH: u8 = 4;
const BAD_TRANSFER_ENCODING: u8 = 5;
const BODY_NOT_ALLOWED: u8 = 6;

// body-mode
const MODE_NONE: u8 = 0;
const MODE_LENGTH: u8 = 1;
const MODE_CHUNKED: u8 = 2;
const MODE_CLOSE: u8 = 3;

const NO_INDEX: i32 = -1;
const MAX_CONTENT_LENGTH: u64 = 9007199254740991;

// frame-outcome: discriminant at 0, payload at 8 (framed-head has align 8).
const FRAME_OUT = memory.data(40, 8);
// trailer-outcome: discriminant at 0, payload at 4.
const TRAILER_OUT = memory.data(16, 4);
// list<u8> return area of chunk-size-line.
const LINE_OUT = memory.data(8, 4);

/** Writes `frame-error` at `at` (reason u8, option<u32> at +4). */
function storeFrameError(at: usize, reason: u8, index: i32): void {
  store<u8>(at, reason);
  store<u8>(at + 4, index >= 0 ? 1 : 0);
  store<u32>(at + 8, index >= 0 ? <u32>index : 0);
}

function frameError(reason: u8, index: i32): usize {
  store<u8>(FRAME_OUT, 1);
  storeFrameError(FRAME_OUT + 8, reason, index);
  return FRAME_OUT;
}

/** Whether the `len` bytes at `p` are 1*tchar. */
function isTokenBytes(p: usize, len: usize): bool {
  if (len == 0) return false;
  for (let i: usize = 0; i < len; i++) if (!isToken(load<u8>(p + i))) return false;
  return true;
}

/** Whether a field value or reason phrase is free of control bytes (HTAB aside) and DEL. */
function isCleanText(p: usize, len: usize): bool {
  const end = p + len;
  let q = findControl(p, end);
  while (q < end && load<u8>(q) == HTAB) q = findControl(q + 1, end);
  return q == end;
}

/** 1*DIGIT up to 2^53 - 1 as a number, or -1. */
function parseDecimal(p: usize, len: usize): i64 {
  if (len == 0 || len > 16) return -1;
  let v: u64 = 0;
  for (let i: usize = 0; i < len; i++) {
    const c = <u32>load<u8>(p + i);
    if (!isDigit(c)) return -1;
    v = v * 10 + <u64>(c - 0x30);
  }
  return v > MAX_CONTENT_LENGTH ? -1 : <i64>v;
}

/** Whether a Connection value lists `option` (lower case). */
function hasConnectionOption(p: usize, len: usize, option: string): bool {
  const end = p + len;
  while (p < end) {
    p = skipOws(p, end);
    const comma = findByte(p, end, 0x2c);
    if (equalsIgnoreCase(p, trimOws(p, comma) - p, option)) return true;
    p = comma + 1;
  }
  return false;
}

// ---- writing ------------------------------------------------------------------------

let out: usize = 0;

function put(p: usize, len: usize): void {
  memory.copy(out, p, len);
  out += len;
}

function putString(s: string): void {
  for (let i = 0; i < s.length; i++) store<u8>(out++, <u8>s.charCodeAt(i));
}

function putCrlf(): void {
  store<u8>(out++, CR);
  store<u8>(out++, LF);
}

function decimalLength(v: u64): usize {
  let n: usize = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

function putDecimal(v: u64): void {
  const n = decimalLength(v);
  for (let i = n; i > 0; i--) {
    store<u8>(out + i - 1, <u8>(0x30 + v % 10));
    v /= 10;
  }
  out += n;
}

function hexLength(v: u64): usize {
  let n: usize = 1;
  while (v >= 16) {
    v >>= 4;
    n++;
  }
  return n;
}

function putHex(v: u64): void {
  const n = hexLength(v);
  for (let i = n; i > 0; i--) {
    const d = <u32>(v & 15);
    store<u8>(out + i - 1, <u8>(d < 10 ? 0x30 + d : 0x61 + d - 10));
    v >>= 4;
  }
  out += n;
}

// Field entries of list<field>: name ptr, name len, value ptr, value len.
// @ts-ignore: decorator
@inline function nameAt(fields: usize, i: usize): usize { return load<u32>(fields + (i << 4)); }
// @ts-ignore: decorator
@inline function nameLenAt(fields: usize, i: usize): usize { return load<u32>(fields + (i << 4), 4); }
// @ts-ignore: decorator
@inline function valueAt(fields: usize, i: usize): usize { return load<u32>(fields + (i << 4), 8); }
// @ts-ignore: decorator
@inline function valueLenAt(fields: usize, i: usize): usize { return load<u32>(fields + (i << 4), 12); }

/** Returns the index of the first field with a bad name or value as (reason << 24 | index), or -1. */
function checkFields(fields: usize, count: usize): i32 {
  for (let i: usize = 0; i < count; i++) {
    if (!isTokenBytes(nameAt(fields, i), nameLenAt(fields, i))) return (<i32>BAD_HEADER_NAME << 24) | <i32>i;
    if (!isCleanText(valueAt(fields, i), valueLenAt(fields, i))) return (<i32>BAD_HEADER_VALUE << 24) | <i32>i;
  }
  return -1;
}

/**
 * Whether field `i` is left out: a `Connection: keep-alive` set by the application
 * when the connection closes anyway (sending both would contradict).
 */
function isDropped(fields: usize, i: usize, dropKeepAlive: bool): bool {
  return dropKeepAlive
    && equalsIgnoreCase(nameAt(fields, i), nameLenAt(fields, i), "connection")
    && hasConnectionOption(valueAt(fields, i), valueLenAt(fields, i), "keep-alive");
}

function fieldsLength(fields: usize, count: usize, dropKeepAlive: bool): usize {
  let n: usize = 0;
  for (let i: usize = 0; i < count; i++) {
    if (!isDropped(fields, i, dropKeepAlive)) n += nameLenAt(fields, i) + valueLenAt(fields, i) + 4;
  }
  return n;
}

function putFields(fields: usize, count: usize, dropKeepAlive: bool): void {
  for (let i: usize = 0; i < count; i++) {
    if (isDropped(fields, i, dropKeepAlive)) continue;
    put(nameAt(fields, i), nameLenAt(fields, i));
    store<u8>(out++, 0x3a);
    store<u8>(out++, 0x20);
    put(valueAt(fields, i), valueLenAt(fields, i));
    putCrlf();
  }
}

// ---- frame-head -------------------------------------------------------------------------

/** Frames a response head; returns the address of the `frame-outcome`. */
export function frameHead(
  status: u32, hasReason: bool, reasonPtr: usize, reasonLen: usize,
  fields: usize, count: usize,
  hasLength: bool, bodyLength: u64,
  isHead: bool, http10: bool, closeWanted: bool, connect: bool,
  hasDate: bool, datePtr: usize, dateLen: usize,
): usize {
  if (status < 100 || status > 999) return frameError(BAD_STATUS, NO_INDEX);
  // HTTP/1.0 clients don't know interim responses (RFC 9110 §15.2).
  if (status < 200 && http10) return frameError(BAD_STATUS, NO_INDEX);
  if (hasLength && bodyLength > MAX_CONTENT_LENGTH) return frameError(BAD_CONTENT_LENGTH, NO_INDEX);
  if (hasReason && !isCleanText(reasonPtr, reasonLen)) return frameError(BAD_REASON, NO_INDEX);
  if (hasDate && !isCleanText(datePtr, dateLen)) return frameError(BAD_HEADER_VALUE, NO_INDEX);
  const bad = checkFields(fields, count);
  if (bad >= 0) return frameError(<u8>(bad >>> 24), bad & 0xffffff);

  // The fields that interact with framing.
  let userLength: i64 = -1;
  let lengthIndex: i32 = NO_INDEX;
  let encodingIndex: i32 = NO_INDEX;
  let userDate = false;
  let userClose = false;
  let userKeepAlive = false;
  for (let i: usize = 0; i < count; i++) {
    const n = nameAt(fields, i);
    const nl = nameLenAt(fields, i);
    const v = valueAt(fields, i);
    const vl = valueLenAt(fields, i);
    if (equalsIgnoreCase(n, nl, "content-length")) {
      const value = parseDecimal(v, vl);
      if (value < 0 || (userLength >= 0 && value != userLength)) return frameError(BAD_CONTENT_LENGTH, <i32>i);
      userLength = value;
      lengthIndex = <i32>i;
    } else if (equalsIgnoreCase(n, nl, "transfer-encoding")) {
      if (!equalsIgnoreCase(v, vl, "chunked") || encodingIndex >= 0) return frameError(BAD_TRANSFER_ENCODING, <i32>i);
      encodingIndex = <i32>i;
    } else if (equalsIgnoreCase(n, nl, "date")) {
      userDate = true;
    } else if (equalsIgnoreCase(n, nl, "connection")) {
      if (hasConnectionOption(v, vl, "close")) userClose = true;
      if (hasConnectionOption(v, vl, "keep-alive")) userKeepAlive = true;
    }
  }

  const interim = status < 200;
  const noBody = interim || status == 204 || status == 304;
  let mode = MODE_NONE;
  let length: u64 = 0;
  let addLength = false;
  let addChunked = false;
  let close = closeWanted || userClose;

  // A 2xx to CONNECT opens a tunnel (RFC 9110 §9.3.6): no framing fields, no body, and
  // after it the connection carries the tunnel's bytes, not HTTP.
  const tunnel = connect && status >= 200 && status < 300;
  if (tunnel) {
    if (lengthIndex >= 0) return frameError(BODY_NOT_ALLOWED, lengthIndex);
    if (encodingIndex >= 0) return frameError(BODY_NOT_ALLOWED, encodingIndex);
    if (hasLength && bodyLength > 0) return frameError(BODY_NOT_ALLOWED, NO_INDEX);
  }

  if (status == 205 && !tunnel) {
    // 205 has no content (RFC 9110 §15.3.6); it is framed as an empty known-length body.
    if (!hasLength || bodyLength > 0) return frameError(BODY_NOT_ALLOWED, NO_INDEX);
    if (encodingIndex >= 0) return frameError(BODY_NOT_ALLOWED, encodingIndex);
  }
  if (tunnel) {
    close = false;
  } else if (noBody) {
    if (!hasLength || bodyLength > 0) return frameError(BODY_NOT_ALLOWED, NO_INDEX);
    if (encodingIndex >= 0) return frameError(BODY_NOT_ALLOWED, encodingIndex);
    // A 304 may announce the selected representation's length (RFC 9110 §8.6).
    if (lengthIndex >= 0 && status != 304) return frameError(BODY_NOT_ALLOWED, lengthIndex);
    if (lengthIndex >= 0) length = <u64>userLength;
  } else if (hasLength) {
    if (encodingIndex >= 0) return frameError(BAD_TRANSFER_ENCODING, encodingIndex);
    // A HEAD response may announce the length of the body a GET would get, without one.
    const headAnnounces = isHead && bodyLength == 0 && lengthIndex >= 0;
    if (lengthIndex >= 0 && <u64>userLength != bodyLength && !headAnnounces) return frameError(BAD_CONTENT_LENGTH, lengthIndex);
    length = headAnnounces ? <u64>userLength : bodyLength;
    addLength = lengthIndex < 0;
    mode = isHead || length == 0 ? MODE_NONE : MODE_LENGTH;
  } else if (lengthIndex >= 0) {
    // A streamed body whose length the application announced.
    if (encodingIndex >= 0) return frameError(BAD_TRANSFER_ENCODING, encodingIndex);
    length = <u64>userLength;
    mode = isHead || length == 0 ? MODE_NONE : MODE_LENGTH;
  } else if (http10) {
    if (encodingIndex >= 0) return frameError(BAD_TRANSFER_ENCODING, encodingIndex);
    if (!isHead) {
      mode = MODE_CLOSE;
      close = true;
    }
  } else {
    addChunked = encodingIndex < 0;
    mode = isHead ? MODE_NONE : MODE_CHUNKED;
  }
  // Interim responses leave the connection as it is; the final response decides.
  if (interim) close = false;
  const addClose = close && !userClose;
  const dropKeepAlive = close && userKeepAlive;
  const addKeepAlive = !close && http10 && !interim && !tunnel && !userKeepAlive;
  const addDate = hasDate && !userDate && !interim;

  const phrase = hasReason ? "" : defaultReason(status);
  const reasonLength = hasReason ? reasonLen : <usize>phrase.length;

  // Size, then one allocation and straight-line writes.
  let size: usize = 13 + reasonLength + 2 + fieldsLength(fields, count, dropKeepAlive) + 2;
  if (addDate) size += 8 + dateLen;
  if (addLength) size += 18 + decimalLength(length);
  if (addChunked) size += 28;
  if (addClose) size += 19;
  if (addKeepAlive) size += 24;
  const bytes = alloc(size, 1);
  out = bytes;
  putString("HTTP/1.1 ");
  putDecimal(status);
  store<u8>(out++, 0x20);
  if (hasReason) put(reasonPtr, reasonLen);
  else putString(phrase);
  putCrlf();
  if (addDate) {
    putString("Date: ");
    put(datePtr, dateLen);
    putCrlf();
  }
  putFields(fields, count, dropKeepAlive);
  if (addLength) {
    putString("Content-Length: ");
    putDecimal(length);
    putCrlf();
  }
  if (addChunked) putString("Transfer-Encoding: chunked\r\n");
  if (addClose) putString("Connection: close\r\n");
  if (addKeepAlive) putString("Connection: keep-alive\r\n");
  putCrlf();

  store<u8>(FRAME_OUT, 0);
  store<u32>(FRAME_OUT + 8, <u32>bytes);
  store<u32>(FRAME_OUT + 12, <u32>(out - bytes));
  store<u8>(FRAME_OUT + 16, mode);
  store<u64>(FRAME_OUT + 24, length);
  store<u8>(FRAME_OUT + 32, close ? 1 : 0);
  return FRAME_OUT;
}

// ---- chunks -----------------------------------------------------------------------------

/** The chunk-size line for `size` bytes; returns the address of the list<u8>. */
export function chunkSizeLine(size: u64): usize {
  const bytes = alloc(hexLength(size) + 2, 1);
  out = bytes;
  putHex(size);
  putCrlf();
  store<u32>(LINE_OUT, <u32>bytes);
  store<u32>(LINE_OUT + 4, <u32>(out - bytes));
  return LINE_OUT;
}

/** The last chunk with trailer fields; returns the address of the `trailer-outcome`. */
export function lastChunk(fields: usize, count: usize): usize {
  const bad = checkFields(fields, count);
  let reason: u8 = 0;
  let index: i32 = NO_INDEX;
  if (bad >= 0) {
    reason = <u8>(bad >>> 24);
    index = bad & 0xffffff;
  } else {
    // Framing fields can't be trailers (RFC 9110 §6.5.1).
    for (let i: usize = 0; i < count && index < 0; i++) {
      const n = nameAt(fields, i);
      const nl = nameLenAt(fields, i);
      if (equalsIgnoreCase(n, nl, "content-length")) reason = BAD_CONTENT_LENGTH;
      else if (equalsIgnoreCase(n, nl, "transfer-encoding")) reason = BAD_TRANSFER_ENCODING;
      else continue;
      index = <i32>i;
    }
  }
  if (index >= 0) {
    store<u8>(TRAILER_OUT, 1);
    storeFrameError(TRAILER_OUT + 4, reason, index);
    return TRAILER_OUT;
  }
  const bytes = alloc(3 + fieldsLength(fields, count, false) + 2, 1);
  out = bytes;
  putString("0\r\n");
  putFields(fields, count, false);
  putCrlf();
  store<u8>(TRAILER_OUT, 0);
  store<u32>(TRAILER_OUT + 4, <u32>bytes);
  store<u32>(TRAILER_OUT + 8, <u32>(out - bytes));
  return TRAILER_OUT;
}

/** The standard reason phrase (RFC 9110 §15), or empty for unregistered codes. */
function defaultReason(status: u32): string {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    case 511: return "Network Authentication Required";
  }
  return "";
}
