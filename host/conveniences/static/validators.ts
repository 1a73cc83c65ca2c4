/**
 * Validators (RFC 9110 §8.8) for a file, and the evaluation of the preconditions that
 * compare against them (§13.1, in the order of §13.2.2).
 * @module
 */
import type { BigIntStats } from "node:fs";
import type { Request } from "../../http/request.js";
import { parseHttpDate } from "./http-date.js";

/** A file's validators, as sent in `ETag` and `Last-Modified`. */
export interface Validators {
  /** A strong entity-tag with its quotes (`"1f-18c2a1b3e5f0d2a0"`), or undefined when ETags are off. */
  etag: string | undefined;
  /** The modification time in whole seconds since the epoch (what `Last-Modified` can say), or undefined when off. */
  lastModified: number | undefined;
}

/**
 * The validators of a file. The ETag is **strong**, made of the size, the modification
 * time in nanoseconds and the content coding served: a file rewritten with other bytes
 * gets another mtime (or size), so two responses with the same tag have the same bytes —
 * what a strong validator promises (§8.8.1), and what `If-Range` and `If-Match` need
 * (they only use strong comparison). The one way to break it is to rewrite a file and
 * restore its old mtime on purpose (`touch -r`, some sync tools); turn `etag` off then.
 * Different codings of one file (`.br`, `.gz` siblings) get different tags, as §8.8.3
 * requires of different representations.
 */
export function validatorsOf(stats: BigIntStats, coding: string | undefined, options: { etag: boolean; lastModified: boolean }): Validators {
  const tag = `${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}${coding === undefined ? "" : `-${coding}`}`;
  return {
    etag: options.etag ? `"${tag}"` : undefined,
    lastModified: options.lastModified ? Number(stats.mtimeMs / 1000n) : undefined,
  };
}

/** One member of an entity-tag list. */
interface EntityTag {
  weak: boolean;
  /** The opaque-tag, quotes included. */
  opaque: string;
}

/**
 * The entity-tags of an `If-Match` / `If-None-Match` field (every line, joined as a list):
 * `"*"` for the wildcard, else the well-formed members (a malformed member is skipped: it
 * can match nothing).
 */
export function parseEntityTags(lines: readonly string[]): "*" | EntityTag[] {
  const value = lines.join(",").trim();
  if (value === "*") return "*";
  const tags: EntityTag[] = [];
  // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text
  const member = /\s*(W\/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)/y;
  let at = 0;
  while (at < value.length) {
    member.lastIndex = at;
    const m = member.exec(value);
    if (m) {
      tags.push({ weak: m[1] !== undefined, opaque: m[2]! });
      at = member.lastIndex;
      continue;
    }
    // Not an entity-tag: skip to the next comma.
    const comma = value.indexOf(",", at);
    at = comma < 0 ? value.length : comma + 1;
  }
  return tags;
}

function opaqueOf(etag: string): string {
  return etag.startsWith("W/") ? etag.slice(2) : etag;
}

/** Strong comparison (§8.8.3.2): both strong, same opaque-tag. */
export function strongMatch(tag: EntityTag, current: string | undefined): boolean {
  return current !== undefined && !tag.weak && !current.startsWith("W/") && tag.opaque === current;
}

/** Weak comparison: same opaque-tag, either may be weak. */
function weakMatch(tag: EntityTag, current: string | undefined): boolean {
  return current !== undefined && tag.opaque === opaqueOf(current);
}

/** A date field that must be one HTTP-date; undefined (ignored, as §13.1.3/§13.1.4 say) otherwise. */
function singleDate(lines: readonly string[]): number | undefined {
  return lines.length === 1 ? parseHttpDate(lines[0]!.trim()) : undefined;
}

/** What the preconditions decided. */
export type PreconditionOutcome = "proceed" | "not-modified" | "failed";

/**
 * Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and `If-Modified-Since` in
 * the order of RFC 9110 §13.2.2, for a representation that exists (a file we are about to
 * serve: §13.2.1 says preconditions are ignored when the answer would not be 2xx anyway).
 *
 * - `If-Match` false → `failed` (412); without `If-Match`, `If-Unmodified-Since` false → 412.
 * - `If-None-Match` false → `not-modified` (304) for GET and HEAD, `failed` (412) otherwise.
 * - Without `If-None-Match`, for GET and HEAD, `If-Modified-Since` false → 304.
 *
 * Dates compare in whole seconds, the resolution of `Last-Modified`.
 */
export function evaluatePreconditions(req: Request, current: Validators): PreconditionOutcome {
  const headers = req.headers;
  const safe = req.method === "GET" || req.method === "HEAD";
  const ifMatch = headers.getAll("if-match");
  if (ifMatch.length > 0) {
    const tags = parseEntityTags(ifMatch);
    // "*": true when a current representation exists, which it does here.
    if (tags !== "*" && !tags.some((t) => strongMatch(t, current.etag))) return "failed";
  } else {
    const since = singleDate(headers.getAll("if-unmodified-since"));
    // Without a Last-Modified the condition can't be evaluated: §13.1.4 says ignore it then.
    if (since !== undefined && current.lastModified !== undefined && current.lastModified > since) return "failed";
  }
  const ifNoneMatch = headers.getAll("if-none-match");
  if (ifNoneMatch.length > 0) {
    const tags = parseEntityTags(ifNoneMatch);
    const matches = tags === "*" || tags.some((t) => weakMatch(t, current.etag));
    if (matches) return safe ? "not-modified" : "failed";
  } else if (safe) {
    const since = singleDate(headers.getAll("if-modified-since"));
    if (since !== undefined && current.lastModified !== undefined && current.lastModified <= since) return "not-modified";
  }
  return "proceed";
}

/**
 * `If-Range` (§13.1.5): whether the Range may be honoured. True without the field; with an
 * entity-tag, only on a strong match; with a date, only when it is exactly the
 * `Last-Modified` (a weak tag, a malformed value or an unknown date → false: send it all).
 */
export function ifRangeHolds(req: Request, current: Validators): boolean {
  const lines = req.headers.getAll("if-range");
  if (lines.length === 0) return true;
  if (lines.length > 1) return false;
  const value = lines[0]!.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    const tags = parseEntityTags([value]);
    return tags !== "*" && tags.length === 1 && strongMatch(tags[0]!, current.etag);
  }
  const date = parseHttpDate(value);
  return date !== undefined && current.lastModified !== undefined && date === current.lastModified;
}
