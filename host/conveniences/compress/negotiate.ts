/**
 * Choosing a content coding by `Accept-Encoding` (RFC 9110 §12.5.3) for {@link compress}.
 * @module
 */
import { parseAcceptEncoding } from "../../http/accept-encoding.js";

/** A content coding {@link compress} can apply: `br`, `gzip`, or `zstd` (where the running Node has zlib's zstd). */
export type CompressCoding = "br" | "gzip" | "zstd";

/**
 * The coding to send, of `available` (the server's preference, best first), or
 * `undefined` for none (identity).
 *
 * - No Accept-Encoding field, or an empty one: none. RFC 9110 would allow any coding
 *   without the field, but a client that says nothing (curl without `--compressed`)
 *   expects the plain bytes; an empty value asks for none.
 * - Each member's q-value (default 1; 0 means "not acceptable"; a malformed weight counts
 *   as 0, so a coding is never chosen on a guess). `*` rates the codings not listed;
 *   `x-gzip` is `gzip` (§8.4.1.3); names are case-insensitive; the first mention counts.
 * - The highest q wins; ties go to the server's order (br before gzip by default).
 * - identity competes only when rated explicitly (by `identity` or `*`): a coding rated
 *   below it is not chosen. At equal q the coding wins (the point is fewer bytes).
 * - When nothing is acceptable, identity is sent even if refused (`identity;q=0`,
 *   `*;q=0`): §12.5.3 lets a server disregard the field, and a 406 for a body the client
 *   could have read uncompressed would help nobody.
 */
export function negotiateCoding(lines: readonly string[], available: readonly CompressCoding[]): CompressCoding | undefined {
  if (lines.length === 0) return undefined;
  const weights = parseAcceptEncoding(lines);
  const star = weights.get("*");
  const identity = weights.get("identity") ?? star;
  let best: CompressCoding | undefined;
  let bestQ = 0;
  for (const coding of available) {
    const q = weights.get(coding) ?? star ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  if (best === undefined || (identity !== undefined && bestQ < identity)) return undefined;
  return best;
}
