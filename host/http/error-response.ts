/**
 * How a thrown error becomes the response body: text/plain, or RFC 9457
 * `application/problem+json` when the client's Accept prefers JSON.
 * @module
 */
import { Glitch } from "./glitch.js";
import { statusText } from "./status-text.js";

/** An error response ready to be written. */
export interface ErrorResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  contentType: string;
  body: string;
}

/**
 * Renders `error` for a client that sent `accept` (undefined: no Accept field, or no
 * request could be read). A Glitch keeps its status, headers and message; anything else is
 * a 500 whose cause is disclosed only when `verbose`. With `format` "problem+json" every
 * client gets problem+json, whatever it accepts; with "prefer-json" every client that
 * doesn't prefer text (see {@link prefersText}) does.
 */
export function renderError(error: unknown, accept: string | undefined, verbose: boolean, format: "negotiate" | "problem+json" | "prefer-json" = "negotiate"): ErrorResponse {
  const glitch = error instanceof Glitch ? error : undefined;
  const status = glitch?.status ?? 500;
  const message = glitch?.message ?? statusText(500);
  const cause = verbose ? describe(glitch ? glitch.cause : error) : undefined;
  const headers = { ...glitch?.headers };
  const extensions = glitch?.extensions;
  if (format === "problem+json") return problemJson(status, message, cause, headers, extensions);
  if (format === "prefer-json") {
    // JSON unless the client asks for text: the body depends on Accept, absent or not.
    appendVaryAccept(headers);
    if (accept !== undefined && prefersText(accept)) return { status, headers, contentType: "text/plain; charset=utf-8", body: textBody(message, cause) };
    return problemJson(status, message, cause, headers, extensions);
  }
  if (accept === undefined) return { status, headers, contentType: "text/plain; charset=utf-8", body: textBody(message, cause) };
  appendVaryAccept(headers);
  if (!prefersJson(accept)) return { status, headers, contentType: "text/plain; charset=utf-8", body: textBody(message, cause) };
  return problemJson(status, message, cause, headers, extensions);
}

/** The body depends on Accept, so a cache must not reuse it for another Accept. */
function appendVaryAccept(headers: Record<string, string>): void {
  const vary = Object.keys(headers).find((name) => name.toLowerCase() === "vary") ?? "Vary";
  headers[vary] = headers[vary] ? `${headers[vary]}, Accept` : "Accept";
}

function problemJson(status: number, message: string, cause: string | undefined, headers: Record<string, string>, extensions: Readonly<Record<string, unknown>> | undefined): ErrorResponse {
  const problem: Record<string, unknown> = { type: "about:blank", title: statusText(status), status, detail: message };
  if (cause !== undefined) problem["cause"] = cause;
  // Extension members after the standard ones (RFC 9457 §3.2), which they never replace.
  for (const [name, value] of Object.entries(extensions ?? {})) if (!(name in problem)) problem[name] = value;
  return { status, headers, contentType: "application/problem+json", body: JSON.stringify(problem) };
}

function textBody(message: string, cause: string | undefined): string {
  return cause === undefined ? `${message}\n` : `${message}\n\ncause: ${cause}\n`;
}

function describe(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) return cause.stack ?? `${cause.name}: ${cause.message}`;
  return String(cause);
}

/** How well one media range matches: its q, and how specific the match was (0: no match). */
interface Match {
  q: number;
  specificity: number;
}

/**
 * Whether `accept` ranks JSON (application/problem+json, or application/json, which asks
 * for the same thing) above text/plain. RFC 9110 §12.5.1: each type takes the q of the most
 * specific range that matches it; a tie goes to JSON only when JSON was named more
 * specifically (`application/json, *\/*` prefers JSON; `*\/*` alone doesn't).
 */
export function prefersJson(accept: string): boolean {
  let json: Match = { q: 0, specificity: 0 };
  let text: Match = { q: 0, specificity: 0 };
  for (const range of parseAccept(accept)) {
    json = better(json, range, jsonSpecificity(range.type, range.subtype));
    text = better(text, range, textSpecificity(range.type, range.subtype));
  }
  if (json.q !== text.q) return json.q > text.q;
  return json.q > 0 && json.specificity > text.specificity;
}

/**
 * Whether `accept` ranks text (text/plain, text/html, text/*) above JSON: the
 * `"prefer-json"` format's test. A tie goes to text only when text was named more
 * specifically (`text/html, *\/*` prefers text; `*\/*` alone doesn't).
 */
export function prefersText(accept: string): boolean {
  let json: Match = { q: 0, specificity: 0 };
  let text: Match = { q: 0, specificity: 0 };
  for (const range of parseAccept(accept)) {
    json = better(json, range, jsonSpecificity(range.type, range.subtype));
    const readable = range.type === "text" && range.subtype === "html" ? 3 : textSpecificity(range.type, range.subtype);
    text = better(text, range, readable);
  }
  if (json.q !== text.q) return text.q > json.q;
  return text.q > 0 && text.specificity > json.specificity;
}

function better(current: Match, range: MediaRange, specificity: number): Match {
  return specificity > current.specificity ? { q: range.q, specificity } : current;
}

function jsonSpecificity(type: string, subtype: string): number {
  if (type === "application" && (subtype === "problem+json" || subtype === "json")) return 3;
  if (type === "application" && subtype === "*") return 2;
  return type === "*" && subtype === "*" ? 1 : 0;
}

function textSpecificity(type: string, subtype: string): number {
  if (type === "text" && subtype === "plain") return 3;
  if (type === "text" && subtype === "*") return 2;
  return type === "*" && subtype === "*" ? 1 : 0;
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

/** The media ranges of an Accept value; malformed elements are skipped. */
function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const element of accept.split(",")) {
    const [mediaType = "", ...params] = element.split(";");
    const slash = mediaType.indexOf("/");
    if (slash <= 0) continue;
    const type = mediaType.slice(0, slash).trim().toLowerCase();
    const subtype = mediaType.slice(slash + 1).trim().toLowerCase();
    if (!type || !subtype) continue;
    let q = 1;
    for (const param of params) {
      const [name = "", value = ""] = param.split("=");
      if (name.trim().toLowerCase() !== "q") continue;
      const parsed = Number(value.trim());
      // A weight is 0–1 with at most three decimals (RFC 9110 §12.4.2); anything else is ignored.
      if (/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value.trim())) q = parsed;
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}
