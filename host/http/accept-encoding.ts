/**
 * Reading `Accept-Encoding` (RFC 9110 §12.5.3): the members and their weights, for the
 * conveniences that choose a content coding (compression, precompressed files).
 * @module
 */

/**
 * Accept-Encoding's members, lower-cased, with their q-values: default 1, 0 for "not
 * acceptable", and 0 for a malformed weight (a coding is never chosen on a guess).
 * `x-gzip` is `gzip` (§8.4.1.3); when a coding is listed twice the first mention counts.
 */
export function parseAcceptEncoding(lines: readonly string[]): Map<string, number> {
  const weights = new Map<string, number>();
  for (const member of lines.join(",").split(",")) {
    const [rawName, ...params] = member.split(";");
    const name = rawName!.trim().toLowerCase();
    if (name === "") continue;
    let q = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/i.exec(param);
      if (m) q = Number(m[1]);
      else if (/^\s*q\s*=/i.test(param)) q = 0;
    }
    const key = name === "x-gzip" ? "gzip" : name;
    if (!weights.has(key)) weights.set(key, q);
  }
  return weights;
}
