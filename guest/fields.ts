// One field line (`name ":" OWS value OWS CRLF`), shared by request heads and chunked
// trailer sections, so both follow exactly the same rules (RFC 9112 §5).
import { CR, LF, HTAB, isOws, isToken, findControl } from "./chars";
import * as R from "./reasons";

/** What `parseFieldLine` found. */
export const FIELD: i32 = 1;
/** The line is the empty line (CRLF) that ends the section. */
export const SECTION_END: i32 = 2;
/** The bytes end before the line does. */
export const NEED_MORE: i32 = 0;
/** The line is invalid: see `failReason` and `failAt`. */
export const FAILED: i32 = -1;

// Results of the last call (AssemblyScript has no cheap multi-value return).
export let nameStart: usize = 0;
export let nameEnd: usize = 0;
export let valueStart: usize = 0;
export let valueEnd: usize = 0;
/** Position just past the line's LF. */
export let lineEnd: usize = 0;
export let failReason: u8 = 0;
export let failAt: usize = 0;

function fail(reason: u8, at: usize): i32 {
  failReason = reason;
  failAt = at;
  return FAILED;
}

/** Parses the field line (or the section's empty line) starting at `p`, within `end`. */
export function parseFieldLine(p: usize, end: usize): i32 {
  if (p >= end) return NEED_MORE;
  let c = <u32>load<u8>(p);
  if (c == CR) {
    if (p + 1 >= end) return NEED_MORE;
    if (load<u8>(p + 1) != LF) return fail(R.BAD_LINE_ENDING, p + 1);
    lineEnd = p + 2;
    return SECTION_END;
  }
  if (c == LF) return fail(R.BAD_LINE_ENDING, p);
  if (isOws(c)) return fail(R.OBS_FOLD, p);

  const n0 = p;
  while (p < end && isToken(load<u8>(p))) p++;
  if (p >= end) return NEED_MORE;
  c = load<u8>(p);
  if (c != 0x3a) {
    if (isOws(c) && p > n0) return fail(R.SPACE_BEFORE_COLON, p);
    return fail(R.BAD_HEADER_NAME, p);
  }
  if (p == n0) return fail(R.BAD_HEADER_NAME, p);
  nameStart = n0;
  nameEnd = p;
  p++;

  while (p < end && isOws(load<u8>(p))) p++;
  const v0 = p;
  let q = findControl(p, end);
  while (q < end && load<u8>(q) == HTAB) q = findControl(q + 1, end);
  if (q >= end) return NEED_MORE;
  c = load<u8>(q);
  if (c == CR) {
    if (q + 1 >= end) return NEED_MORE;
    if (load<u8>(q + 1) != LF) return fail(R.BAD_LINE_ENDING, q + 1);
  } else if (c == LF) {
    return fail(R.BAD_LINE_ENDING, q);
  } else {
    return fail(R.BAD_HEADER_VALUE, q);
  }
  let ve = q;
  while (ve > v0 && isOws(load<u8>(ve - 1))) ve--;
  valueStart = v0;
  valueEnd = ve;
  lineEnd = q + 2;
  return FIELD;
}
