/**
 * Router: method + path pattern → handler, matched through a tree of segments.
 * @module
 */
import type { Handler } from "../../connection/index.js";
import { Glitch } from "../../http/glitch.js";
import type { Request } from "../../http/request.js";
import type { ResponseWriter } from "../../http/response-writer.js";
import type { ResponseWritten } from "../../http/response-written.js";
import type { PathParams } from "./path-params.js";
import { RouteTree, segmentsOf, type MethodTable, type Target } from "./route-tree.js";

/** The request a route handler sees: its path parameters and its router's state, typed. */
export type RoutedRequest<P, S> = Request & {
  /**
   * The path parameters the pattern declares, percent-decoded: `/users/:id` gives
   * `{ id: string }`. A `*rest` value is the decoded rest of the path (`%2F` becomes `/`).
   */
  readonly params: P;
  /** The `state` of the router that registered the route (a mounted router's own, not the mounting one's). */
  readonly state: S;
};

/** A route's handler. `P` comes from the pattern; `S` is the router's state type. */
export type RouteHandler<P, S> = (req: RoutedRequest<P, S>, res: ResponseWriter) => Promise<ResponseWritten>;

/** What a route stores: the handler, type-erased (the types were checked at registration). */
interface Route extends Target {
  handler: (req: Request, res: ResponseWriter) => Promise<ResponseWritten>;
}

/** The order methods are listed in `Allow`. */
const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const ANY = "*";

/**
 * Routes requests by method and path.
 *
 * - Patterns are paths of segments: static (`/users`), parameters (`/users/:id`, one
 *   non-empty segment) and a final catch-all (`/files/*path`, the rest of the path, `/`s
 *   included, possibly empty). At every segment static beats parameter beats catch-all,
 *   and a route that has the request's method beats one that doesn't.
 * - Matching is on the percent-decoded path segments (a malformed escape → 400); the
 *   query is not part of it. `/users/` and `/users` are different paths.
 * - Parameter values are percent-decoded, each segment once. A catch-all's value is its
 *   decoded segments joined with `/`, so an encoded `%2F` in the request comes out as a
 *   `/` indistinguishable from a real one, and `%2e%2e` as `..`: `/files/..%2F..%2Fetc`
 *   gives `*path` = `../../etc`. Never join it onto a file-system path; serve files with
 *   `serveStatic`, which re-checks the raw path and the value.
 * - No route for the path → 404; routes for the path but not the method → 405 with
 *   `Allow`; HEAD runs the GET route when there is no HEAD route (the library sends only
 *   the head); OPTIONS without a route → 204 with `Allow`; `OPTIONS *` lists every method.
 * - `state` (typed `S`) is handed to this router's handlers as `req.state`.
 *
 * ```ts
 * const api = new Router({ state: { db } })
 *   .get("/users/:id", async (req, res) => res.setJson(await req.state.db.user(req.params.id)).send());
 * await serve(api.route);
 * ```
 */
export class Router<S = undefined> {
  readonly #tree = new RouteTree();
  readonly #state: S;
  readonly #methods = new Set<string>();

  constructor(...options: S extends undefined ? [options?: { state?: S }] : [options: { state: S }]) {
    this.#state = options[0]?.state as S;
  }

