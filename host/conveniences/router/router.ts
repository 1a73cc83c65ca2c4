/**
 * Router: method + path pattern → handler, matched through a tree of segments.
 * @module
 */
import type { Handler } from "../../connection/index.js";
import { Glitch, withoutStack } from "../../http/glitch.js";
import type { Request } from "../../http/request.js";
import type { ResponseWriter } from "../../http/response-writer.js";
import type { ResponseWritten } from "../../http/response-written.js";
import type { Middleware, PlainMiddleware } from "./middleware.js";
import type { PathParams } from "./path-params.js";
import { RouteTree, type Match, type MethodTable, type Target } from "./route-tree.js";

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

/**
 * A route's handler. `P` comes from the pattern; `S` is the router's state type; `A` is what
 * the route's middleware added to the request (`unknown`, nothing, when it has none).
 */
export type RouteHandler<P, S, A = unknown> = (req: RoutedRequest<P, S> & A, res: ResponseWriter) => Promise<ResponseWritten>;

/**
 * Adds a route: `(pattern, handler)`, or `(pattern, ...middleware, handler)` with up to four
 * middleware (compose more into one with {@link compose}). Each middleware must accept the
 * request as the ones before it leave it (the route's typed params and state plus their
 * additions), and the handler sees every addition. A {@link PlainMiddleware} fits anywhere
 * and adds nothing. Returns the router, for chaining.
 *
 * ```ts
 * router.get("/users/:id", auth.required(), async (req, res) => res.setJson({ id: req.params.id, by: req.user.subject }).send());
 * ```
 *
 * @typeParam S - The router's state type.
 * @typeParam This - The router's type (returned for chaining).
 */
export interface AddRoute<S, This> {
  /** A route without middleware. */
  <P extends string>(pattern: P, handler: RouteHandler<PathParams<P>, S>): This;
  /** A route behind one middleware; the handler sees what it adds. */
  <P extends string, A>(pattern: P, m1: Middleware<RoutedRequest<PathParams<P>, S>, A> | PlainMiddleware, handler: RouteHandler<PathParams<P>, S, NoInfer<A>>): This;
  /** A route behind two middleware, outermost first; each sees what the ones before it added. */
  <P extends string, A, B>(
    pattern: P,
    m1: Middleware<RoutedRequest<PathParams<P>, S>, A> | PlainMiddleware,
    m2: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A>, B> | PlainMiddleware,
    handler: RouteHandler<PathParams<P>, S, NoInfer<A & B>>,
  ): This;
  /** A route behind three middleware, outermost first; each sees what the ones before it added. */
  <P extends string, A, B, C>(
    pattern: P,
    m1: Middleware<RoutedRequest<PathParams<P>, S>, A> | PlainMiddleware,
    m2: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A>, B> | PlainMiddleware,
    m3: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A & B>, C> | PlainMiddleware,
    handler: RouteHandler<PathParams<P>, S, NoInfer<A & B & C>>,
  ): This;
  /** A route behind four middleware, outermost first; each sees what the ones before it added. */
  <P extends string, A, B, C, D>(
    pattern: P,
    m1: Middleware<RoutedRequest<PathParams<P>, S>, A> | PlainMiddleware,
    m2: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A>, B> | PlainMiddleware,
    m3: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A & B>, C> | PlainMiddleware,
    m4: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A & B & C>, D> | PlainMiddleware,
    handler: RouteHandler<PathParams<P>, S, NoInfer<A & B & C & D>>,
  ): This;
}

/**
 * Adds a route for a method given first (a token such as `GET`, or `*` for any method);
 * otherwise the same as {@link AddRoute}.
 *
 * @typeParam S - The router's state type.
 * @typeParam This - The router's type (returned for chaining).
 */
