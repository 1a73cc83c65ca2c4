/**
 * The `Range` field (RFC 9110 §14.1.1, §14.2) for byte ranges of a representation of known
 * length. Written here rather than taken from `range-parser`: it is a few lines, and the
 * outcomes must map onto this module's policy (ignore vs 416 vs one range), which
 * range-parser's return codes would have to be translated into anyway.
 * @module
 */

/** An inclusive byte range, as `Content-Range` states it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What to do with a request's Range:
 * - `ignore`: send the whole representation (200) — no Range, another unit, a malformed
 *   field, or several ranges that don't coalesce into one (RFC 9110 §14.2 lets a server
 *   ignore Range; this server doesn't send `multipart/byteranges`);
 * - `unsatisfiable`: 416, with a `Content-Range` that states the size (RFC 9110 §15.5.17);
 * - `range`: 206 with this one range.
 */
export type RangeDecision = { kind: "ignore" } | { kind: "unsatisfiable" } | { kind: "range"; range: ByteRange };

/** More ranges than this in one field are not worth parsing (§14.2 warns of range floods). */
const MAX_RANGES = 100;
const IGNORE: RangeDecision = { kind: "ignore" };

/**
 * Decides a `Range` field for a representation of `size` bytes. `lines` are the field's
 * lines (Range is a singleton: more than one line is ignored).
 */
export function decideRange(lines: readonly string[], size: number): RangeDecision {
  if (lines.length !== 1) return IGNORE;
  const value = lines[0]!;
  const eq = value.indexOf("=");
  if (eq < 0 || value.slice(0, eq).trim().toLowerCase() !== "bytes") return IGNORE;
  const specs = value
    .slice(eq + 1)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== ""); // #rule: empty list elements don't count
  if (specs.length === 0 || specs.length > MAX_RANGES) return IGNORE;
  const satisfiable: ByteRange[] = [];
  for (const spec of specs) {
    const int = /^(\d+)-(\d*)$/.exec(spec);
    if (int) {
      const first = Number(int[1]);
      const last = int[2] === "" ? Infinity : Number(int[2]);
      // last-pos < first-pos makes the int-range, and so the whole field, invalid (§14.1.1).
      if (last < first) return IGNORE;
      if (first < size) satisfiable.push({ start: first, end: Math.min(last, size - 1) });
      continue;
    }
    const suffix = /^-(\d+)$/.exec(spec);
    if (suffix) {
      const length = Number(suffix[1]);
      // A suffix of a zero-length representation is "satisfiable" (§14.1.1) but names no
      // byte Content-Range could state: the whole (empty) representation it is.
      if (length > 0 && size === 0) return IGNORE;
      if (length > 0) satisfiable.push({ start: Math.max(0, size - length), end: size - 1 });
      continue;
    }
    return IGNORE;
  }
  if (satisfiable.length === 0) return { kind: "unsatisfiable" };
  const merged = coalesce(satisfiable);
  return merged.length === 1 ? { kind: "range", range: merged[0]! } : IGNORE;
}

/** Ranges that overlap or touch, merged (§14.2 allows coalescing); sorted by start. */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [{ ...sorted[0]! }];
  for (const r of sorted.slice(1)) {
    const last = out[out.length - 1]!;
    if (r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}
