/**
 * Middleware is function composition: a function from the handler it wraps to a handler.
 * @module
 */
import type { Handler } from "../../connection/index.js";

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
 */
export type Middleware = (next: Handler) => Handler;

/**
 * Composes middleware into one; the first listed is the outermost (runs first, sees the
 * response last). `compose(a, b)(handler)` is `a(b(handler))`.
 */
export function compose(...middleware: readonly Middleware[]): Middleware {
  return (handler) => middleware.reduceRight((next, wrap) => wrap(next), handler);
}
