// The chunked transfer coding decoder (RFC 9112 §7.1). Stateless between calls: the
// state comes in as arguments and goes out in the result, in the canonical ABI layout of
// `chunked-outcome`.
import { CR, LF, HTAB, isOws, isToken, hexValue } from "./chars";
import { alloc } from "./arena";
import * as F from "./fields";
import * as R from "./reasons";

// chunked-outcome: discriminant at 0, payload at 8 (chunked-progress has align 8).
const OUT = memory.data(56, 8);
const PROGRESS: u8 = 0;
const INVALID: u8 = 1;
const CONSUMED = 8;
const DATA = 12; // list<span>: ptr, len
const TRAILERS = 20; // list<header>: ptr, len
const PHASE = 32;
const REMAINING = 40;
const TRAILER_BYTES = 48;
const TRAILER_COUNT = 52;

// chunked-phase
const SIZE_LINE: u32 = 0;
const DATA_PHASE: u32 = 1;
const DATA_END: u32 = 2;
const TRAILER_PHASE: u32 = 3;
const DONE: u32 = 4;

/** Most hex digits in a chunk size: 16 fill a u64. */
const MAX_SIZE_DIGITS: usize = 16;

let base: usize = 0;

function reject(reason: u8, at: usize): usize {
  store<u8>(OUT, INVALID);
  R.storeRejection(OUT + 8, reason, <u32>(at - base));
  return OUT;
}

// Size-line results (AssemblyScript has no cheap multi-value return).
let lineSize: u64 = 0;
let lineNext: usize = 0;
let lineFailReason: u8 = 0;
let lineFailAt: usize = 0;
const LINE_OK: i32 = 1;
const LINE_MORE: i32 = 0;
const LINE_FAIL: i32 = -1;

function lineFail(reason: u8, at: usize): i32 {
  lineFailReason = reason;
  lineFailAt = at;
  return LINE_FAIL;
}

/** Parses `chunk-size [ chunk-ext ] CRLF` at `p`. */
function parseSizeLine(p: usize, end: usize, maxExt: usize): i32 {
  const d0 = p;
  let size: u64 = 0;
  while (p < end) {
    const h = hexValue(load<u8>(p));
    if (h < 0) break;
    if (p - d0 == MAX_SIZE_DIGITS) return lineFail(R.CHUNK_SIZE_OVERFLOW, p);
    size = (size << 4) | <u64>h;
    p++;
  }
  if (p >= end) return LINE_MORE;
  if (p == d0) return lineFail(R.BAD_CHUNK_SIZE, p);

  // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ). Too long: the offset is
  // the first byte past the limit, wherever the input was split.
  const e0 = p;
  while (true) {
    while (p < end && isOws(load<u8>(p))) p++;
    if (p - e0 > maxExt) return lineFail(R.CHUNK_EXTENSION_TOO_LONG, e0 + maxExt);
    if (p >= end) return LINE_MORE;
    let c = <u32>load<u8>(p);
    if (c == CR) {
      if (p > e0 && isOws(load<u8>(p - 1))) return lineFail(R.BAD_CHUNK_SIZE, p - 1);
      break;
    }
    // A bare LF ends no line (WIT bad-line-ending, RFC 9112 §7.1: the line ends in CRLF).
    if (c == LF) return lineFail(R.BAD_LINE_ENDING, p);
    if (c != 0x3b) return lineFail(p == e0 ? R.BAD_CHUNK_SIZE : R.BAD_CHUNK_EXTENSION, p);
    p++;
    while (p < end && isOws(load<u8>(p))) p++;
    const n0 = p;
    while (p < end && isToken(load<u8>(p))) p++;
    if (p - e0 > maxExt) return lineFail(R.CHUNK_EXTENSION_TOO_LONG, e0 + maxExt);
    if (p >= end) return LINE_MORE;
    if (p == n0) return lineFail(R.BAD_CHUNK_EXTENSION, p);
    let q = p;
    while (q < end && isOws(load<u8>(q))) q++;
    // Whitespace counts toward the limit too: a run of it must not keep the line open.
    if (q - e0 > maxExt) return lineFail(R.CHUNK_EXTENSION_TOO_LONG, e0 + maxExt);
    if (q >= end) return LINE_MORE;
    if (load<u8>(q) != 0x3d) continue;
    p = q + 1;
    while (p < end && isOws(load<u8>(p))) p++;
    if (p - e0 > maxExt) return lineFail(R.CHUNK_EXTENSION_TOO_LONG, e0 + maxExt);
    if (p >= end) return LINE_MORE;
    c = load<u8>(p);
    if (c == 0x22) {
      // quoted-string: qdtext / quoted-pair, until the closing quote
      p++;
      while (true) {
        if (p - e0 > maxExt) return lineFail(R.CHUNK_EXTENSION_TOO_LONG, e0 + maxExt);
        if (p >= end) return LINE_MORE;
        c = load<u8>(p);
        if (c == 0x22) break;
        if (c == 0x5c) {
          p++;
          if (p >= end) return LINE_MORE;
          c = load<u8>(p);
        }
        if ((c < 0x20 && c != HTAB) || c == 0x7f) return lineFail(R.BAD_CHUNK_EXTENSION, p);
        p++;
      }
      p++;
    } else {
      const v0 = p;
      while (p < end && isToken(load<u8>(p))) p++;
      if (p - e0 > maxExt) return lineFail(R.CHUNK_EXTENSION_TOO_LONG, e0 + maxExt);
      if (p >= end) return LINE_MORE;
      if (p == v0) return lineFail(R.BAD_CHUNK_EXTENSION, p);
    }
  }
  if (p - e0 > maxExt) return lineFail(R.CHUNK_EXTENSION_TOO_LONG, e0 + maxExt);
  if (p + 1 >= end) return LINE_MORE;
  if (load<u8>(p + 1) != LF) return lineFail(R.BAD_LINE_ENDING, p + 1);
  lineSize = size;
  lineNext = p + 2;
  return LINE_OK;
}

