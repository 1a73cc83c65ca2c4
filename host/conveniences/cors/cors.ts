/**
 * CORS (the Fetch standard's CORS protocol) as middleware.
 * @module
 */
import { Glitch } from "../../http/glitch.js";
import type { Request } from "../../http/request.js";
import type { ResponseWriter } from "../../http/response-writer.js";
import type { Middleware } from "../router/middleware.js";

/** Which origins may read responses: any (`*`), one, a list, or a predicate. */
export type CorsOrigin = "*" | string | readonly string[] | ((origin: string, req: Request) => boolean);

/** Options of {@link cors}. Invalid ones (a malformed origin or token, `*` with credentials) throw when `cors()` is called, not per request. */
export interface CorsOptions {
  /** Allowed origins, as browsers send them (`https://app.example.com`, `http://127.0.0.1:5173`); `"null"` only if listed. */
  origin: CorsOrigin;
  /** Methods a preflight may allow. Default GET, HEAD, POST, PUT, PATCH, DELETE. */
  methods?: readonly string[];
  /** Request headers a preflight may allow (case-insensitive). Default: whatever the browser asks for. */
  allowHeaders?: readonly string[];
  /** Response headers scripts may read besides the CORS-safelisted ones. */
  exposeHeaders?: readonly string[];
  /** Let requests carry cookies and HTTP auth (then the origin is echoed, never `*`). Default false. */
  credentials?: boolean;
  /** Seconds a browser may cache a preflight's answer (whole seconds ≥ 0; browsers cap it). Default: not sent, so browsers cache it 5 s. */
  maxAge?: number;
}

const DEFAULT_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * CORS middleware: answers preflights (OPTIONS with `Access-Control-Request-Method`) itself
 * with 204, and adds `Access-Control-Allow-Origin` (and the credentials and exposed-headers
 * fields) to other responses of an allowed origin — error responses included. A refused
 * origin, method or header gets no CORS fields, so the browser withholds the response.
 * `Vary: Origin` is added whenever the answer depends on the Origin.
 *
 * Around a whole router, or on the routes that need it (then it sees their preflights too:
 * the router runs a preflight through the middleware of the route it asks about):
 *
 * ```ts
 * await serve(cors({ origin: ["https://app.example.com"], credentials: true })(router.route));
 * const partners = cors({ origin: "https://partner.example" });
 * router.put("/shared/:id", partners, async (req, res) => res.setJson({ id: req.params.id }).send());
 * ```
 */
export function cors(options: CorsOptions): Middleware {
  const policy = compile(options);
  return (next) => async (req, res) => {
    const origin = req.headers.get("origin");
    const preflight = req.method === "OPTIONS" && origin !== undefined && req.headers.has("access-control-request-method");
    if (preflight) return answerPreflight(policy, req, res, origin);
    const fields = origin !== undefined && policy.allows(origin, req) ? policy.actualFields(origin) : {};
    if (policy.varies) fields["Vary"] = "Origin";
    for (const [name, value] of Object.entries(fields)) setOrAppendVary(res, name, value);
    try {
      return await next(req, res);
    } catch (error) {
      // The library renders error responses afresh: they need the fields too, or the
      // browser hides the error from the page.
      throw withCorsFields(Glitch.from(error), fields);
    }
  };
}

interface Policy {
  allows(origin: string, req: Request): boolean;
  /** The answer depends on the Origin (anything but a plain `*`). */
  varies: boolean;
  actualFields(origin: string): Record<string, string>;
  methods: ReadonlySet<string>;
  allowHeaders: ReadonlySet<string> | undefined;
  credentials: boolean;
  maxAge: number | undefined;
  anyOrigin: boolean;
}

