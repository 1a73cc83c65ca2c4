/**
 * Middleware is function composition: a function from the handler it wraps to a handler.
 * @module
 */
import type { Handler } from "../../connection/index.js";
import type { Request } from "../../http/request.js";
import type { ResponseWriter } from "../../http/response-writer.js";
import type { ResponseWritten } from "../../http/response-written.js";

/**
 * Wraps a handler: runs code before it, after it (the response it returns is the
 * `ResponseWritten`, so "after" means after the bytes went out), or instead of it.
 *
 * ```ts
 * const timing: Middleware = (next) => async (req, res) => {
 *   const written = await next(req, res);
 *   console.log(req.method, req.path, written.status, written.lastByteMs);
 *   return written;
 * };
 * ```
 *
 * Typed middleware says what it needs and what it adds. `In` is the request it accepts:
 * a route may use it only if the route's request fits (`Middleware<RoutedRequest<{ id: string }, unknown>>`
 * only goes on routes whose pattern has `:id`). `Add` is what it adds to the request for
 * whatever comes after it: the route's handler sees `req` with `Add`'s properties,
 * non-optional. The function is generic over the request `R` it is given, so it can only
 * hand `next` that same request, extended (`Object.assign(req, …)`): the route's typed
 * `params` and `state` survive it.
 *
 * ```ts
 * const loadUser: Middleware<RoutedRequest<{ id: string }, AppState>, { account: Account }> = (next) => async (req, res) => {
 *   const account = await req.state.db.account(req.params.id);
 *   if (account === undefined) throw Glitch.notFound(`no account ${req.params.id}`);
 *   return next(Object.assign(req, { account }), res);
 * };
 * router.get("/accounts/:id", loadUser, async (req, res) => res.setJson(req.account).send());
 * ```
 *
 * A plain `Middleware` (`Middleware<Request, unknown>`) accepts any request, adds nothing,
 * and is the same as a function from `Handler` to `Handler`.
 *
 * @typeParam In - The request it accepts (a route's request must be assignable to it).
 * @typeParam Add - What it adds to the request before calling `next`; `unknown` for nothing.
 */
export type Middleware<in In extends Request = Request, out Add = unknown> = <R extends In>(
  next: (req: R & Add, res: ResponseWriter) => Promise<ResponseWritten>,
) => (req: R, res: ResponseWriter) => Promise<ResponseWritten>;

/**
 * Middleware written over plain `Handler`s, `(next: Handler) => Handler`: what `Middleware`
 * was before it had type parameters, and what a function typed that way still is. It is
 * accepted wherever middleware are (routes, {@link compose}), as accepting any request,
 * adding nothing and passing on the request it was given.
 */
export type PlainMiddleware = (next: Handler) => Handler;

/**
 * Composes middleware into one; the first listed is the outermost (runs first, sees the
 * response last). `compose(a, b)(handler)` is `a(b(handler))`. Up to four keep their types:
 * each one must accept what the ones before it leave, and the result adds what they all
 * add. More compose as a plain `Middleware`.
 *
 * ```ts
 * const admins = compose(auth.required(), role("admin"));   // role() can rely on req.user
 * router.delete("/users/:id", admins, removeUser);
 * ```
 */
export function compose<I extends Request, A>(a: Middleware<I, A> | PlainMiddleware): Middleware<I, A>;
/** Two middleware: `b` sees what `a` added. */
export function compose<I extends Request, A, B>(a: Middleware<I, A> | PlainMiddleware, b: Middleware<NoInfer<I & A>, B> | PlainMiddleware): Middleware<I, A & B>;
/** Three middleware, each seeing what the ones before it added. */
export function compose<I extends Request, A, B, C>(
  a: Middleware<I, A> | PlainMiddleware,
  b: Middleware<NoInfer<I & A>, B> | PlainMiddleware,
  c: Middleware<NoInfer<I & A & B>, C> | PlainMiddleware,
): Middleware<I, A & B & C>;
/** Four middleware, each seeing what the ones before it added. */
export function compose<I extends Request, A, B, C, D>(
  a: Middleware<I, A> | PlainMiddleware,
  b: Middleware<NoInfer<I & A>, B> | PlainMiddleware,
  c: Middleware<NoInfer<I & A & B>, C> | PlainMiddleware,
  d: Middleware<NoInfer<I & A & B & C>, D> | PlainMiddleware,
): Middleware<I, A & B & C & D>;
/** Any number of middleware, composed as a plain `Middleware` (their additions are not typed). */
export function compose(...middleware: readonly (Middleware | PlainMiddleware)[]): Middleware;
export function compose(...middleware: readonly PlainMiddleware[]): Middleware {
  // Typed as a generic Middleware on the word of its parts: each passes on the request it
  // was given (what a plain middleware is trusted to do, see PlainMiddleware).
  const composed: PlainMiddleware = (handler) => middleware.reduceRight((next, wrap) => wrap(next), handler);
  return composed as Middleware;
}