export interface AddMethodRoute<S, This> {
  /** A route without middleware. */
  <P extends string>(method: string, pattern: P, handler: RouteHandler<PathParams<P>, S>): This;
  /** A route behind one middleware; the handler sees what it adds. */
  <P extends string, A>(method: string, pattern: P, m1: Middleware<RoutedRequest<PathParams<P>, S>, A> | PlainMiddleware, handler: RouteHandler<PathParams<P>, S, NoInfer<A>>): This;
  /** A route behind two middleware, outermost first; each sees what the ones before it added. */
  <P extends string, A, B>(
    method: string,
    pattern: P,
    m1: Middleware<RoutedRequest<PathParams<P>, S>, A> | PlainMiddleware,
    m2: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A>, B> | PlainMiddleware,
    handler: RouteHandler<PathParams<P>, S, NoInfer<A & B>>,
  ): This;
  /** A route behind three middleware, outermost first; each sees what the ones before it added. */
  <P extends string, A, B, C>(
    method: string,
    pattern: P,
    m1: Middleware<RoutedRequest<PathParams<P>, S>, A> | PlainMiddleware,
    m2: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A>, B> | PlainMiddleware,
    m3: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A & B>, C> | PlainMiddleware,
    handler: RouteHandler<PathParams<P>, S, NoInfer<A & B & C>>,
  ): This;
  /** A route behind four middleware, outermost first; each sees what the ones before it added. */
  <P extends string, A, B, C, D>(
    method: string,
    pattern: P,
    m1: Middleware<RoutedRequest<PathParams<P>, S>, A> | PlainMiddleware,
    m2: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A>, B> | PlainMiddleware,
    m3: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A & B>, C> | PlainMiddleware,
    m4: Middleware<RoutedRequest<PathParams<P>, S> & NoInfer<A & B & C>, D> | PlainMiddleware,
    handler: RouteHandler<PathParams<P>, S, NoInfer<A & B & C & D>>,
  ): This;
}

/**
 * A middleware or a handler as the route methods receive them, types erased (the overloads
 * checked them): something callable. `never` parameters make every middleware and handler
 * assignable to it without `any`.
 */
type Step = (arg: never, res: never) => unknown;

/** What a route stores: the handler, type-erased (the types were checked at registration). */
interface Route extends Target {
  /** The handler wrapped in the route's middleware, outermost first. */
  handler: Handler;
  /**
   * For a route with middleware: that middleware around the automatic OPTIONS answer, run
   * for a CORS preflight asking about this route's method when the path has no OPTIONS
   * route, so that per-route middleware such as `cors()` sees (and answers) its preflights.
   */
  preflight: Handler | undefined;
  /** The pattern it was registered with (`req.route`, with the prefixes of the mounts it was found through). */
  pattern: string;
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
 * - A route may have middleware between its pattern and its handler (see {@link AddRoute}).
 *   They run after matching (so they see `req.params` and `req.state`), outermost first,
 *   and what they add to the request is typed in the handler. They are applied at
 *   registration, not per request, so a route without middleware pays nothing for the
 *   feature. A CORS preflight for a path without an OPTIONS route goes through the
 *   middleware of the route it asks about (`Access-Control-Request-Method`) before the
 *   automatic 204, so a per-route `cors()` answers it (put it first: a middleware before
 *   it that refuses the preflight, which carries no cookies, fails it). For that, each
 *   middleware of a route is applied twice: around the handler and around the automatic
 *   answer.
 *
 * ```ts
 * const api = new Router({ state: { db } })
 *   .get("/users/:id", async (req, res) => res.setJson(await req.state.db.user(req.params.id)).send())
 *   .delete("/users/:id", auth.required(), async (req, res) => {
 *     await req.state.db.remove(req.params.id, { by: req.user.subject });
 *     return res.sendCode(204);
 *   });
 * await serve(api.route);
 * ```
 */
export class Router<S = undefined> {
  readonly #tree = new RouteTree();
  readonly #state: S;
  readonly #methods = new Set<string>();
  /**
   * The result of the lookup under way, reused by every request: each is read right after
   * its lookup, before any other code runs, so one object serves them all.
   */
  readonly #match: Match = { methods: new Map(), target: {}, params: {}, owner: undefined, prefix: undefined };

  constructor(...options: S extends undefined ? [options?: { state?: S }] : [options: { state: S }]) {
    this.#state = options[0]?.state as S;
  }

  // The route methods are properties typed by an overloaded interface (AddRoute), not
  // methods, so the overloads for 0–4 middleware are written once instead of per method.