function compile(o: CorsOptions): Policy {
  const credentials = o.credentials ?? false;
  const anyOrigin = o.origin === "*";
  if (anyOrigin && credentials) {
    throw new TypeError("cors: origin '*' can't be combined with credentials: browsers refuse it; list the origins (or pass a predicate)");
  }
  const allows = originMatcher(o.origin);
  const methods = new Set((o.methods ?? DEFAULT_METHODS).map((m) => checkToken("methods", m)));
  const allowHeaders = o.allowHeaders && new Set(o.allowHeaders.map((h) => checkToken("allowHeaders", h).toLowerCase()));
  const expose = (o.exposeHeaders ?? []).map((h) => checkToken("exposeHeaders", h));
  if (o.maxAge !== undefined && (!Number.isInteger(o.maxAge) || o.maxAge < 0)) throw new RangeError(`cors: maxAge must be whole seconds ≥ 0, got ${o.maxAge}`);
  return {
    allows,
    varies: !anyOrigin,
    methods,
    allowHeaders,
    credentials,
    maxAge: o.maxAge,
    anyOrigin,
    actualFields(origin) {
      const fields: Record<string, string> = { "Access-Control-Allow-Origin": anyOrigin ? "*" : origin };
      if (credentials) fields["Access-Control-Allow-Credentials"] = "true";
      if (expose.length > 0) fields["Access-Control-Expose-Headers"] = expose.join(", ");
      return fields;
    },
  };
}

function checkToken(option: string, value: string): string {
  if (!TOKEN.test(value)) throw new TypeError(`cors: ${option} has ${JSON.stringify(value)}, which is not a token`);
  return value;
}

/** Origins are compared in their serialized form: scheme://host[:port], lower case, no path. */
function originMatcher(origin: CorsOrigin): (origin: string, req: Request) => boolean {
  if (origin === "*") return () => true;
  if (typeof origin === "function") return origin;
  const list = new Set((typeof origin === "string" ? [origin] : origin).map(normalizeConfigured));
  return (o) => list.has(o.toLowerCase());
}

function normalizeConfigured(origin: string): string {
  if (origin === "null") return origin;
  let url: URL;
  try {
    url = new URL(origin);
  } catch (error) {
    throw new TypeError(`cors: ${JSON.stringify(origin)} is not an origin (scheme://host[:port])`, { cause: error });
  }
  if (url.origin === "null" || url.origin !== origin.toLowerCase().replace(/\/$/, "")) {
    throw new TypeError(`cors: ${JSON.stringify(origin)} is not an origin (scheme://host[:port], no path); did you mean ${JSON.stringify(url.origin)}?`);
  }
  return url.origin;
}

async function answerPreflight(policy: Policy, req: Request, res: ResponseWriter, origin: string) {
  const method = req.headers.get("access-control-request-method") ?? "";
  const requested = (req.headers.get("access-control-request-headers") ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== "");
  const vary = [policy.varies ? "Origin" : "", "Access-Control-Request-Method", "Access-Control-Request-Headers"].filter(Boolean).join(", ");
  res.setHeader("Vary", vary);
  const allowed =
    policy.allows(origin, req) &&
    policy.methods.has(method) &&
    requested.every((h) => TOKEN.test(h) && (policy.allowHeaders === undefined || policy.allowHeaders.has(h)));
  if (allowed) {
    res.setHeader("Access-Control-Allow-Origin", policy.anyOrigin ? "*" : origin);
    if (policy.credentials) res.setHeader("Access-Control-Allow-Credentials", "true");
    res.setHeader("Access-Control-Allow-Methods", [...policy.methods].join(", "));
    if (requested.length > 0) res.setHeader("Access-Control-Allow-Headers", requested.join(", "));
    if (policy.maxAge !== undefined) res.setHeader("Access-Control-Max-Age", policy.maxAge);
  }
  return res.sendCode(204);
}

/** `glitch` with the CORS fields added; its own Vary is kept and extended. */
function withCorsFields(glitch: Glitch, fields: Record<string, string>): Glitch {
  const own = Object.entries(glitch.headers).find(([name]) => name.toLowerCase() === "vary")?.[1];
  const vary = fields["Vary"];
  return glitch.withHeaders(own !== undefined && vary !== undefined ? { ...fields, Vary: `${own}, ${vary}` } : fields);
}

/** Sets a field, except Vary, which is appended to (other middleware may vary on other fields). */
function setOrAppendVary(res: ResponseWriter, name: string, value: string): void {
  if (name === "Vary") res.appendHeader(name, value);
  else res.setHeader(name, value);
}
