/**
 * The router and middleware composition.
 * @module
 */
export { Router, type RoutedRequest, type RouteHandler, type AddRoute, type AddMethodRoute } from "./router.js";
export { compose, type Middleware, type PlainMiddleware } from "./middleware.js";
export type { PathParams } from "./path-params.js";