/**
 * Bytes of one call's input looked at, at most (or max-head-bytes or
 * max-chunk-extension-length + 1 KiB when larger, so that any line fits): what a call
 * allocates stays bounded whatever the input's size, and the host passes the rest again
 * (`consumed` says where it starts).
 */
const WINDOW: usize = 1 << 20;

/**
 * Decodes as much of a chunked body as the `len` bytes at `buf` hold (up to the window),
 * from the given state; returns the address of the `chunked-outcome`.
 */
export function decodeChunked(
  buf: usize, len: usize,
  phaseIn: u32, remainingIn: u64, trailerBytesIn: u32, trailerCountIn: u32,
  maxHead: u32, maxHeaders: u32, maxExt: u32,
): usize {
  base = buf;
  // Room for the longest line the limits allow (a trailer line, a size line with its
  // extension), so every call with a whole line in its bytes makes progress. In u64: the
  // limits are the host's and may be near 2^32.
  let window = <u64>WINDOW;
  if (<u64>maxHead + 1024 > window) window = <u64>maxHead + 1024;
  if (<u64>maxExt + 1024 > window) window = <u64>maxExt + 1024;
  if (<u64>len > window) len = <usize>window;
  const end = buf + len;
  let phase = phaseIn;
  let remaining = remainingIn;
  let trailerBytes = trailerBytesIn;
  let trailerCount = trailerCountIn;
  // An out-of-range enum can only come from a broken binding, not from request bytes.
  if (phase > DONE) unreachable();

  // The smallest chunk ("1" CRLF byte CRLF) and field line ("a:" CRLF) bound the lists.
  const data = alloc(((len >> 2) + 2) << 3, 4);
  let dataCount: u32 = 0;
  let trailerCap = (len >> 2) + 1;
  if (trailerCap > <usize>maxHeaders) trailerCap = maxHeaders;
  const trailers = alloc(trailerCap << 4, 4);
  let newTrailers: u32 = 0;

  let p = buf;
  while (p < end && phase != DONE) {
    if (phase == SIZE_LINE) {
      const r = parseSizeLine(p, end, maxExt);
      if (r == LINE_MORE) break;
      if (r == LINE_FAIL) return reject(lineFailReason, lineFailAt);
      p = lineNext;
      remaining = lineSize;
      phase = remaining == 0 ? TRAILER_PHASE : DATA_PHASE;
    } else if (phase == DATA_PHASE) {
      const have = <u64>(end - p);
      const n = remaining < have ? <usize>remaining : <usize>have;
      const span = data + (<usize>dataCount << 3);
      store<u32>(span, <u32>(p - buf));
      store<u32>(span, <u32>n, 4);
      dataCount++;
      p += n;
      remaining -= <u64>n;
      if (remaining == 0) phase = DATA_END;
    } else if (phase == DATA_END) {
      if (load<u8>(p) != CR) return reject(R.BAD_CHUNK_TERMINATOR, p);
      if (p + 1 >= end) break;
      if (load<u8>(p + 1) != LF) return reject(R.BAD_CHUNK_TERMINATOR, p + 1);
      p += 2;
      phase = SIZE_LINE;
    } else {
      // As parse-head does: only the section's first max-head-bytes are looked at, so the
      // outcome doesn't depend on how the bytes were split.
      if (trailerBytes > maxHead) return reject(R.HEAD_TOO_LARGE, p);
      const room = <usize>maxHead - <usize>trailerBytes;
      const over = end - p >= room;
      const kind = F.parseFieldLine(p, over ? p + room : end);
      if (kind == F.FAILED) return reject(F.failReason, F.failAt);
      if (kind == F.NEED_MORE) {
        if (over) return reject(R.HEAD_TOO_LARGE, p + room);
        break;
      }
      const lineLen = F.lineEnd - p;
      if (<u64>trailerBytes + <u64>lineLen > <u64>maxHead) return reject(R.HEAD_TOO_LARGE, F.lineEnd);
      trailerBytes += <u32>lineLen;
      if (kind == F.SECTION_END) {
        phase = DONE;
      } else {
        if (trailerCount >= maxHeaders) return reject(R.TOO_MANY_HEADERS, p);
        const entry = trailers + (<usize>newTrailers << 4);
        store<u32>(entry, <u32>(F.nameStart - buf));
        store<u32>(entry, <u32>(F.nameEnd - F.nameStart), 4);
        store<u32>(entry, <u32>(F.valueStart - buf), 8);
        store<u32>(entry, <u32>(F.valueEnd - F.valueStart), 12);
        newTrailers++;
        trailerCount++;
      }
      p = F.lineEnd;
    }
  }

  store<u8>(OUT, PROGRESS);
  store<u32>(OUT + CONSUMED, <u32>(p - buf));
  store<u32>(OUT + DATA, <u32>data);
  store<u32>(OUT + DATA + 4, dataCount);
  store<u32>(OUT + TRAILERS, <u32>trailers);
  store<u32>(OUT + TRAILERS + 4, newTrailers);
  store<u8>(OUT + PHASE, <u8>phase);
  store<u64>(OUT + REMAINING, remaining);
  store<u32>(OUT + TRAILER_BYTES, trailerBytes);
  store<u32>(OUT + TRAILER_COUNT, trailerCount);
  return OUT;
}