  /** Adds a route for `method` (a token such as `GET`, or `*` for any method). */
  on<P extends string>(method: string, pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    if (method !== ANY && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new Error(`route ${pattern}: ${JSON.stringify(method)} is not a method`);
    const table = this.#tree.tableFor(pattern);
    if (table.has(method)) throw new Error(`route ${method === ANY ? "(any method)" : method} ${pattern} is already registered`);
    const route: Route = { handler: handler as Route["handler"] };
    table.set(method, route);
    if (method !== ANY) this.#methods.add(method);
    return this;
  }

  /** Adds a GET route (HEAD requests run it too when the path has no HEAD route); throws if the path already has one. */
  get<P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    return this.on("GET", pattern, handler);
  }
  /** Adds a POST route; throws if the path already has one. */
  post<P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    return this.on("POST", pattern, handler);
  }
  /** Adds a PUT route; throws if the path already has one. */
  put<P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    return this.on("PUT", pattern, handler);
  }
  /** Adds a PATCH route; throws if the path already has one. */
  patch<P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    return this.on("PATCH", pattern, handler);
  }
  /** Adds a DELETE route; throws if the path already has one. */
  delete<P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    return this.on("DELETE", pattern, handler);
  }
  /**
   * Adds an OPTIONS route; throws if the path already has one. Without one, OPTIONS gets
   * 204 with `Allow` listing the path's methods.
   */
  options<P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    return this.on("OPTIONS", pattern, handler);
  }
  /**
   * Adds a HEAD route, taking precedence over the GET route for HEAD requests; throws if
   * the path already has one. The library sends the head only, whatever body is set.
   */
  head<P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    return this.on("HEAD", pattern, handler);
  }
  /** A route for every method (used when the path has no route for the request's method). */
  all<P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): this {
    return this.on(ANY, pattern, handler);
  }

  /**
   * Routes everything under `prefix` (`/api`, `/orgs/:org`) to `router`, with the prefix
   * removed: its `/users` answers `/api/users`, its `/` answers `/api` and `/api/`. The
   * prefix's parameters reach its handlers too. Routes of this router under the prefix
   * come first.
   */
  mount<T>(prefix: string, router: Router<T>): this {
    if (router.#reaches(this)) throw new Error(`mount ${prefix}: the router being mounted already contains this one (a cycle)`);
    this.#tree.mountAt(prefix, { tree: router.#tree, owner: router });
    for (const m of router.#methods) this.#methods.add(m);
    return this;
  }

  /** Whether `other` is this router or mounted somewhere inside it. */
  #reaches(other: object): boolean {
    return this === other || this.#tree.mounted().some((owner) => (owner as Router<unknown>).#reaches(other));
  }

  /** The Handler: serve it, wrap it in middleware, or mount it. */
  readonly route: Handler = (req, res) => this.#route(req, res);

  async #route(req: Request, res: ResponseWriter): Promise<ResponseWritten> {
    const method = req.method;
    if (req.path === "*" && method === "OPTIONS") return this.#allow(res, this.#allMethods()).sendCode(204);
    if (!req.path.startsWith("/")) throw withoutStack(() => Glitch.notFound());
    const segments = decodeSegments(req.path);
    const match =
      this.#tree.find(segments, (t) => t.has(method) || t.has(ANY)) ??
      (method === "HEAD" ? this.#tree.find(segments, (t) => t.has("GET")) : undefined);
    if (match === undefined) {
      const any = this.#tree.find(segments, (t) => t.size > 0);
      if (any === undefined) throw withoutStack(() => Glitch.notFound());
      const allowed = allowOf(any.methods);
      if (method === "OPTIONS") return this.#allow(res, allowed).sendCode(204);
      throw withoutStack(() => Glitch.methodNotAllowed(allowed));
    }
    const route = (match.methods.get(method) ?? match.methods.get(ANY) ?? match.methods.get("GET")) as Route;
    const params: Record<string, string> = {};
    for (const [name, value] of match.params) params[name] = value;
    req.params = params;
    req.state = match.owner ? (match.owner as Router<unknown>).#state : this.#state;
    return route.handler(req, res);
  }

  #allow(res: ResponseWriter, methods: readonly string[]): ResponseWriter {
    return res.setHeader("Allow", methods.join(", "));
  }

  #allMethods(): string[] {
    return allowOf(new Map([...this.#methods].map((m) => [m, {}])));
  }
}

/**
 * Makes the router's own 404/405 Glitch without capturing a stack trace: the stack would
 * only point into the router, and capturing it is most of a 404's cost (~7 µs → ~2.5 µs),
 * which a flood of requests for missing paths would otherwise make the server pay.
 */
function withoutStack(make: () => Glitch): Glitch {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The `Allow` value for a path's routes: HEAD wherever GET is, OPTIONS always, a stable order. */
function allowOf(table: MethodTable): string[] {
  const methods = new Set(table.has(ANY) ? [...METHOD_ORDER] : [...table.keys(), "OPTIONS"]);
  if (methods.has("GET")) methods.add("HEAD");
  const rank = (m: string): number => {
    const i = METHOD_ORDER.indexOf(m);
    return i === -1 ? METHOD_ORDER.length : i;
  };
  return [...methods].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The path's segments, percent-decoded; a malformed escape is the client's error. */
function decodeSegments(path: string): string[] {
  const segments = segmentsOf(path);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (!s.includes("%")) continue;
    try {
      segments[i] = decodeURIComponent(s);
    } catch (error) {
      throw Glitch.badRequest(`the path segment ${JSON.stringify(s)} has a malformed percent-encoding`, { cause: error });
    }
  }
  return segments;
}