  /** Adds a route for `method` (a token such as `GET`, or `*` for any method), with optional middleware (see {@link AddMethodRoute}). */
  readonly on: AddMethodRoute<S, this> = (method: string, pattern: string, ...chain: readonly Step[]) => this.#add(method, pattern, chain);
  /** Adds a GET route (HEAD requests run it too when the path has no HEAD route); throws if the path already has one. */
  readonly get: AddRoute<S, this> = (pattern: string, ...chain: readonly Step[]) => this.#add("GET", pattern, chain);
  /** Adds a POST route; throws if the path already has one. */
  readonly post: AddRoute<S, this> = (pattern: string, ...chain: readonly Step[]) => this.#add("POST", pattern, chain);
  /** Adds a PUT route; throws if the path already has one. */
  readonly put: AddRoute<S, this> = (pattern: string, ...chain: readonly Step[]) => this.#add("PUT", pattern, chain);
  /** Adds a PATCH route; throws if the path already has one. */
  readonly patch: AddRoute<S, this> = (pattern: string, ...chain: readonly Step[]) => this.#add("PATCH", pattern, chain);
  /** Adds a DELETE route; throws if the path already has one. */
  readonly delete: AddRoute<S, this> = (pattern: string, ...chain: readonly Step[]) => this.#add("DELETE", pattern, chain);
  /**
   * Adds an OPTIONS route; throws if the path already has one. Without one, OPTIONS gets
   * 204 with `Allow` listing the path's methods.
   */
  readonly options: AddRoute<S, this> = (pattern: string, ...chain: readonly Step[]) => this.#add("OPTIONS", pattern, chain);
  /**
   * Adds a HEAD route, taking precedence over the GET route for HEAD requests; throws if
   * the path already has one. The library sends the head only, whatever body is set.
   */
  readonly head: AddRoute<S, this> = (pattern: string, ...chain: readonly Step[]) => this.#add("HEAD", pattern, chain);
  /** A route for every method (used when the path has no route for the request's method). */
  readonly all: AddRoute<S, this> = (pattern: string, ...chain: readonly Step[]) => this.#add(ANY, pattern, chain);

  #add(method: string, pattern: string, chain: readonly Step[]): this {
    if (method !== ANY && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new Error(`route ${pattern}: ${JSON.stringify(method)} is not a method`);
    // JavaScript callers have no overloads checking them: say at start-up which argument is wrong.
    if (chain.length === 0) throw new TypeError(`route ${pattern}: no handler`);
    chain.forEach((step, i) => {
      if (typeof step !== "function") {
        throw new TypeError(`route ${pattern}: ${i === chain.length - 1 ? "the handler" : `middleware ${i + 1}`} is ${step === null ? "null" : typeof step}, not a function`);
      }
    });
    const table = this.#tree.tableFor(pattern);
    if (table.has(method)) throw new Error(`route ${method === ANY ? "(any method)" : method} ${pattern} is already registered`);
    const middleware = chain.slice(0, -1) as PlainMiddleware[];
    // Wrapped once, here, not per request; a route without middleware stores its handler as is.
    const wrap = (terminal: Handler): Handler => middleware.reduceRight((next, m) => m(next), terminal);
    const route: Route = {
      handler: wrap(chain[chain.length - 1] as Handler),
      preflight: middleware.length === 0 ? undefined : wrap(async (_req, res) => this.#allow(res, allowOf(table)).sendCode(204)),
      pattern,
    };
    table.set(method, route);
    if (method !== ANY) this.#methods.add(method);
    return this;
  }

  /**
   * Routes everything under `prefix` (`/api`, `/orgs/:org`) to `router`, with the prefix
   * removed: its `/users` answers `/api/users`, its `/` answers `/api` and `/api/`. The
   * prefix's parameters reach its handlers too. Routes of this router under the prefix
   * come first.
   */
  mount<T>(prefix: string, router: Router<T>): this {
    if (router.#reaches(this)) throw new Error(`mount ${prefix}: the router being mounted already contains this one (a cycle)`);
    this.#tree.mountAt(prefix, { tree: router.#tree, owner: router, prefix: prefix === "/" ? "" : prefix });
    for (const m of router.#methods) this.#methods.add(m);
    return this;
  }

  /** Whether `other` is this router or mounted somewhere inside it. */
  #reaches(other: object): boolean {
    return this === other || this.#tree.mounted().some((owner) => (owner as Router<unknown>).#reaches(other));
  }

  /**
   * The Handler: serve it, wrap it in middleware, or mount it. It returns the route
   * handler's own promise; the router's 404, 405 and 400 reject the promise it returns.
   */
  readonly route: Handler = (req, res) => {
    try {
      return this.#route(req, res);
    } catch (error) {
      return rejectLater(error);
    }
  };

  /**
   * Dispatches `req`. Its 404 and 405 are returned as rejections rather than thrown (a
   * throw costs more than the rest of a 404); a bad escape and a handler's synchronous
   * throw are thrown, and `route` turns them into rejections.
   */
  #route(req: Request, res: ResponseWriter): Promise<ResponseWritten> {
    const method = req.method;
    const path = req.path;
    if (path === "*" && method === "OPTIONS") return this.#allow(res, this.#allMethods()).sendCode(204);
    if (!path.startsWith("/")) return rejectLater(withoutStack(notFound));
    const encoded = path.includes("%");
    if (encoded) checkEscapes(path);
    // HEAD runs the GET route when no route takes HEAD (nor `*`: the first lookup would
    // have found it, so routeFor only finds GET routes).
    const match = this.#match;
    const found = this.#tree.find(path, encoded, routeFor, method, match) || (method === "HEAD" && this.#tree.find(path, encoded, routeFor, "GET", match));
    if (!found) return this.#miss(req, res, path, encoded);
    const route = match.target as Route;
    req.params = match.params;
    req.state = match.owner === undefined ? this.#state : (match.owner as Router<unknown>).#state;
    // A mounted router's "/" answers the prefix itself: its route is the prefix.
    req.route = match.prefix === undefined ? route.pattern : route.pattern === "/" ? match.prefix || "/" : match.prefix + route.pattern;
    const answer = route.handler(req, res);
    // A handler that isn't `async` may return a plain value: callers get a promise, as from an async router.
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  }

  /**
   * No route for the path and method: 404, or 405 with `Allow` when the path has routes
   * for other methods (looked up only now), or the automatic OPTIONS answer.
   */
  #miss(req: Request, res: ResponseWriter, path: string, encoded: boolean): Promise<ResponseWritten> {
    const any = this.#match;
    if (!this.#tree.find(path, encoded, anyRoute, req.method, any)) return rejectLater(withoutStack(notFound));
    if (req.method === "OPTIONS") {
      const preflight = preflightOf(any.methods, req);
      if (preflight === undefined) return this.#allow(res, allowOf(any.methods)).sendCode(204);
      req.params = any.params;
      req.state = any.owner === undefined ? this.#state : (any.owner as Router<unknown>).#state;
      return preflight(req, res);
    }
    return rejectLater(withoutStack(() => Glitch.methodNotAllowed(allowOf(any.methods))));
  }

  #allow(res: ResponseWriter, methods: readonly string[]): ResponseWriter {
    return res.setHeader("Allow", methods.join(", "));
  }

