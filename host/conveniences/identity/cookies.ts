/**
 * Cookies per RFC 6265: reading a request's Cookie fields, writing Set-Cookie.
 * @module
 */
import type { Request } from "../../http/request.js";
import type { ResponseWriter } from "../../http/response-writer.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** cookie-octet (RFC 6265 §4.1.1): visible ASCII but DQUOTE, comma, semicolon and backslash. */
const COOKIE_OCTETS = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
/** Attribute values (Path, Domain) can't hold a `;` or control bytes. */
const ATTRIBUTE_VALUE = /^[\x20-\x3a\x3c-\x7e]*$/;
/** Browsers keep cookies up to about this size (name, value and attributes). */
const MAX_COOKIE_BYTES = 4096;

/**
 * The cookies a request carries, name → value. Every Cookie field line and every
 * `name=value` pair in it counts; a value wrapped in double quotes loses the quotes;
 * malformed pairs are skipped; when a name repeats, the first wins (RFC 6265 §5.4 sends
 * the most specific path's cookie first).
 */
export function getCookies(req: Request): ReadonlyMap<string, string> {
  return parseCookieFields(req.headers.getAll("cookie"));
}

/** One cookie's value, or undefined. */
export function getCookie(req: Request, name: string): string | undefined {
  return getCookies(req).get(name);
}

/** Parses Cookie field values (see {@link getCookies}). */
export function parseCookieFields(fields: readonly string[]): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const field of fields) {
    for (const pair of field.split(";")) {
      const eq = pair.indexOf("=");
      if (eq === -1) continue;
      const name = pair.slice(0, eq).trim();
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!TOKEN.test(name) || !COOKIE_OCTETS.test(value) || cookies.has(name)) continue;
      cookies.set(name, value);
    }
  }
  return cookies;
}

/** Set-Cookie attributes (RFC 6265 §4.1.2, plus SameSite and Partitioned). */
export interface CookieAttributes {
  /** Seconds until the cookie expires; 0 or less expires it now. */
  maxAge?: number;
  /** When the cookie expires (sent as an HTTP date; `maxAge` wins where both are set). Without either, it is a session cookie. An invalid Date throws. */
  expires?: Date;
  /** Also send the cookie to this domain's subdomains. Default: none (a host-only cookie). */
  domain?: string;
  /** The path the cookie is sent for (and everything below it). Default `/`. */
  path?: string;
  /** Send the cookie over HTTPS only (browsers count http://localhost as secure). Needed by SameSite=None and Partitioned. Default false. */
  secure?: boolean;
  /** Hide the cookie from scripts (`document.cookie`). Default false. */
  httpOnly?: boolean;
  /**
   * Which cross-site requests carry the cookie: `Strict` none, `Lax` top-level navigations,
   * `None` all (needs `secure`, or it throws). Default: not sent (the browser's default applies).
   */
  sameSite?: "Strict" | "Lax" | "None";
  /** CHIPS: a cookie keyed to the top-level site (needs Secure). */
  partitioned?: boolean;
}

/** The Set-Cookie field value for a cookie; throws a TypeError naming the cookie on anything that can't go out. */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`cookie name ${JSON.stringify(name)} is not a token`);
  const bare = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (!COOKIE_OCTETS.test(bare)) {
    throw new TypeError(`cookie ${name}: the value may only hold visible ASCII other than " , ; \\ (encode it, e.g. with encodeURIComponent)`);
  }
  const a = attributes;
  const parts = [`${name}=${value}`];
  if (a.maxAge !== undefined) {
    if (!Number.isInteger(a.maxAge)) throw new TypeError(`cookie ${name}: maxAge must be whole seconds, got ${a.maxAge}`);
    parts.push(`Max-Age=${Math.max(0, a.maxAge)}`);
  }
  if (a.expires !== undefined) {
    if (Number.isNaN(a.expires.getTime())) throw new TypeError(`cookie ${name}: expires is an invalid Date`);
    parts.push(`Expires=${a.expires.toUTCString()}`);
  }
  if (a.domain !== undefined) parts.push(`Domain=${attribute(name, "domain", a.domain)}`);
  parts.push(`Path=${attribute(name, "path", a.path ?? "/")}`);
  if (a.secure) parts.push("Secure");
  if (a.httpOnly) parts.push("HttpOnly");
  if (a.sameSite !== undefined) {
    if (!["Strict", "Lax", "None"].includes(a.sameSite)) throw new TypeError(`cookie ${name}: sameSite must be Strict, Lax or None`);
    if (a.sameSite === "None" && !a.secure) throw new TypeError(`cookie ${name}: SameSite=None needs Secure (browsers drop it otherwise)`);
    parts.push(`SameSite=${a.sameSite}`);
  }
  if (a.partitioned) {
    if (!a.secure) throw new TypeError(`cookie ${name}: Partitioned needs Secure`);
    parts.push("Partitioned");
  }
  const cookie = parts.join("; ");
  if (Buffer.byteLength(cookie) > MAX_COOKIE_BYTES) throw new RangeError(`cookie ${name} is ${Buffer.byteLength(cookie)} bytes; browsers drop cookies over ${MAX_COOKIE_BYTES}`);
  return cookie;
}

function attribute(cookie: string, name: string, value: string): string {
  if (value === "" || !ATTRIBUTE_VALUE.test(value)) throw new TypeError(`cookie ${cookie}: ${name} ${JSON.stringify(value)} can't hold ";" or control characters`);
  return value;
}

/** Adds a Set-Cookie field (other cookies set on `res` stay). */
export function setCookie(res: ResponseWriter, name: string, value: string, attributes?: CookieAttributes): ResponseWriter {
  return res.appendHeader("Set-Cookie", serializeCookie(name, value, attributes));
}

/** Tells the browser to delete a cookie (same name, path and domain it was set with). */
export function clearCookie(res: ResponseWriter, name: string, attributes: Pick<CookieAttributes, "path" | "domain" | "secure" | "httpOnly" | "sameSite" | "partitioned"> = {}): ResponseWriter {
  return setCookie(res, name, "", { ...attributes, maxAge: 0, expires: new Date(0) });
}
