/**
 * The opening handshake's checks (RFC 6455 §4.2.1), made before the connection is taken
 * over, so a refusal is an ordinary Tophat response (framed by the core, logged, counted)
 * and the connection goes on: 426 for a request that isn't a WebSocket handshake, 405 for
 * one that isn't a GET, 426 with `Sec-WebSocket-Version: 13` for another version, 400 for
 * a bad key, 403 for an origin that isn't allowed.
 * @module
 */
import { Glitch } from "../../http/glitch.js";
import type { Request } from "../../http/request.js";

/**
 * Which pages may open a WebSocket here (browsers send their page's `Origin`; a WebSocket
 * isn't subject to CORS, so this check is what stops another site's page from using a
 * visitor's cookies: cross-site WebSocket hijacking):
 * - `"same-origin"` (the default): the Origin's host and port are the request's Host;
 * - `"*"`: any;
 * - a list of origins (`"https://app.example"`), compared exactly (lower-cased);
 * - a function deciding.
 *
 * A request without Origin comes from a client that isn't a browser (which always sends
 * one): it is allowed by every policy but a function, which sees `undefined` and decides.
 */
export type OriginPolicy = "same-origin" | "*" | readonly string[] | ((origin: string | undefined, req: Request) => boolean);

// RFC 6455 §4.1: the key is 16 bytes, base64-encoded (24 characters ending in "==").
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/** The tokens of a comma-separated field, lower-cased. */
function tokens(value: string | undefined): string[] {
  return (value ?? "").split(",").map((t) => t.trim().toLowerCase());
}

/** Whether the Origin is allowed by `policy`. */
function originAllowed(req: Request, policy: OriginPolicy): boolean {
  const origin = req.headers.get("origin");
  if (typeof policy === "function") return policy(origin, req);
  if (origin === undefined || policy === "*") return true;
  if (policy === "same-origin") {
    const host = req.authority ?? req.headers.get("host");
    if (host === undefined) return false;
    try {
      const page = new URL(origin);
      // Parsed with the page's scheme, so a default port written out (":443") compares equal.
      return page.host === new URL(`${page.protocol}//${host}`).host;
    } catch {
      // An Origin that isn't a URL ("null" from a sandboxed page or a file) is no match.
      return false;
    }
  }
  return policy.some((allowed) => allowed.toLowerCase() === origin.toLowerCase());
}

/** Why `req` can't be answered with a WebSocket handshake (the response to send), or undefined. */
export function handshakeRefusal(req: Request, origins: OriginPolicy): Glitch | undefined {
  const upgrade = { Upgrade: "websocket", Connection: "Upgrade" };
  if (!req.parsed.upgrade || !tokens(req.headers.get("upgrade")).includes("websocket")) {
    // RFC 9110 §15.5.22: a 426 names the protocol to switch to.
    return new Glitch(426, "this is a WebSocket endpoint: connect with a WebSocket client", { headers: upgrade });
  }
  if (req.method !== "GET") return new Glitch(405, "a WebSocket handshake is a GET request", { headers: { Allow: "GET" } });
  if (req.httpVersion !== "1.1") return new Glitch(400, "a WebSocket handshake needs HTTP/1.1");
  if (req.headers.get("sec-websocket-version") !== "13") {
    // RFC 6455 §4.2.2: refuse an unknown version, naming the one spoken.
    return new Glitch(426, "this server speaks WebSocket version 13", { headers: { ...upgrade, "Sec-WebSocket-Version": "13" } });
  }
  if (!KEY.test(req.headers.get("sec-websocket-key") ?? "")) {
    return new Glitch(400, "the Sec-WebSocket-Key header is missing or isn't 16 bytes in base64");
  }
  if (!originAllowed(req, origins)) return new Glitch(403, "this origin may not open a WebSocket here");
  return undefined;
}
