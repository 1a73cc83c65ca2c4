/**
 * Which file a request names under the root, as path segments — or none, when the path
 * could escape the root or is ambiguous. Nothing here touches the file system.
 * @module
 */
import { Glitch } from "../../http/glitch.js";
import type { Request } from "../../http/request.js";

/**
 * The segments below the root a request names (`["css", "site.css"]`; a last `""` means
 * the path ended in `/`), or undefined when it names nothing servable (→ 404).
 *
 * Two inputs are checked, so that a Router's decoded `*rest` is safe to use:
 *
 * 1. The raw path (`req.path`, still percent-encoded), every segment of it: decoded once,
 *    none may be `.` or `..`, contain `/` (an encoded `%2F` would become a separator the
 *    router and the client disagree on), `\` (a separator on Windows), or NUL, and none
 *    but the last may be empty (`//`). A malformed escape is a 400, as in the Router.
 *    Decoding once means `%252e%252e` is the literal name `%2e%2e`, never `..`.
 * 2. The part that names the file: the route parameter `param` when given, else the last
 *    parameter the router set (a catch-all is always a pattern's last), else the whole
 *    decoded path. Its segments get the same checks: it may have been set by code that
 *    isn't the Router.
 *
 * After (1), a Router's `*rest` has a `/` exactly where the raw path had one.
 */
export function requestSegments(req: Request, param: string | undefined): string[] | undefined {
  const raw = req.path;
  if (!raw.startsWith("/")) return undefined;
  const decoded: string[] = [];
  const rawSegments = raw.slice(1).split("/");
  for (let i = 0; i < rawSegments.length; i++) {
    const segment = decodeSegment(rawSegments[i]!);
    if (!segmentIsSafe(segment, i === rawSegments.length - 1)) return undefined;
    decoded.push(segment);
  }
  const routed = routedPart(req, param);
  if (routed === undefined) return decoded;
  const segments = routed.split("/");
  for (let i = 0; i < segments.length; i++) {
    // A routed part may be "" (the route's own directory) or start a path: "a/b".
    if (!segmentIsSafe(segments[i]!, i === segments.length - 1)) return undefined;
  }
  return segments;
}

/** The route parameter naming the file, when the request went through a router (or `param` says which). */
function routedPart(req: Request, param: string | undefined): string | undefined {
  const params = req.params as Record<string, unknown>;
  if (param !== undefined) {
    const value = params[param];
    if (typeof value !== "string") throw new TypeError(`serveStatic: the route has no parameter ${JSON.stringify(param)} (its pattern should end in *${param})`);
    return value;
  }
  const names = Object.keys(params);
  if (names.length === 0) return undefined;
  const value = params[names[names.length - 1]!];
  if (typeof value !== "string") throw new TypeError("serveStatic: the route's last parameter is not a string");
  return value;
}

function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw Glitch.badRequest(`the path segment ${JSON.stringify(segment)} has a malformed percent-encoding`, { cause: error });
  }
}

/**
 * Whether a decoded segment may name a directory entry: not `.`/`..`, no separator of any
 * platform, no NUL (which ends a C string: `a.txt%00.png`), not empty unless last. On
 * Windows also no `:` (a drive, `C:`, or an alternate data stream, `file::$DATA`).
 */
function segmentIsSafe(segment: string, last: boolean): boolean {
  if (segment === "") return last;
  if (segment === "." || segment === "..") return false;
  if (segment.includes("/") || segment.includes("\\") || segment.includes("\0")) return false;
  if (process.platform === "win32" && segment.includes(":")) return false;
  return true;
}

/** Whether any segment is a dotfile or dot-directory name (`.env`, `.git`). */
export function hasDotSegment(segments: readonly string[]): boolean {
  return segments.some((s) => s.startsWith("."));
}