  #allMethods(): string[] {
    return allowOf(new Map([...this.#methods].map((m) => [m, {}])));
  }
}

/** A path's route for `method` (`*` routes take any). */
function routeFor(table: MethodTable, method: string): Target | undefined {
  return table.get(method) ?? table.get(ANY);
}

/** Any route of a path (the table itself stands for them): whether a miss is a 405 (or an automatic OPTIONS answer) rather than a 404. */
function anyRoute(table: MethodTable): Target | undefined {
  return table.size > 0 ? table : undefined;
}

function notFound(): Glitch {
  return Glitch.notFound();
}

/**
 * A promise rejected with `error` a microtask from now, when the caller has attached its
 * handlers: one rejected before it has any goes through Node's unhandled-rejection
 * bookkeeping, undone when the handler comes (~1.3 µs, more than the rest of a 404).
 */
function rejectLater(error: unknown): Promise<never> {
  // (A reaction on a settled promise: cheaper than queueMicrotask, which wraps its callback.)
  return new Promise((_resolve, reject) => void SETTLED.then(() => reject(error)));
}
const SETTLED = Promise.resolve();

/**
 * For an OPTIONS request that is a CORS preflight: the preflight chain of the route for the
 * method it asks about (HEAD falling back to GET, as HEAD requests do), if that route has middleware.
 */
function preflightOf(table: MethodTable, req: Request): Handler | undefined {
  const asked = req.headers.get("access-control-request-method");
  if (asked === undefined) return undefined;
  const route = (table.get(asked) ?? table.get(ANY) ?? (asked === "HEAD" ? table.get("GET") : undefined)) as Route | undefined;
  return route?.preflight;
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

/** Checks every `%` escape of the path: a malformed one is the client's error (400), wherever it is. */
function checkEscapes(path: string): void {
  for (const s of path.slice(1).split("/")) {
    if (!s.includes("%")) continue;
    try {
      decodeURIComponent(s);
    } catch (error) {
      throw Glitch.badRequest(`the path segment ${JSON.stringify(s)} has a malformed percent-encoding`, { cause: error });
    }
  }
}
