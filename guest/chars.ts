// Byte classes and the SIMD scanners the parser spends its time in. Each scanner has a
// scalar twin for builds without SIMD (for hosts and tools that lack it, such as wasm2c).

export const CR: u8 = 0x0d;
export const LF: u8 = 0x0a;
export const SP: u8 = 0x20;
export const HTAB: u8 = 0x09;

// 1 for tchar (RFC 9110 §5.6.2): ALPHA, DIGIT and !#$%&'*+-.^_`|~
const TOKEN = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
  0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

/** Whether `c` is optional whitespace (OWS: SP or HTAB, RFC 9110 §5.6.3). */
// @ts-ignore: decorator
@inline export function isOws(c: u32): bool {
  return c == SP || c == HTAB;
}

/** The first position in [p, end) that isn't OWS. */
export function skipOws(p: usize, end: usize): usize {
  while (p < end && isOws(load<u8>(p))) p++;
  return p;
}

/** `end` moved back over trailing OWS, not before `start`. */
export function trimOws(start: usize, end: usize): usize {
  while (end > start && isOws(load<u8>(end - 1))) end--;
  return end;
}

/** Whether `c` may appear in a token (method, field name, coding, extension name). */
// @ts-ignore: decorator
@inline export function isToken(c: u32): bool {
  return load<u8>(TOKEN + c) != 0;
}

// @ts-ignore: decorator
@inline export function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

/** The value of a hex digit, or -1. */
// @ts-ignore: decorator
@inline export function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** ASCII lower case. */
// @ts-ignore: decorator
@inline export function lower(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}

/**
 * The first position in [p, end) holding a control byte (0x00–0x1F) or DEL, or `end`.
 * Field values and reason phrases are checked with it: HTAB is a control byte the caller
 * accepts and scans past; CR ends the line; anything else is invalid.
 */
export function findControl(p: usize, end: usize): usize {
  if (!ASC_FEATURE_SIMD) {
    while (p < end) {
      const c = load<u8>(p);
      if (c < 0x20 || c == 0x7f) return p;
      p++;
    }
    return end;
  }
  const ctl = i8x16.splat(0x20);
  const del = i8x16.splat(0x7f);
  while (p < end) {
    const v = v128.load(p);
    let m = i8x16.bitmask(v128.or(i8x16.lt_u(v, ctl), i8x16.eq(v, del)));
    const left = end - p;
    if (left < 16) m &= (1 << <i32>left) - 1;
    if (m != 0) return p + ctz(m);
    p += 16;
  }
  return end;
}

/**
 * The first position in [p, end) that cannot be part of a request-target (anything but
 * visible ASCII 0x21–0x7E) or is `#`, or `end`.
 */
export function findTargetEnd(p: usize, end: usize): usize {
  if (!ASC_FEATURE_SIMD) {
    while (p < end) {
      const c = load<u8>(p);
      if (c < 0x21 || c > 0x7e || c == 0x23) return p;
      p++;
    }
    return end;
  }
  const low = i8x16.splat(0x21);
  const high = i8x16.splat(0x7e);
  const hash = i8x16.splat(0x23);
  while (p < end) {
    const v = v128.load(p);
    const bad = v128.or(v128.or(i8x16.lt_u(v, low), i8x16.gt_u(v, high)), i8x16.eq(v, hash));
    let m = i8x16.bitmask(bad);
    const left = end - p;
    if (left < 16) m &= (1 << <i32>left) - 1;
    if (m != 0) return p + ctz(m);
    p += 16;
  }
  return end;
}

/** The first position in [p, end) holding `byte`, or `end`. */
export function findByte(p: usize, end: usize, byte: u8): usize {
  if (!ASC_FEATURE_SIMD) {
    while (p < end && load<u8>(p) != byte) p++;
    return p;
  }
  const needle = i8x16.splat(byte);
  while (p < end) {
    let m = i8x16.bitmask(i8x16.eq(v128.load(p), needle));
    const left = end - p;
    if (left < 16) m &= (1 << <i32>left) - 1;
    if (m != 0) return p + ctz(m);
    p += 16;
  }
  return end;
}

/** Whether the bytes at `p` equal the lower-case ASCII `name`, ignoring case. */
export function equalsIgnoreCase(p: usize, len: usize, name: string): bool {
  if (<usize>name.length != len) return false;
  for (let i: usize = 0; i < len; i++) {
    if (lower(load<u8>(p + i)) != <u32>name.charCodeAt(<i32>i)) return false;
  }
  return true;
}
