/**
 * Choosing a precompressed sibling by `Accept-Encoding` (RFC 9110 §12.5.3).
 * @module
 */
import { parseAcceptEncoding } from "../../http/accept-encoding.js";

/** A content coding served from a precompressed sibling file: `br` (`<file>.br`) or `gzip` (`<file>.gz`). */
export type PrecompressedCoding = "br" | "gzip";

/** The file suffix of each coding's sibling. */
export const SIBLING_SUFFIX: Readonly<Record<PrecompressedCoding, string>> = { br: ".br", gzip: ".gz" };

/**
 * The codings of `available` the client accepts, best first: by its q-value (0 means "not
 * acceptable"), then in the server's order. `*` stands for codings it didn't list;
 * `x-gzip` is `gzip` (§8.4.1.3). A coding the client rates below an explicitly listed `identity` is not chosen.
 * Without an Accept-Encoding field the answer is none: RFC 9110 would allow any coding,
 * but a client that says nothing (curl without --compressed) expects the plain bytes.
 */
export function acceptableCodings(lines: readonly string[], available: readonly PrecompressedCoding[]): PrecompressedCoding[] {
  if (lines.length === 0) return [];
  const weights = parseAcceptEncoding(lines);
  // Only an explicit rating of identity competes (an unlisted identity has no q-value).
  const identity = weights.get("identity");
  const qOf = (coding: string): number => weights.get(coding) ?? weights.get("*") ?? 0;
  return available
    .map((coding, order) => ({ coding, order, q: qOf(coding) }))
    .filter((c) => c.q > 0 && (identity === undefined || c.q >= identity))
    .sort((a, b) => b.q - a.q || a.order - b.order)
    .map((c) => c.coding);
}
